package probe

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strconv"

	"github.com/meshtop/meshtop/internal/textsafe"
	"github.com/meshtop/meshtop/mesh"
)

// Converting is the edge between an agent's answer and meshtop's model: nothing in an
// answer is trusted. Counts are checked before anything is sized by them (an agent
// answering "sent": 1e15 must not make meshtop allocate), text is sanitised, and every
// converted result goes through Check: a result that fails it becomes the pair's error
// ("implausible value: loss 1e+09 %"), never a cell value and never a recorded point.

// decodeProblem says why an answer could not be decoded: a JSON value of the wrong type
// names its field ("field results.ping.result.sent: want a number, got string "abc""), so
// the agent's operator knows what to fix; anything else is not Scouter JSON at all.
func decodeProblem(err error, resp *http.Response, data []byte) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return textsafe.Message(fmt.Sprintf("answer has a bad field %s: want %s, got %s", te.Field, typeName(te), te.Value))
	}
	return fmt.Sprintf("answer is not Scouter JSON (%s): %s", contentType(resp), snippet(data))
}

func typeName(te *json.UnmarshalTypeError) string {
	if te.Type == nil {
		return "another type"
	}
	switch te.Type.Kind() {
	case reflect.Float64, reflect.Int, reflect.Int64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "an object"
	}
	return te.Type.String()
}

// count reads a count field: a whole number in 0..mesh.MaxProbes, def when absent.
func count(n Num, field string, def int) (int, error) {
	if !n.Valid {
		return def, nil
	}
	if math.IsNaN(n.V) || n.V < 0 || n.V > mesh.MaxProbes {
		return 0, &mesh.ImplausibleError{Field: field, Value: n.V, Why: "want 0.." + strconv.Itoa(mesh.MaxProbes)}
	}
	return int(n.V), nil
}

// small reads an integer field that is only ever small (a TTL, a sequence number, a
// port): def when absent or outside lo..hi, so no conversion of a huge float to int
// (implementation-defined in Go) ever happens; ok says whether it was in range.
func small(n Num, lo, hi, def int) (v int, ok bool) {
	if !n.Valid || math.IsNaN(n.V) || n.V < float64(lo) || n.V > float64(hi) {
		return def, !n.Valid
	}
	return int(n.V), true
}

// pingFromEntry turns one ping entry into a measurement. A per-test message with an empty
// result becomes the pair's error, not a zero that looks like data; so does a result
// with an impossible value.
func pingFromEntry(e PingEntry, base mesh.PingResult, defCount int) mesh.PingResult {
	r, err := pingMeasurement(e, base, defCount)
	if err != nil {
		r = base
		r.Err = textsafe.Message(err.Error())
	}
	return r
}

// errText is a per-test message from the agent, sanitised.
type errText string

func (e errText) Error() string { return string(e) }

func pingMeasurement(e PingEntry, base mesh.PingResult, defCount int) (mesh.PingResult, error) {
	r := base
	res := e.Result
	msg := ""
	if e.Message != nil {
		msg = textsafe.Message(*e.Message)
	}
	if msg != "" && !res.Sent.Valid {
		return r, errText(msg)
	}
	if !res.Sent.Valid && len(res.Replies) == 0 {
		if msg != "" {
			return r, errText(msg)
		}
		return r, errText("agent returned an empty ping result")
	}
	sent, err := count(res.Sent, "sent", defCount)
	if err != nil {
		return r, err
	}
	if len(res.Replies) > mesh.MaxProbes {
		return r, &mesh.ImplausibleError{Field: "replies", Value: float64(len(res.Replies)), Why: "want at most " + strconv.Itoa(mesh.MaxProbes)}
	}
	// sent and the reply count are both bounded now: so is everything sized below.
	replies := slices.Clone(res.Replies)
	seq := func(rp Reply, def int) int { v, _ := small(rp.Seq, 0, mesh.MaxProbes, def); return v }
	slices.SortStableFunc(replies, func(a, b Reply) int { return seq(a, 0) - seq(b, 0) })
	// Place each reply at its sequence number so lost probes stay in position (the
	// workshop's probe_N_rtt_ms keeps 0 in the slot of a lost probe).
	rtts := make([]float64, max(sent, len(replies)))
	for i := range rtts {
		rtts[i] = mesh.Lost
	}
	next := 0
	for _, rp := range replies {
		if !rp.RTTms.Valid || rp.RTTms.V < 0 {
			continue
		}
		i := seq(rp, -1)
		if i < 0 || i >= len(rtts) || rtts[i] != mesh.Lost {
			// Unknown or duplicate sequence numbers: take the next free slot.
			for next < len(rtts) && rtts[next] != mesh.Lost {
				next++
			}
			if next >= len(rtts) {
				continue
			}
			i = next
		}
		rtts[i] = rp.RTTms.V
	}
	loss := -1.0
	if res.Loss.Valid {
		loss = res.Loss.V
		if math.IsNaN(loss) || loss < 0 || loss > 100 {
			return r, &mesh.ImplausibleError{Field: "loss", Value: loss, Unit: "%", Why: "want 0..100"}
		}
	}
	r.DerivePing(sent, rtts, loss)
	if r.Recv == 0 && res.RTT != nil && res.RTT.Avg.Valid && res.RTT.Avg.V > 0 && !res.Failed {
		// An agent that summarises without listing replies: trust its summary (Check
		// below still holds it to min <= avg <= max and sane values).
		r.Failed = false
		r.MinRTT, r.AvgRTT, r.MaxRTT = res.RTT.Min.V, res.RTT.Avg.V, res.RTT.Max.V
		def := int(float64(sent) * (100 - r.LossPct) / 100)
		if r.Recv, err = count(res.Recv, "recv", def); err != nil {
			return r, err
		}
		r.JitterMs, r.JitterPct = 0, 0
	}
	if err := r.Check(); err != nil {
		return r, err
	}
	return r, nil
}

