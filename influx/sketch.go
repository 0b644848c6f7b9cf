package influx

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/meshtop/meshtop/mesh"
)

// The rollups' histograms: relative-error buckets, log-spaced eight to an octave (bucket
// bounds 2^(i/8), as Prometheus' native histograms of schema 3), in the manner of
// DDSketch. A bucket's p95 is answered with the value whose relative distance to either
// bound is the same, 2·lo·hi/(lo+hi), which is within (γ-1)/(γ+1) = 4.3 % of every value
// in the bucket (γ = 2^(1/8)); the answer is then kept inside the window's [min, max], so
// it is never above the maximum shown beside it.
//
// The layout is versioned by its field names: lh_<field>_<bucket>. The first layout
// (h_<field>_NN, 25 % buckets, linearly interpolated) is never read: a rollup that holds
// only it has no p95 until `meshtop rollup` computes the new fields again (see
// histCoverage).

// histPrefix starts every field of the current histogram layout.
const histPrefix = "lh_"

// oldHistPrefix starts the fields of the first layout (rollups made before), detected to
// say why a p95 is missing.
const oldHistPrefix = "h_"

// histGamma is the ratio of a bucket's bounds.
var histGamma = math.Pow(2, 1.0/8)

// HistAlpha is the histogram's relative error bound, (γ-1)/(γ+1).
var HistAlpha = (histGamma - 1) / (histGamma + 1)

// logHist is a metric's buckets: "z" holds v <= 0 (a jitter or loss of exactly 0; none
// for latency, whose successful tests are > 0), "u" 0 < v <= 2^(lo/8), bucket i (lo < i
// <= hi) 2^((i-1)/8) < v <= 2^(i/8), "o" v > 2^(hi/8).
type logHist struct {
	lo, hi int
	zero   bool
	// bounds[i-lo] = 2^(i/8) for i in lo..hi, computed once: the continuous queries'
	// literals are these numbers printed exactly, so meshtop's own backfill files a value
	// into the same bucket InfluxDB does.
	bounds []float64
}

func newLogHist(lo, hi int, zero bool) *logHist {
	h := &logHist{lo: lo, hi: hi, zero: zero}
	for i := lo; i <= hi; i++ {
		h.bounds = append(h.bounds, math.Pow(2, float64(i)/8))
	}
	return h
}

// histOf are the log histograms. The ranges are where a value is within 4.3 %; below
// it within the range's lower bound, above it the window's max is answered.
var histOf = map[mesh.Metric]*logHist{
	mesh.Latency:   newLogHist(-32, 112, false), // 0.0625 ms .. 16.4 s
	mesh.JitterMs:  newLogHist(-56, 80, true),   // 0.0078 ms .. 1 s
	mesh.JitterPct: newLogHist(-32, 72, true),   // 0.0625 % .. 512 %
}

// hbin is one bucket of a histogram: its field name suffix, its bounds (lo exclusive,
// hi inclusive; -Inf/+Inf open) and how its values are answered.
type hbin struct {
	name   string
	lo, hi float64
	exact  bool // every value it can hold from a valid test is hi (loss fractions)
}

// bins lists a log histogram's buckets in value order.
func (h *logHist) bins() []hbin {
	var out []hbin
	if h.zero {
		out = append(out, hbin{name: "z", lo: math.Inf(-1), hi: 0})
	}
	under := math.Inf(-1)
	if h.zero {
		under = 0
	}
	out = append(out, hbin{name: "u", lo: under, hi: h.bounds[0]})
	for i := h.lo + 1; i <= h.hi; i++ {
		out = append(out, hbin{name: binName(i), lo: h.bounds[i-1-h.lo], hi: h.bounds[i-h.lo]})
	}
	return append(out, hbin{name: "o", lo: h.bounds[len(h.bounds)-1], hi: math.Inf(1)})
}

// lossBins are loss's buckets: a test of c probes (1 to 20, SPEC 4) loses 100·k/c %, so
// there is one bucket per such fraction, (previous fraction, fraction], answered exactly;
// "z" holds 0 and "o" anything above 100. A loss no such test has (another collector's
// 30 probes) is answered with the fraction above it, within the window's [min, max].
func lossBins() []hbin {
	seen := map[float64]bool{}
	var fr []float64
	for c := 1; c <= 20; c++ {
		for k := 1; k <= c; k++ {
			v := 100 * float64(k) / float64(c)
			if !seen[v] {
				seen[v] = true
				fr = append(fr, v)
			}
		}
	}
	slices.Sort(fr)
	out := []hbin{{name: "z", lo: math.Inf(-1), hi: 0}}
	lo := 0.0
	for i, v := range fr {
		out = append(out, hbin{name: fmt.Sprintf("f%03d", i+1), lo: lo, hi: v, exact: true})
		lo = v
	}
	return append(out, hbin{name: "o", lo: lo, hi: math.Inf(1)})
}

