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
	if s.Failed && !m.CountsFailed() {
		return math.NaN()
	}
	return *m.SampleRef(&s)
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
		for _, m := range Metrics {
			if m.CountsFailed() || !r.Failed {
				*m.SampleRef(&s) += m.Value(r)
			}
		}
		if r.Failed {
			continue
		}
		good++
		s.MinRTT = math.Min(s.MinRTT, r.MinRTT)
		s.MaxRTT = math.Max(s.MaxRTT, r.MaxRTT)
	}
	if n == 0 {
		return Sample{}, false
	}
	s.Failed = good == 0
	if s.Failed {
		s.MinRTT, s.MaxRTT = 0, 0
	}
	for _, m := range Metrics {
		switch v := m.SampleRef(&s); {
		case m.CountsFailed():
			*v /= float64(n)
		case s.Failed:
			*v = m.FailedValue()
		default:
			*v /= float64(good)
		}
	}
	return s, true
}
