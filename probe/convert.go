package probe

import (
	"slices"

	"github.com/meshtop/meshtop/mesh"
)

// pingFromEntry turns one ping entry into a measurement. A per-test message with an empty
// result becomes the pair's error, not a zero that looks like data.
func pingFromEntry(e PingEntry, base mesh.PingResult, count int) mesh.PingResult {
	r := base
	res := e.Result
	if e.Message != nil && *e.Message != "" && !res.Sent.Valid {
		r.Err = *e.Message
		return r
	}
	if !res.Sent.Valid && len(res.Replies) == 0 {
		r.Err = "agent returned an empty ping result"
		if e.Message != nil && *e.Message != "" {
			r.Err = *e.Message
		}
		return r
	}
	sent := res.Sent.Int(count)
	replies := slices.Clone(res.Replies)
	slices.SortStableFunc(replies, func(a, b Reply) int { return a.Seq.Int(0) - b.Seq.Int(0) })
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
		i := rp.Seq.Int(-1)
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
	}
	r.DerivePing(sent, rtts, loss)
	if r.Recv == 0 && res.RTT != nil && res.RTT.Avg.Valid && res.RTT.Avg.V > 0 && !res.Failed {
		// An agent that summarises without listing replies: trust its summary.
		r.Failed = false
		r.MinRTT, r.AvgRTT, r.MaxRTT = res.RTT.Min.V, res.RTT.Avg.V, res.RTT.Max.V
		r.Recv = res.Recv.Int(int(float64(sent) * (100 - r.LossPct) / 100))
		r.JitterMs, r.JitterPct = 0, 0
	}
	return r
}

// traceFromEntry turns one traceroute entry into a trace.
func traceFromEntry(e TracerouteEntry, base mesh.TraceResult) mesh.TraceResult {
	t := base
	res := e.Result
	if e.Message != nil && *e.Message != "" && len(res.Trace) == 0 {
		t.Err = *e.Message
		return t
	}
	if len(res.Trace) == 0 && res.Dst == "" {
		t.Err = "agent returned an empty traceroute result"
		return t
	}
	if res.Proto != "" {
		t.Proto = res.Proto
	}
	t.DPort = res.DPort.Int(t.DPort)
	for _, h := range res.Trace {
		hop := mesh.Hop{TTL: h.TTL.Int(0), ASN: h.ASN.Int(0), RTT: h.RTTms.Float(0), NoResponse: h.NoResponse}
		if h.Src != nil {
			hop.Addr = *h.Src
		}
		if h.Hostname != nil && *h.Hostname != hop.Addr {
			hop.Name = *h.Hostname
		}
		if hop.Addr == "" {
			hop.NoResponse = true
		}
		t.Hops = append(t.Hops, hop)
	}
	t.Failed = res.Failed
	t.DeriveTrace()
	return t
}