// binName names bucket i: its exponent in eighth octaves, "m" for a negative one
// (lh_avg_rtt_ms_m3 holds 2^(-4/8) < v <= 2^(-3/8)).
func binName(i int) string {
	if i < 0 {
		return "m" + strconv.Itoa(-i)
	}
	return strconv.Itoa(i)
}

// histFieldName is the rollup field of metric m's bucket b.
func histFieldName(m mesh.Metric, b hbin) string { return histPrefix + m.Field() + "_" + b.name }

// histBins are every metric's buckets.
var histBins = func() map[mesh.Metric][]hbin {
	out := map[mesh.Metric][]hbin{mesh.Loss: lossBins()}
	for m, h := range histOf {
		out[m] = h.bins()
	}
	return out
}()

// binOf is the index in histBins[m] of the bucket holding v.
func binOf(m mesh.Metric, v float64) int {
	bs := histBins[m]
	// The first bucket whose upper bound is >= v (buckets are lo < v <= hi).
	i, _ := slices.BinarySearchFunc(bs, v, func(b hbin, v float64) int {
		if b.hi < v {
			return -1
		}
		return 1
	})
	return min(i, len(bs)-1)
}

// HistField names the rollup histogram field that counts value v of metric m.
func HistField(m mesh.Metric, v float64) string { return histFieldName(m, histBins[m][binOf(m, v)]) }

// histCond is the InfluxQL condition of bucket b of field f ("" for none).
func histCond(f string, b hbin) string {
	var cond []string
	if !math.IsInf(b.lo, -1) {
		cond = append(cond, f+" > "+strconv.FormatFloat(b.lo, 'g', -1, 64))
	}
	if !math.IsInf(b.hi, 1) {
		cond = append(cond, f+" <= "+strconv.FormatFloat(b.hi, 'g', -1, 64))
	}
	switch len(cond) {
	case 0:
		return ""
	case 1:
		return cond[0]
	}
	return cond[0] + " AND " + cond[1]
}

// histEstimate is the p-th percentile (nearest rank, as InfluxDB's percentile() and
// mesh.Percentile) of a window whose bucket counts are counts (histBins[m] order), kept
// inside [lo, hi] (the window's min and max; NaN: unknown). NaN without counts.
func histEstimate(m mesh.Metric, counts []float64, p, lo, hi float64) float64 {
	var total float64
	for _, c := range counts {
		total += c
	}
	if total <= 0 {
		return math.NaN()
	}
	rank := math.Max(1, math.Floor(total*p/100+0.5))
	bs := histBins[m]
	var cum float64
	est := math.NaN()
	for k, c := range counts {
		if c <= 0 {
			continue
		}
		if cum+c >= rank {
			b := bs[k]
			switch {
			case math.IsInf(b.hi, 1): // above the range: at least b.lo; the max says how much
				est = b.lo
				if !math.IsNaN(hi) {
					est = hi
				}
			case b.hi <= 0: // zero
				est = 0
			case b.exact:
				est = b.hi
			case b.lo <= 0 || math.IsInf(b.lo, -1): // below the range
				est = b.hi / 2
			default:
				est = 2 * b.lo * b.hi / (b.lo + b.hi)
			}
			break
		}
		cum += c
	}
	if !math.IsNaN(lo) && est < lo {
		est = lo
	}
	if !math.IsNaN(hi) && est > hi {
		est = hi
	}
	return est
}

// sketch is one pair's histogram counts per metric, added up over buckets and pieces.
type sketch map[mesh.Metric][]float64

// add counts value v of metric m.
func (s sketch) add(m mesh.Metric, v float64) { s.addBin(m, binOf(m, v), 1) }

func (s sketch) addBin(m mesh.Metric, k int, n float64) {
	if s[m] == nil {
		s[m] = make([]float64, len(histBins[m]))
	}
	s[m][k] += n
}

// merge adds o into s.
func (s sketch) merge(o sketch) {
	for m, cs := range o {
		for k, n := range cs {
			if n != 0 {
				s.addBin(m, k, n)
			}
		}
	}
}

// total is how many values of m the sketch counts.
func (s sketch) total(m mesh.Metric) float64 {
	var t float64
	for _, c := range s[m] {
		t += c
	}
	return t
}

// histCols maps every histogram field name to its metric and bucket.
var histCols = func() map[string]struct {
	m mesh.Metric
	k int
} {
	out := map[string]struct {
		m mesh.Metric
		k int
	}{}
	for m, bs := range histBins {
		for k, b := range bs {
			out[histFieldName(m, b)] = struct {
				m mesh.Metric
				k int
			}{m, k}
		}
	}
	return out
}()

// histFieldsOf are metric m's histogram field names in bucket order.
func histFieldsOf(m mesh.Metric) []string {
	bs := histBins[m]
	out := make([]string, len(bs))
	for k, b := range bs {
		out[k] = histFieldName(m, b)
	}
	return out
}

// HistogramText describes the histograms for help texts: buckets and error.
var HistogramText = fmt.Sprintf("buckets eight to an octave, within %.1f %% of percentile() (loss exactly)", 100*HistAlpha)
