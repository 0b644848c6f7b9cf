package mesh

import "math"

// Partial loss is judged over probes, not tests: five probes a test move a test's loss in
// 20 % steps, so one lost probe would paint a 3 % path red and the next test green again.
// The judgement looks at the answered tests (a test that lost everything is an outage,
// told at once as FAIL, and not part of it) and asks two questions:
//
//  1. Since when is the loss rate what it is now? It finds the newest change of rate by
//     splitting the tests where the two sides' rates differ most (a likelihood-ratio
//     test, as change-point detection does), repeatedly, until no split is significant.
//     The probes since that change (at most lossMaxTests tests) are the loss now; it is
//     what the cell shows under the last stat.
//  2. Does that loss leave the class shown? Only on evidence: the loss's confidence
//     interval (Wilson's) must lie wholly beyond the class's band. Towards a worse class
//     it moves as far as the interval's low end surely reaches (99 %); towards a better
//     one, to the class of the loss itself, once the interval's high end is below the
//     band (95 %). So a steady 3 % path keeps its colour, a 20 % loss shows within a few
//     tests, and a recovered path is green again after a dozen clean tests (20 probes
//     cannot say "below 2 %"; 60 clean ones can say "below 6 %").
//
// bench: the model test (lossjudge_test.go) measures these on random loss.
const (
	lossSplitMin  = 10   // probes on each side of a change of rate, at least
	lossSplitLLR  = 9.0  // log-likelihood ratio a change of rate must reach (χ² 18: p < 1e-4 for one split)
	lossMaxTests  = 120  // answered tests the judgement looks back over
	lossZWorse    = 2.58 // two-sided 99 %: evidence to move to a worse class
	lossZBetter   = 1.96 // two-sided 95 %: evidence to move to a better one
	lossMaxSplits = 8    // bounds the search for the newest change of rate
	lossZJump     = 1.64 // 90 %: once it moves, a worse class as far as this reaches
)

// count is one answered test for the loss judgement: probes sent and lost, whole numbers
// as the live store keeps them (intCount), or shares (probeCount) for history, whose
// buckets stand for their loss share of the workshop's five probes a test.
type count[N int32 | float64] struct{ sent, lost N }

type (
	probeCount = count[float64]
	intCount   = count[int32]
)

// countOf is a sample's probe counts: the sum over its agent pairs' results (lost ones
// from their loss, which validation keeps within 0..100, rather than Recv, which an
// upstream answer may lack); a bucket of history (no results) counts five probes a
// test, the workshop's count.
func countOf(s *Sample) probeCount {
	var c probeCount
	for i := range s.Results {
		r := &s.Results[i]
		if !r.Measured() {
			continue
		}
		sent := float64(max(1, r.Sent))
		c.sent += sent
		c.lost += sent * r.LossPct / 100
	}
	if c.sent == 0 {
		c.sent = 5 * float64(s.TestCount())
		c.lost = c.sent * s.LossPct / 100
	}
	return c
}

// lossRegime returns the lost and sent probes since the newest significant change of
// loss rate among tests (oldest first).
func lossRegime(tests []probeCount) (lost, sent float64) { return regime(tests, logLik) }

// lossRegimeInt is lossRegime over whole counts (the live store's, on every result it
// adds), x·ln x from the table: no logarithm in the split search.
func lossRegimeInt(tests []intCount) (lost, sent int) {
	k, n := regime(tests, func(k, n int32) float64 {
		t := xlnxTable
		switch {
		case k <= 0 || k >= n:
			return 0
		case int(n) >= len(t):
			return logLik(float64(k), float64(n))
		}
		return t[k] + t[n-k] - t[n]
	})
	return int(k), int(n)
}

