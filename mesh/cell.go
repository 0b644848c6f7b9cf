package mesh

import (
	"math"
	"slices"
)

// Cell is a PoP pair reduced over the kept window: every metric under every stat, so a
// view can switch metric or stat without recomputing anything.
type Cell struct {
	// Values[m][s] is metric m reduced by stat s; NaN when there is nothing to reduce.
	Values [numMetrics][numStats]float64
	// Failed[s]: under stat s the pair has only failed tests (Last: the last one failed).
	Failed [numStats]bool
	// Min[m] is metric m's smallest value over the window (over successful tests, for
	// the metrics that skip failed ones), the lower end of the range Max closes; NaN
	// when unknown (the live store keeps it only for a window of one sample).
	Min [numMetrics]float64
	// Samples is how many sweeps measured the pair in the window.
	Samples int
	// Last is the newest sample (zero when Samples is 0).
	Last Sample
	// Err is the newest error for the pair that kept it from being measured (a per-test
	// message, an agent failure); cleared by the next measurement.
	Err string
	// Judged: the cell comes from the live store, which judged the pair test by test
	// (judge.go); Now is that judgement, what the cell says under the last stat, and
	// Values[Loss][Last] is the loss since its rate last changed rather than the
	// newest test's.
	Judged bool
	Now    NowState
}

// EmptyCell is a cell without data.
func EmptyCell() Cell {
	var c Cell
	for m := range c.Min {
		c.Min[m] = math.NaN()
	}
	for m := range c.Values {
		for s := range c.Values[m] {
			c.Values[m][s] = math.NaN()
		}
	}
	return c
}

// Value returns metric m under stat s and whether it stands for failed tests.
func (c *Cell) Value(m Metric, s Stat) (v float64, failed bool) {
	if m.CountsFailed() {
		return c.Values[m][s], false
	}
	return c.Values[m][s], c.Failed[s]
}

// ReduceSamples computes a cell from samples in time order.
func ReduceSamples(samples []Sample) Cell {
	c := EmptyCell()
	c.Samples = len(samples)
	if len(samples) == 0 {
		return c
	}
	c.Last = samples[len(samples)-1]
	vals := make([]float64, 0, len(samples))
	for _, m := range Metrics {
		vals = vals[:0]
		for _, s := range samples {
			if v := s.Value(m); !math.IsNaN(v) {
				vals = append(vals, v)
			}
		}
		if len(vals) > 0 {
			c.Min[m] = slices.Min(vals)
		}
		for _, st := range Stats {
			if st == Last {
				c.Values[m][st] = c.Last.Value(m)
				continue
			}
			c.Values[m][st] = st.Reduce(vals)
		}
	}
	c.Failed[Last] = c.Last.Failed
	allFailed := true
	for _, s := range samples {
		allFailed = allFailed && s.Failed
	}
	for _, st := range Stats[1:] {
		c.Failed[st] = allFailed
	}
	return c
}
