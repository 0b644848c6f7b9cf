package mesh

import (
	"math"
	"slices"
)

// winStats keeps what a cell needs of one metric over a pair's window without a pass
// over it: count and sum (mean), and the largest values in descending order, as many
// as the nearest-rank p95 of a full window reaches into (19 of 360), which also give
// the max. A value that leaves the window and was among them makes the series rescan
// (about one add in twenty), so an add costs O(top) and a read O(1).
type winStats struct {
	n   int
	sum float64
	top []float32 // descending; cap is the series' kcap
	ops int       // adds since the last exact recount
	// lostTop: a top value left while the window may hold a replacement.
	lostTop bool
}

// topNeeded is how many of the largest values nearest-rank percentile p of up to keep
// values can reach: kcap for a store's series.
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
	w.n++
	w.sum += float64(v)
	t := w.top
	if len(t) == cap(t) && (len(t) == 0 || v <= t[len(t)-1]) {
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
		if w.n > len(w.top) {
			w.lostTop = true
		}
	}
}

// short reports whether top values must be refilled from the window.
func (w *winStats) short() bool { return w.lostTop }

func (w *winStats) reset() {
	w.n, w.sum, w.top, w.lostTop = 0, 0, w.top[:0], false
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