// regime is the search of lossRegime for either kind of count; ll is the binomial
// log-likelihood of k lost of n.
func regime[N int32 | float64](tests []count[N], ll func(k, n N) float64) (lost, sent N) {
	sum := func(seg []count[N]) (k, n N) {
		for _, c := range seg {
			k += c.lost
			n += c.sent
		}
		return k, n
	}
	start := 0
	for range lossMaxSplits {
		seg := tests[start:]
		k, n := sum(seg)
		if k == 0 || k == n || len(seg) < 2 {
			return k, n // one rate: no loss at all (the common case), or nothing but loss
		}
		all := ll(k, n)
		best, at := 0.0, -1
		var sk, sn N // the suffix seg[i:]
		first := true
		for i := len(seg) - 1; i > 0; i-- {
			sk += seg[i].lost
			sn += seg[i].sent
			if sn < lossSplitMin {
				continue
			}
			if n-sn < lossSplitMin {
				break
			}
			// Within a run of clean tests the log-likelihood ratio is convex in the split:
			// its largest value is at an end of the run (next to a lossy test) or of the
			// splits allowed. Only those are worth a look.
			last := i == 1 || n-sn-seg[i-1].sent < lossSplitMin
			if !(first || last || seg[i].lost > 0 || seg[i-1].lost > 0) {
				continue
			}
			first = false
			if l := ll(sk, sn) + ll(k-sk, n-sn) - all; l > best {
				best, at = l, i
			}
		}
		if best <= lossSplitLLR {
			return k, n
		}
		start += at
	}
	return sum(tests[start:])
}

// logLik is the binomial log-likelihood of k lost of n at their own rate:
// k·ln k + (n-k)·ln(n-k) - n·ln n. Probe counts are whole numbers almost always, whose
// x·ln x comes from a table (the split search evaluates it a few hundred times a test).
func logLik(k, n float64) float64 {
	if n <= 0 || k <= 0 || k >= n {
		return 0
	}
	return xlnx(k) + xlnx(n-k) - xlnx(n)
}

// xlnxTable holds x·ln x for the whole numbers up to its length.
var xlnxTable = func() []float64 {
	t := make([]float64, 4096)
	for i := 1; i < len(t); i++ {
		t[i] = float64(i) * math.Log(float64(i))
	}
	return t
}()

func xlnx(x float64) float64 {
	if r := math.Round(x); math.Abs(x-r) < 1e-9 && r < float64(len(xlnxTable)) {
		return xlnxTable[int(r)]
	}
	return x * math.Log(x)
}

// wilson is the Wilson score interval of k lost in n, with continuity correction
// (Newcombe 1998), in percent: without it one lost probe of five would already "surely"
// be above 2 %.
func wilson(k, n, z float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 100
	}
	p := min(1, max(0, k/n))
	z2 := z * z
	den := 2 * (n + z2)
	if p > 0 {
		lo = (2*n*p + z2 - 1 - z*math.Sqrt(max(0, z2-2-1/n+4*p*(n*(1-p)+1)))) / den
	}
	hi = 1.0
	if p < 1 {
		hi = (2*n*p + z2 + 1 + z*math.Sqrt(max(0, z2+2-1/n+4*p*(n*(1-p)-1)))) / den
	}
	return 100 * max(0, lo), 100 * min(1, hi)
}

// band is the range of values class c stands for under t: [lo, hi).
func band(c Class, t Thresholds) (lo, hi float64) {
	lo, hi = math.Inf(-1), math.Inf(1)
	if c > Green {
		lo = t[c-2]
	}
	if c < Red {
		hi = t[c-1]
	}
	return lo, hi
}

// judgeLoss is the loss class after lost of sent probes (the regime) given the class
// shown before (NoData: none yet, judged from green: no loss known). Without hysteresis
// it is the class of the loss itself.
func judgeLoss(prev Class, lost, sent float64, t Thresholds, hysteresis bool) Class {
	if sent <= 0 {
		return prev
	}
	est := 100 * lost / sent
	if !hysteresis {
		return t.Classify(est, false)
	}
	if !prev.Colour() {
		prev = Green
	}
	lo, _ := wilson(lost, sent, lossZWorse)
	_, hi := wilson(lost, sent, lossZBetter)
	blo, bhi := band(prev, t)
	switch {
	case lo >= bhi:
		jlo, _ := wilson(lost, sent, lossZJump)
		return t.Classify(max(lo, jlo), false)
	case hi < blo:
		return t.Classify(est, false)
	}
	return prev
}

// lossJudge steps the judgement through a pair's answered tests (Timeline, history).
type lossJudge struct {
	tests      []probeCount
	class      Class
	lost, sent float64
}

// add judges one more sample; a failed one (an outage) leaves the judgement as it is.
func (j *lossJudge) add(s *Sample, t Thresholds, hysteresis bool) Class {
	if s.Failed {
		return j.class
	}
	if len(j.tests) == lossMaxTests {
		j.tests = append(j.tests[:0], j.tests[1:]...)
	}
	j.tests = append(j.tests, countOf(s))
	j.lost, j.sent = lossRegime(j.tests)
	j.class = judgeLoss(j.class, j.lost, j.sent, t, hysteresis)
	return j.class
}
