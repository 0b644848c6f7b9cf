package mesh

import "math"

// Verdicts need enough probes: MinVerdictProbes at a hop and at every hop after it
// (SmokePing takes 20 pings per round for the same reason). verdictZ is how many
// standard errors apart two loss rates must be to count as different: random loss of
// 20 probes moves a rate by 10 points and more, which must not read as a verdict.
const (
	MinVerdictProbes = 20
	verdictZ         = 3.0
)

// markVerdicts finds the RTT step and tells path loss from rate limiting, on rows that
// have enough probes (Judged); rows with fewer show their numbers and no verdict.
//
//   - Path loss ("!") is at the first hop that loses while no later hop (the
//     destination included) loses clearly less, the destination loses, and the hop's
//     loss is at least about half the destination's (loss on the way into a router
//     shows once at its own hop, whose answer it makes itself, and twice at the hops
//     after it and the destination, whose answers come back through it).
//   - Rate limiting ("~") is at a hop that loses clearly more than the destination: the
//     excess is the hop's own ICMP answers, not packets it forwards. A hop that never
//     answers is the extreme of it (ICMP filtered).
func (tb *HopTable) markVerdicts() {
	hops := tb.Hops
	prevAvg, best := 0.0, 0.0
	for i := range hops {
		if math.IsNaN(hops[i].Avg) {
			continue
		}
		hops[i].StepMs = hops[i].Avg - prevAvg
		prevAvg = hops[i].Avg
		if hops[i].StepMs > best {
			best, tb.StepTTL = hops[i].StepMs, hops[i].TTL
		}
	}
	n := len(hops)
	if n == 0 {
		return
	}
	// judged[i]: hop i and every later one have enough probes.
	judged := make([]bool, n)
	ok := true
	for i := n - 1; i >= 0; i-- {
		ok = ok && hops[i].Sent >= MinVerdictProbes
		judged[i] = ok
		hops[i].Judged = ok
	}
	dest := hops[n-1] // the destination, or the silent row past the last answer
	lost := func(h HopStat) int { return h.Sent - h.Answered }
	start := -1
	if judged[n-1] && lost(dest) >= 2 {
		half := dest
		half.LossPct /= 2
		for i := range hops {
			if lost(hops[i]) == 0 {
				continue
			}
			if !judged[i] {
				break // a lossy hop without a verdict: where the loss starts is not known yet
			}
			if lessLoss(hops[i], half) {
				continue
			}
			carries := true
			for _, l := range hops[i+1:] {
				if lessLoss(l, hops[i]) {
					carries = false
					break
				}
			}
			if carries {
				start = i
				break
			}
		}
	}
	if start >= 0 {
		tb.LossTTL = hops[start].TTL
	}
	for i := range hops {
		if !judged[i] || lost(hops[i]) == 0 {
			continue
		}
		hops[i].PathLoss = start >= 0 && i >= start
		hops[i].RateLimited = i < n-1 && lessLoss(dest, hops[i])
	}
}

// lessLoss reports whether a loses clearly less than b: a two-proportion z-test on
// their probe counts (a destination row of pings counts ping probes).
func lessLoss(a, b HopStat) bool {
	pa, pb := a.LossPct/100, b.LossPct/100
	if pa >= pb {
		return false
	}
	na, nb := float64(max(a.Sent, 1)), float64(max(b.Sent, 1))
	p := (pa*na + pb*nb) / (na + nb)
	se := math.Sqrt(p * (1 - p) * (1/na + 1/nb))
	if se == 0 {
		return true
	}
	return (pb-pa)/se > verdictZ
}
