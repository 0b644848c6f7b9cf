package mesh

import "math"

// Lost marks a probe that got no reply in the rtts given to DerivePing.
const Lost = -1.0

// DerivePing fills r's measurement from the per-probe RTTs (ms, in sequence order, Lost
// for a probe without reply) exactly as the workshop's collector computed them (SPEC 6):
// the average is over replies with RTT >= 0; jitter_ms is the mean absolute difference of
// successive RTTs; jitter_pct is jitter_ms / avg * 100; a failed ping (no reply at all)
// has avg 0, jitter 0 and jitter_pct 100. sent may exceed len(rtts) when the agent
// reported only the probes that came back; the missing ones count as lost.
// lossPct < 0 means "compute it"; otherwise the agent's own figure is kept.
//
// sent comes from outside: nothing is sized by it beyond MaxProbes (a hostile "sent":
// 1e15 would otherwise panic in make or exhaust memory). r.Sent keeps the figure, so
// Check reports it as implausible.
func (r *PingResult) DerivePing(sent int, rtts []float64, lossPct float64) {
	if sent < len(rtts) {
		sent = len(rtts)
	}
	r.Sent = sent
	r.Probes = make([]float64, max(len(rtts), min(sent, MaxProbes)))
	var sum, jit float64
	r.Recv = 0
	r.MinRTT, r.MaxRTT = math.Inf(1), 0
	prev := math.NaN()
	for i, v := range rtts {
		if v < 0 || math.IsNaN(v) {
			continue
		}
		r.Probes[i] = v
		r.Recv++
		sum += v
		r.MinRTT = math.Min(r.MinRTT, v)
		r.MaxRTT = math.Max(r.MaxRTT, v)
		if !math.IsNaN(prev) {
			jit += math.Abs(v - prev)
		}
		prev = v
	}
	switch {
	case lossPct >= 0:
		r.LossPct = lossPct
	case sent > 0:
		r.LossPct = float64(sent-r.Recv) / float64(sent) * 100
	default:
		r.LossPct = 100
	}
	if r.Recv == 0 {
		r.Failed = true
		r.MinRTT, r.MaxRTT = 0, 0
		for _, m := range Metrics {
			if !m.CountsFailed() {
				*m.Ref(r) = m.FailedValue()
			}
		}
		return
	}
	r.Failed = false
	r.AvgRTT = sum / float64(r.Recv)
	if r.Recv > 1 {
		r.JitterMs = jit / float64(r.Recv-1)
	} else {
		r.JitterMs = 0
	}
	if r.AvgRTT > 0 {
		r.JitterPct = r.JitterMs / r.AvgRTT * 100
	} else {
		r.JitterPct = 0
	}
}
