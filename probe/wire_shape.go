package probe

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"github.com/meshtop/meshtop/internal/jsonscan"
	"github.com/meshtop/meshtop/mesh"
)

// A byte cap alone does not bound memory: decoded, an answer can cost ~190x its size
// (8 MiB of `{},` is 2.8 M ping entries of ~180 bytes each, 1.4 GB with one agent).
// So an answer is measured before it is decoded: a counting pass over its bytes checks
// that it holds no more entries than tests were sent, no more replies than probes, no
// more hops than max_ttl and no string longer than maxString, and that it nests no
// deeper than a Scouter answer does. Only then does encoding/json decode it, into a
// size that the limits bound (AnswerLimits.decodedBound).

// AnswerLimits bounds what a poll answer may hold, from what was asked.
type AnswerLimits struct {
	Ping, Traceroute int // entries per test type: the tests of that type sent
	Replies          int // replies per ping entry: the count sent
	Hops             int // hops per traceroute entry: max_ttl
}

// Defaults of the wire when an option is left to the agent (SPEC 4: count up to 20,
// max_ttl up to 32).
const (
	wireMaxCount = 20
	wireMaxTTL   = 32
	// wireMaxHopProbes bounds the probes one hop lists (meshtop's agent's `probes`
	// traceroute option, at most mesh.MaxHopProbes; upstream lists none).
	wireMaxHopProbes = mesh.MaxHopProbes
	maxString        = 8 << 10 // no Scouter string (id, message, hostname) comes near it
	maxShapeDepth    = 32      // a Scouter answer nests 6 deep
	// pollTestsUnknown is the entries allowed by Poll, which does not know what was
	// sent: more than any agent's maximum test count (the workshop's is 30).
	pollTestsUnknown = 100
)

// AnswerLimits is what the answer to this request may hold.
func (r TestRequest) AnswerLimits() AnswerLimits {
	lim := AnswerLimits{Ping: len(r.Ping), Traceroute: len(r.Traceroute), Replies: 1, Hops: 1}
	for _, p := range r.Ping {
		n := wireMaxCount // left to the agent, or clamped by it to its default
		if p.Count != nil && *p.Count > n {
			n = *p.Count
		}
		lim.Replies = max(lim.Replies, n)
	}
	for _, t := range r.Traceroute {
		n := wireMaxTTL
		if t.MaxTTL != nil && *t.MaxTTL > 0 {
			n = *t.MaxTTL
		}
		lim.Hops = max(lim.Hops, n)
	}
	return lim
}

// unknownLimits bound an answer to a request we do not know (Poll).
var unknownLimits = AnswerLimits{Ping: pollTestsUnknown, Traceroute: pollTestsUnknown, Replies: wireMaxCount, Hops: wireMaxTTL}

// maxBytes is the most an honest answer within the limits takes on the wire, with a
// wide margin (an entry with long messages and hostnames, 20 replies of ~60 bytes,
// 32 hops of ~400), never more than maxAnswer.
func (l AnswerLimits) maxBytes() int64 {
	n := int64(16<<10) +
		int64(l.Ping)*(16<<10+int64(l.Replies)*256) +
		int64(l.Traceroute)*(16<<10+int64(l.Hops)*1024)
	return min(n, maxAnswer)
}

// decodedBound is the most the decoded TestsResponse can hold beyond its strings (which
// are at most the answer's bytes): every entry, reply and hop at its Go size.
func (l AnswerLimits) decodedBound() int64 {
	return int64(l.Ping)*int64(unsafe.Sizeof(PingEntry{})+unsafe.Sizeof(RTTSummary{})+
		uintptr(l.Replies)*unsafe.Sizeof(Reply{})) +
		int64(l.Traceroute)*int64(unsafe.Sizeof(TracerouteEntry{})+uintptr(l.Hops)*unsafe.Sizeof(Hop{}))
}

// ShapeError says what an answer held beyond its limits.
type ShapeError struct{ What string }

func (e *ShapeError) Error() string { return e.What + ": not a Scouter answer to the tests sent" }

// node is where in a poll answer the scan is (a jsonscan.Node); only the containers that decode into
// slices are told apart, everything else is skipped by encoding/json unallocated.
type node int

const (
	nOther node = iota
	nTop
	nResults
	nPingList
	nTraceList
	nPingEntry
	nTraceEntry
	nPingResult
	nTraceResult
	nReplies
	nHops
	nHop
	nHopProbes
)

// child is the node of a key's value. encoding/json matches keys case-insensitively
// (and after unescaping), so the scan does too: "RESULTS" or "r\u0065sults" fill the
// same field.
func (n node) child(key string) node {
	is := func(s string) bool { return strings.EqualFold(key, s) }
	switch {
	case n == nTop && is("results"):
		return nResults
	case n == nResults && is("ping"):
		return nPingList
	case n == nResults && is("traceroute"):
		return nTraceList
	case (n == nPingEntry || n == nTraceEntry) && is("result"):
		return n + 2 // nPingResult, nTraceResult
	case n == nPingResult && is("replies"):
		return nReplies
	case n == nTraceResult && is("trace"):
		return nHops
	case n == nHop && is("probes"):
		return nHopProbes
	}
	return nOther
}

// shapeScan counts what a poll answer holds (a jsonscan.Visitor).
type shapeScan struct{ lim AnswerLimits }

// checkShape returns a *ShapeError when data holds more than lim allows.
func checkShape(data []byte, lim AnswerLimits) error {
	err := jsonscan.Walk(data, jsonscan.Node(nTop), jsonscan.Limits{Depth: maxShapeDepth, String: maxString}, shapeScan{lim})
	var se *ShapeError
	if err != nil && !errors.As(err, &se) {
		err = &ShapeError{What: "answer " + err.Error()} // too deep, a string too long
	}
	return err
}

func (s shapeScan) Child(n jsonscan.Node, key string) (jsonscan.Node, error) {
	return jsonscan.Node(node(n).child(key)), nil
}

// Elem counts the entries, replies and hops against their limits.
func (s shapeScan) Elem(n jsonscan.Node, i int) (jsonscan.Node, error) {
	limit, what, elem := -1, "", nOther
	switch node(n) {
	case nPingList:
		limit, what, elem = s.lim.Ping, "ping results for %d ping tests sent", nPingEntry
	case nTraceList:
		limit, what, elem = s.lim.Traceroute, "traceroute results for %d traceroute tests sent", nTraceEntry
	case nReplies:
		limit, what = s.lim.Replies, "replies in one ping of at most %d probes"
	case nHops:
		limit, what, elem = s.lim.Hops, "hops in one traceroute of max_ttl %d", nHop
	case nHopProbes:
		limit, what = wireMaxHopProbes, "probes at one hop (meshtop's agent sends at most %d)"
	}
	if limit >= 0 && i > limit {
		return 0, &ShapeError{What: fmt.Sprintf("answer holds more than %d "+what, limit, limit)}
	}
	return jsonscan.Node(elem), nil
}

func (shapeScan) Value(jsonscan.Node, jsonscan.Kind, []byte) error { return nil }
func (shapeScan) End(jsonscan.Node, jsonscan.Kind, int) error      { return nil }
