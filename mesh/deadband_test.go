package mesh

import (
	"math/rand/v2"
	"testing"
)

func TestHold(t *testing.T) {
	th := Thresholds{10, 20, 30}
	for _, tt := range []struct {
		v    float64
		cur  Class
		band float64
		want Class
	}{
		{25, Red, 0.1, Orange},     // 25 is well below 30 - 3
		{28, Red, 0.1, Red},        // within the band below red: stays red
		{27.1, Red, 0.1, Red},      // just above 27
		{26.9, Red, 0.1, Orange},   // just below
		{28, Red, 0, Orange},       // no band: as Classify
		{5, Red, 0.1, Green},       // far below: straight to green
		{9.5, Yellow, 0.1, Yellow}, // in green's band
		{8.9, Yellow, 0.1, Green},
		{31, Green, 0.1, Red},     // worse: at once
		{19, Orange, 0.1, Orange}, // below 20 but not 18
		{17, Orange, 0.1, Yellow}, // below 18
		{12, NoData, 0.1, Yellow}, // no colour yet: Classify
		{12, Stale, 0.1, Yellow},  // a state, not a colour
		{29, Orange, 0.1, Orange}, // same class
		{18.5, Orange, 0.1, Orange},
	} {
		if got := th.Hold(tt.v, tt.cur, tt.band); got != tt.want {
			t.Errorf("Hold(%v, %v, %v) = %v, want %v", tt.v, tt.cur, tt.band, got, tt.want)
		}
	}
}

// jitterRun feeds a store one pair's tests of probes pings whose round trips vary as the
// lab makes them vary (each way's delay uniform within ±j[i] ms of 142 ms), judged as
// live judges them, and returns the jitter (ms) class after each test and the jitter
// colour events told.
func jitterRun(seed uint64, probes int, j []float64, noDeadband bool) (classes []Class, events []Event) {
	rng := rand.New(rand.NewPCG(seed, 23))
	tests := make([][]float64, len(j))
	for i, jit := range j {
		rtts := make([]float64, probes)
		for k := range rtts {
			rtts[k] = 142 + jit*(2*rng.Float64()-1) + jit*(2*rng.Float64()-1)
		}
		tests[i] = rtts
	}
	return judgedRun(Judgement{NoDeadband: noDeadband}, JitterMs, tests)
}

// TestJitterOnAThresholdFlapsLess is the default lab's ams-sjc path in the model: ±25 ms
// each way, about 23 ms of jitter on the 20 ms red threshold, and paths near it. Over
// ten minutes of 10 s tests (after two of warm-up) the deadband leaves fewer colour
// changes, most where tests have more probes (less noise), and shows a real change as
// soon: a path whose jitter jumps from ~1 to ~37 ms reads red after as many tests with it
// as without, and green again after them (one test later in a few runs). Seeded: the figures are the same every run; logged for
// docs/health.md.
func TestJitterOnAThresholdFlapsLess(t *testing.T) {
	const runs, warm, tests = 400, 12, 60
	for _, probes := range []int{5, 20} {
		for _, jit := range []float64{18, 22, 25, 28} {
			var with, without int
			for seed := range uint64(runs) {
				for _, nd := range []bool{false, true} {
					cs, _ := jitterRun(seed, probes, steady(jit, warm+tests), nd)
					ch, _ := changesIn(cs[warm:])
					if nd {
						without += ch
					} else {
						with += ch
					}
				}
			}
			t.Logf("%d probes, ±%v ms each way: colour changes in 10 min, mean of %d runs: %.2f without the deadband, %.2f with it",
				probes, jit, runs, float64(without)/runs, float64(with)/runs)
			if with >= without {
				t.Errorf("%d probes, ±%v ms: %d changes with the deadband, %d without", probes, jit, with, without)
			}
		}
		// A real change: ±1 ms for 30 tests, ±40 for 40, ±1 again.
		js := append(append(steady(1, 30), steady(40, 40)...), steady(1, 40)...)
		var later int
		for seed := range uint64(runs) {
			a, _ := jitterRun(seed, probes, js, false)
			b, _ := jitterRun(seed, probes, js, true)
			if ra, rb := firstFrom(a, 30, Red), firstFrom(b, 30, Red); ra != rb {
				t.Errorf("%d probes, seed %d: red after the jump at test %d with the deadband, %d without", probes, seed, ra, rb)
			}
			switch ga, gb := firstFrom(a, 70, Green), firstFrom(b, 70, Green); {
			case ga > gb+1:
				t.Errorf("%d probes, seed %d: green after the jump back at test %d with the deadband, %d without", probes, seed, ga, gb)
			case ga > gb:
				later++ // the first clean test's median fell in green's band (9..10 ms)
			}
		}
		if later > runs/50 {
			t.Errorf("%d probes: green one test later in %d of %d runs", probes, later, runs)
		}
	}
}

// firstFrom is the index of the first class c at or after i, -1 if none.
func firstFrom(cs []Class, i int, c Class) int {
	for ; i < len(cs); i++ {
		if cs[i] == c {
			return i
		}
	}
	return -1
}
