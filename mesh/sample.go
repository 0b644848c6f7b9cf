package mesh

import (
	"math"
	"time"
)

// Pair is a directed PoP pair.
type Pair struct{ Src, Dst string }

// Sample is one sweep's measurement of a PoP pair. When a PoP has several agents, the
// sweep's agent-pair results are folded into one sample (means of the means, min of the
// minima, max of the maxima) and kept in Results so the detail view can show each agent.
type Sample struct {
	Time      time.Time `json:"time"`
	MinRTT    float64   `json:"min_rtt_ms"`
	AvgRTT    float64   `json:"avg_rtt_ms"`
	MaxRTT    float64   `json:"max_rtt_ms"`
	JitterMs  float64   `json:"jitter_ms"`
	JitterPct float64   `json:"jitter_pct"`
	LossPct   float64   `json:"loss_pct"`
	// Failed: no agent pair got a single reply (the workshop's failed=1, latency 0).
	Failed bool `json:"failed"`
	// Tests is how many ping tests the sample stands for when it is a bucket of history
	// (InfluxDB's count); 0 means the tests are its Results (live), or one. See TestCount.
	Tests int `json:"tests,omitempty"`
	// Results are the agent-pair results folded into this sample (live source only;
	// history samples are already aggregated by InfluxDB and leave it empty).
	Results []PingResult `json:"results,omitempty"`
}

// Value picks a metric. Latency and jitter of a failed sample are NaN: a failed test has
// no latency, and the workshop's stored 0 must never pass for a fast link.
func (s Sample) Value(m Metric) float64 {
	if s.Failed && m != Loss {
		return math.NaN()
	}
	switch m {
	case JitterPct:
		return s.JitterPct
	case JitterMs:
		return s.JitterMs
	case Loss:
		return s.LossPct
	}
	return s.AvgRTT
}

// FoldResults folds measured agent-pair results of one sweep into a sample. Results with
// Err are skipped; ok is false when none is left.
func FoldResults(t time.Time, rs []PingResult) (s Sample, ok bool) {
	s.Time = t
	s.MinRTT = math.Inf(1)
	var n, good int
	for _, r := range rs {
		if !r.Measured() {
			continue
		}
		n++
		s.Results = append(s.Results, r)
		s.LossPct += r.LossPct
		if r.Failed {
			continue
		}
		good++
		s.AvgRTT += r.AvgRTT
		s.JitterMs += r.JitterMs
		s.JitterPct += r.JitterPct
		s.MinRTT = math.Min(s.MinRTT, r.MinRTT)
		s.MaxRTT = math.Max(s.MaxRTT, r.MaxRTT)
	}
	if n == 0 {
		return Sample{}, false
	}
	s.LossPct /= float64(n)
	if good == 0 {
		s.Failed = true
		s.MinRTT, s.AvgRTT, s.MaxRTT, s.JitterMs, s.JitterPct = 0, 0, 0, 0, 100
		return s, true
	}
	s.AvgRTT /= float64(good)
	s.JitterMs /= float64(good)
	s.JitterPct /= float64(good)
	return s, true
}
