package mesh

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestStoreCellsMatchReduce: the incrementally kept cell equals a reduction of the
// pair's history (what the store kept), whatever the order of values, failures,
// folded agents and ring wrap-arounds.
func TestStoreCellsMatchReduce(t *testing.T) {
	for _, keep := range []int{1, 2, 7, 20, 360} {
		rng := rand.New(rand.NewPCG(uint64(keep), 9))
		s := NewStore(keep)
		t0 := time.Unix(1_700_000_000, 0).UTC()
		for i := range 3*keep + 50 {
			at := t0.Add(time.Duration(i) * time.Minute)
			agents := 1 + rng.IntN(2)
			for a := range agents {
				r := PingResult{Time: at, Src: "a-" + string(rune('0'+a)), SrcPop: "a", DstPop: "b", Dst: "198.18.0.2", DstName: "b-0"}
				rtts := make([]float64, 5)
				base := 1 + rng.Float64()*300
				if rng.IntN(5) == 0 {
					base = 40 // repeated values: ties in max and p95
				}
				for j := range rtts {
					rtts[j] = base + rng.Float64()
					if rng.IntN(4) == 0 {
						rtts[j] = Lost
					}
				}
				if rng.IntN(12) == 0 {
					rtts = []float64{Lost, Lost, Lost, Lost, Lost}
				}
				r.DerivePing(5, rtts, -1)
				s.AddPing(r)
			}
			h := s.History("a", "b")
			want := ReduceSamples(h)
			got := s.Matrix().Cell("a", "b")
			if got.Samples != want.Samples || got.Failed != want.Failed {
				t.Fatalf("keep %d step %d: samples %d failed %v, want %d %v", keep, i, got.Samples, got.Failed, want.Samples, want.Failed)
			}
			for _, m := range Metrics {
				for _, st := range Stats {
					g, w := got.Values[m][st], want.Values[m][st]
					if st != Last {
						w = reduce32(h, m, st) // the window as kept (float32)
					}
					if st == Last && m == Loss && !h[len(h)-1].Failed {
						w = regimeOf(h) // the loss since its rate last changed (lossjudge.go)
					}
					if st == Last && m == JitterMs && !h[len(h)-1].Failed {
						w = jitterOf(h) // the median of the newest answered tests' (judge.go)
					}
					if !(math.IsNaN(g) && math.IsNaN(w)) && math.Abs(g-w) > 1e-6*math.Max(1, math.Abs(w)) {
						t.Fatalf("keep %d step %d: %s %s = %v, want %v", keep, i, m, st, g, w)
					}
				}
			}
		}
	}
}

// regimeOf is the loss under the last stat of a judged cell, from the samples: over the
// answered tests since the loss rate last changed.
func regimeOf(h []Sample) float64 {
	var tests []probeCount
	for i := range h {
		if !h[i].Failed {
			tests = append(tests, countOf(&h[i]))
		}
	}
	tests = tests[max(0, len(tests)-lossMaxTests):]
	k, n := lossRegime(tests)
	return 100 * k / n
}

// jitterOf is the jitter under the last stat of a judged cell: the median of the newest
// jitterTests answered tests' (as kept: float32).
func jitterOf(h []Sample) float64 {
	var v []float64
	for i := len(h) - 1; i >= 0 && len(v) < jitterTests; i-- {
		if !h[i].Failed {
			v = append(v, float64(float32(h[i].JitterMs)))
		}
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return float64(float32(v[len(v)/2-1])+float32(v[len(v)/2])) / 2
}

// reduce32 reduces the window as the store's statistics keep it: float32 values (the
// newest sample too, though History gives it whole).
func reduce32(h []Sample, m Metric, st Stat) float64 {
	var vals []float64
	for _, s := range h {
		v := float64(float32(s.Value(m)))
		if !math.IsNaN(v) {
			vals = append(vals, v)
		}
	}
	return st.Reduce(vals)
}

// TestStoreHistoryRoundTrip: what comes back of older samples is what went in, to
// float32 precision: values, band, probes, who measured, every agent of a folded sample.
func TestStoreHistoryRoundTrip(t *testing.T) {
	s := NewStore(10)
	t0 := time.Unix(1_700_000_000, 123_000_000).UTC()
	var in [][]PingResult
	for i := range 4 {
		at := t0.Add(time.Duration(i) * time.Minute)
		var rs []PingResult
		for a := range 1 + i%2 {
			r := PingResult{Time: at, Src: []string{"a-0", "a-1"}[a], SrcPop: "a", DstPop: "b", Dst: "198.18.0.2", DstName: "b-0"}
			r.DerivePing(5, []float64{10.25 + float64(i), Lost, 12.5, 11.125, 0.061}, -1)
			rs = append(rs, r)
			s.AddPing(r)
		}
		in = append(in, rs)
	}
	h := s.History("a", "b")
	if len(h) != 4 {
		t.Fatalf("history %d", len(h))
	}
	for i, smp := range h {
		if !smp.Time.Equal(in[i][0].Time) || len(smp.Results) != len(in[i]) {
			t.Fatalf("sample %d: time %v results %d, want %v %d", i, smp.Time, len(smp.Results), in[i][0].Time, len(in[i]))
		}
		for a, r := range smp.Results {
			w := in[i][a]
			if r.Src != w.Src || r.Dst != w.Dst || r.DstName != w.DstName || r.SrcPop != "a" || r.DstPop != "b" ||
				r.Sent != w.Sent || r.Recv != w.Recv || r.Failed != w.Failed || len(r.Probes) != len(w.Probes) {
				t.Fatalf("sample %d agent %d: %+v, want %+v", i, a, r, w)
			}
			for j := range r.Probes {
				if float32(r.Probes[j]) != float32(w.Probes[j]) {
					t.Fatalf("probe %d: %v want %v", j, r.Probes[j], w.Probes[j])
				}
			}
			for _, m := range Metrics {
				if float32(m.Value(r)) != float32(m.Value(w)) {
					t.Fatalf("%s: %v want %v", m, m.Value(r), m.Value(w))
				}
			}
		}
	}
}

// TestStoreLongSession: samples further apart than int32 milliseconds (24 days) keep
// their order and the newest its time.
func TestStoreLongSession(t *testing.T) {
	s := NewStore(3)
	t0 := time.Unix(1_700_000_000, 0).UTC()
	for i := range 5 {
		s.AddPing(ping(t0.Add(time.Duration(i)*20*24*time.Hour), "a-0", "a", "b", float64(i+1), false))
	}
	h := s.History("a", "b")
	if len(h) != 3 || !h[2].Time.Equal(t0.Add(80*24*time.Hour)) || !h[1].Time.Equal(t0.Add(60*24*time.Hour)) || h[0].AvgRTT != 3 {
		t.Fatalf("history %+v", h)
	}
}