// traceFromEntry turns one traceroute entry into a trace; one with an impossible value
// (a TTL of 1e9, a hop RTT of 1e307, more hops than any path has) becomes the pair's
// error.
func traceFromEntry(e TracerouteEntry, base mesh.TraceResult) mesh.TraceResult {
	t := base
	res := e.Result
	msg := ""
	if e.Message != nil {
		msg = textsafe.Message(*e.Message)
	}
	if msg != "" && len(res.Trace) == 0 {
		t.Err = msg
		return t
	}
	if len(res.Trace) == 0 && res.Dst == "" {
		t.Err = "agent returned an empty traceroute result"
		return t
	}
	if len(res.Trace) > mesh.MaxTTL {
		t.Err = (&mesh.ImplausibleError{Field: "hops", Value: float64(len(res.Trace)), Why: "want at most " + strconv.Itoa(mesh.MaxTTL)}).Error()
		return t
	}
	if res.Proto != "" {
		t.Proto = textsafe.Name(res.Proto)
	}
	t.DPort, _ = small(res.DPort, 0, 65535, t.DPort)
	for _, h := range res.Trace {
		ttl, ok := small(h.TTL, 1, mesh.MaxTTL, 0)
		if !ok || !h.TTL.Valid {
			t = base
			t.Err = (&mesh.ImplausibleError{Field: "hop ttl", Value: h.TTL.Float(math.NaN()), Why: "want 1.." + strconv.Itoa(mesh.MaxTTL)}).Error()
			return t
		}
		asn, ok := small(h.ASN, 0, math.MaxUint32, 0)
		if !ok {
			t = base
			t.Err = (&mesh.ImplausibleError{Field: "hop " + strconv.Itoa(ttl) + " asn", Value: h.ASN.V, Why: "want 0..4294967295"}).Error()
			return t
		}
		hop := mesh.Hop{TTL: ttl, ASN: asn, RTT: h.RTTms.Float(0), NoResponse: h.NoResponse}
		if h.Src != nil {
			hop.Addr = textsafe.Name(*h.Src)
		}
		if h.Hostname != nil {
			if name := textsafe.Name(*h.Hostname); name != hop.Addr {
				hop.Name = name
			}
		}
		if hop.Addr == "" {
			hop.NoResponse = true
		}
		if len(h.Probes) > 0 {
			hop.Probes = make([]mesh.HopProbe, len(h.Probes))
			for i, p := range h.Probes {
				// A probe without an address or an RTT tells nothing: lost.
				if p != nil && p.Src != nil && p.RTTms.Valid {
					if addr := textsafe.Name(*p.Src); addr != "" {
						hop.Probes[i] = mesh.HopProbe{Addr: addr, RTT: p.RTTms.V}
					}
				}
			}
		}
		t.Hops = append(t.Hops, hop)
	}
	t.Failed = res.Failed
	t.DeriveTrace()
	if err := t.Check(); err != nil {
		t = base
		t.Err = err.Error()
	}
	return t
}
