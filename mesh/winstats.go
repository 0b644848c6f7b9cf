package mesh

import (
	"math"
	"slices"
)

// winStats keeps what a cell needs of one metric over a pair's window without a pass
// over it: count and sum (mean), and the largest values in descending order, at least as
// many as the nearest-rank p95 reaches into (19 of 360), which also give the max.
//
// Invariant: top holds the len(top) largest values of the window (as a multiset). A value
// leaving the window leaves top if it is there, which keeps the invariant with one value
// less; a new value joins top if top holds every value or the new one is not below top's
// smallest. Top has room for half as many again as p95 needs, so only after many of its values left
// (ties of a loss that repeats, a drop after a peak) is it too short and refilled by one
// pass over the window (rescan). An add costs O(top), a read O(1).
type winStats struct {
	n   int
	sum float64
	top []float32 // descending; cap is 1.5 times the series' kcap
	ops int       // adds since the last exact recount
}

// topNeeded is how many of the largest values nearest-rank percentile p of up to keep
// values can reach.
func topNeeded(keep int, p float64) int {
	k := 1
	for n := 1; n <= keep; n++ {
		k = max(k, n-rankIndex(n, p))
	}
	return k
}

func (w *winStats) add(v float32) {
	if v != v { // NaN: no value (a failed test of a metric that does not count them)
		return
	}
	complete := len(w.top) == w.n
	w.n++
	w.sum += float64(v)
	t := w.top
	if !complete && (len(t) == 0 || v < t[len(t)-1]) {
		return // below every kept value, with larger ones outside top: not among the largest
	}
	if len(t) == cap(t) && v <= t[len(t)-1] {
		return
	}
	i, _ := slices.BinarySearchFunc(t, v, func(a, b float32) int {
		switch {
		case a > b:
			return -1
		case a < b:
			return 1
		}
		return 0
	})
	if len(t) == cap(t) {
		t = t[:len(t)-1]
	}
	w.top = slices.Insert(t, i, v)
}

func (w *winStats) remove(v float32) {
	if v != v {
		return
	}
	w.n--
	w.sum -= float64(v)
	if i := slices.Index(w.top, v); i >= 0 {
		w.top = slices.Delete(w.top, i, i+1)
	}
}

// short reports whether top is too short for the window's p95 (or max).
func (w *winStats) short() bool {
	return w.n > len(w.top) && (len(w.top) == 0 || w.n-1-rankIndex(w.n, 95) >= len(w.top))
}

func (w *winStats) reset() {
	w.n, w.sum, w.top = 0, 0, w.top[:0]
}

func (w *winStats) mean() float64 {
	if w.n == 0 {
		return math.NaN()
	}
	return w.sum / float64(w.n)
}

// percentileFromTop is the j-th largest value (0: the max).
func (w *winStats) percentileFromTop(j int) float64 {
	if w.n == 0 || j >= len(w.top) {
		return math.NaN()
	}
	return float64(w.top[j])
}

// percentile is the nearest-rank percentile, as Percentile computes it over the window.
func (w *winStats) percentile(p float64) float64 {
	if w.n == 0 {
		return math.NaN()
	}
	return w.percentileFromTop(w.n - 1 - rankIndex(w.n, p))
}
