package mesh

import (
	"math"
	"time"
)

// pingAgg is the pings of one agent towards the destination over a path's time.
type pingAgg struct {
	tests     int     // ping tests
	lossSum   float64 // of their loss percentages
	sent, ans int     // probes, where known
	rtts      []float64
	last      float64
	// History buckets carry no probes: their RTTs come as weighted means and extremes.
	bucketN             int
	bucketSum           float64
	bucketMin, bucketMx float64
}

// pingsOf gathers the pings of agent src in samples taken at or after since while the
// path was taken (owns). A live sample's results are per agent; a history bucket has
// none (InfluxDB aggregated it over the PoP's agents) and counts for every agent, as
// the pair's summary counts it.
func pingsOf(src string, samples []Sample, since time.Time, owns func(time.Time) bool) pingAgg {
	g := pingAgg{last: math.NaN(), bucketMin: math.Inf(1), bucketMx: math.Inf(-1)}
	for _, s := range samples {
		if s.Time.Before(since) || !owns(s.Time) {
			continue
		}
		if len(s.Results) == 0 {
			n := s.TestCount()
			g.tests += n
			g.lossSum += s.LossPct * float64(n)
			if !s.Failed {
				g.bucketN += n
				g.bucketSum += s.AvgRTT * float64(n)
				g.bucketMin, g.bucketMx = math.Min(g.bucketMin, s.MinRTT), math.Max(g.bucketMx, s.MaxRTT)
				g.last = s.AvgRTT
			}
			continue
		}
		for _, r := range s.Results {
			if r.Src != src || !r.Measured() {
				continue
			}
			g.tests++
			g.lossSum += r.LossPct
			g.sent += r.Sent
			for _, p := range r.Probes {
				if p > 0 { // the workshop's convention: 0 is a lost probe
					g.ans++
					g.rtts = append(g.rtts, p)
					g.last = p
				}
			}
		}
	}
	return g
}

// pingRow makes the destination's row of the pings: the same loss as the pair's ping
// summary, RTTs of every ping probe. Without pings the row keeps the trace probes.
func pingRow(h *HopStat, g pingAgg) {
	if g.tests == 0 {
		return
	}
	h.Pings = g.tests
	h.LossPct = g.lossSum / float64(g.tests)
	h.Last, h.Avg, h.Best, h.Worst, h.StdDev = g.last, math.NaN(), math.NaN(), math.NaN(), math.NaN()
	switch {
	case g.sent > 0:
		h.Sent, h.Answered = g.sent, min(g.ans, g.sent)
		if len(g.rtts) > 0 {
			h.Avg, h.StdDev = meanSD(g.rtts)
			h.Best, h.Worst = minMax(g.rtts)
		}
	default:
		// History: the tests stand for the probes (what they were is not kept).
		h.Sent = g.tests
		h.Answered = int(math.Round(float64(g.tests) * (1 - h.LossPct/100)))
		if g.bucketN > 0 {
			h.Avg, h.Best, h.Worst = g.bucketSum/float64(g.bucketN), g.bucketMin, g.bucketMx
		}
	}
}

func minMax(vs []float64) (lo, hi float64) {
	lo, hi = vs[0], vs[0]
	for _, v := range vs[1:] {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	return lo, hi
}
