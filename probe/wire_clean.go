package probe

import (
	"fmt"
	"math"

	"github.com/meshtop/meshtop/internal/textsafe"
	"github.com/meshtop/meshtop/mesh"
)

// clean makes a decoded poll answer safe before any of it reaches a mesh value: every
// string the agent wrote (ids, messages, comments, addresses, hostnames, protocol) is
// stripped of control characters and bounded, and an entry whose counts could make us
// allocate without bound (sent 1e15, a trace of a million hops) becomes that test's
// error instead of data.
func (r *TestsResponse) clean() {
	r.Receipt = textsafe.Name(r.Receipt)
	if r.Results == nil {
		return
	}
	for i := range r.Results.Ping {
		e := &r.Results.Ping[i]
		e.ID = textsafe.Name(e.ID)
		e.Message = cleanPtr(e.Message, textsafe.MaxMessage)
		e.Result.Dst = textsafe.Name(e.Result.Dst)
		e.Result.Comment = cleanPtr(e.Result.Comment, textsafe.MaxMessage)
		if why := pingBounds(e.Result); why != "" {
			e.Message = &why
			e.Result = PingResult{Dst: e.Result.Dst}
		}
	}
	for i := range r.Results.Traceroute {
		e := &r.Results.Traceroute[i]
		e.ID = textsafe.Name(e.ID)
		e.Message = cleanPtr(e.Message, textsafe.MaxMessage)
		e.Result.Dst = textsafe.Name(e.Result.Dst)
		e.Result.Proto = textsafe.String(e.Result.Proto, 8)
		e.Result.Comment = cleanPtr(e.Result.Comment, textsafe.MaxMessage)
		for j := range e.Result.Trace {
			h := &e.Result.Trace[j]
			h.Src = cleanPtr(h.Src, textsafe.MaxName)
			h.Hostname = cleanPtr(h.Hostname, textsafe.MaxName)
			for _, p := range h.Probes {
				if p != nil {
					p.Src = cleanPtr(p.Src, textsafe.MaxName)
				}
			}
		}
		if why := traceBounds(e.Result); why != "" {
			e.Message = &why
			e.Result = TracerouteResult{Dst: e.Result.Dst}
		}
	}
}

func cleanPtr(s *string, max int) *string {
	if s == nil {
		return nil
	}
	c := textsafe.String(*s, max)
	return &c
}

// countOK is true for a count field that is absent or a plain, bounded, non-negative
// number.
func countOK(n Num, limit float64) bool {
	return !n.Valid || (!math.IsNaN(n.V) && n.V >= 0 && n.V <= limit)
}

func implausibleCount(field string, n Num) string {
	return (&mesh.ImplausibleError{Field: field, Value: n.V}).Error()
}

// pingBounds names the first count of a ping result that is out of all reason.
func pingBounds(p PingResult) string {
	switch {
	case !countOK(p.Sent, mesh.MaxProbes):
		return implausibleCount("sent", p.Sent)
	case !countOK(p.Recv, mesh.MaxProbes):
		return implausibleCount("recv", p.Recv)
	case len(p.Replies) > mesh.MaxProbes:
		return fmt.Sprintf("implausible value: %d replies", len(p.Replies))
	}
	for _, rp := range p.Replies {
		if !countOK(rp.Seq, mesh.MaxProbes) {
			return implausibleCount("reply seq", rp.Seq)
		}
	}
	return ""
}

// traceBounds names the first count of a traceroute result that is out of all reason.
func traceBounds(t TracerouteResult) string {
	if len(t.Trace) > mesh.MaxTTL {
		return fmt.Sprintf("implausible value: %d hops", len(t.Trace))
	}
	for _, h := range t.Trace {
		if !countOK(h.TTL, mesh.MaxTTL) {
			return implausibleCount("hop ttl", h.TTL)
		}
		if len(h.Probes) > mesh.MaxHopProbes {
			return fmt.Sprintf("implausible value: %d probes at one hop", len(h.Probes))
		}
	}
	return ""
}
