package mesh

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// benchPops are PoP codes for benchmarks at mesh scale.
func benchPops(n int) []string {
	pops := make([]string, n)
	for i := range pops {
		pops[i] = fmt.Sprintf("p%03d", i)
	}
	return pops
}

// realisticPing is a ping of 5 probes as an agent answers it: RTTs that vary a little,
// now and then a lost probe, once in a while a failed test.
func realisticPing(at time.Time, src, dst string, i int) PingResult {
	r := PingResult{Time: at, Src: "scouter-" + src + "-0", SrcPop: src, Dst: "198.18.0.1", DstName: "scouter-" + dst + "-0", DstPop: dst}
	base := 5 + float64((len(src)*31+len(dst)*17+i)%250)
	rtts := []float64{base + 0.113, base + 0.571, base + 0.25, base + 1.5, base + 0.031}
	if i%7 == 0 {
		rtts[2] = Lost
	}
	if i%97 == 0 {
		rtts = []float64{Lost, Lost, Lost, Lost, Lost}
	}
	r.DerivePing(5, rtts, -1)
	return r
}

// fillStore adds sweeps full-mesh sweeps of pops to s, each one minute apart. The
// results of one sweep are built up front so only AddPing is measured.
func fillStore(s *Store, pops []string, sweeps int) {
	t0 := time.Unix(1_700_000_000, 0).UTC()
	for k := range sweeps {
		at := t0.Add(time.Duration(k) * time.Minute)
		for i, src := range pops {
			for j, dst := range pops {
				if i != j {
					s.AddPing(realisticPing(at, src, dst, k+i+j))
				}
			}
		}
	}
}

// BenchmarkAddPing is one AddPing into a store whose rings are full (the steady state of
// a long live session): 50 PoPs, --keep 360.
func BenchmarkAddPing(b *testing.B) {
	pops := benchPops(50)
	s := NewStore(360)
	fillStore(s, pops, 360)
	t0 := time.Unix(1_800_000_000, 0).UTC()
	var rs []PingResult
	for k := range 4 {
		for i, src := range pops {
			for j, dst := range pops {
				if i != j {
					rs = append(rs, realisticPing(t0.Add(time.Duration(k)*time.Minute), src, dst, i+j+k))
				}
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r := rs[i%len(rs)]
		r.Time = r.Time.Add(time.Duration(i/len(rs)) * 4 * time.Minute)
		s.AddPing(r)
	}
}

// BenchmarkMatrix300 is the grid's read of a 300-PoP store: after one new sweep's worth
// of results (every cell changed) and when nothing changed since the last read.
func BenchmarkMatrix300(b *testing.B) {
	pops := benchPops(300)
	s := NewStore(20)
	fillStore(s, pops, 2)
	b.Run("unchanged", func(b *testing.B) {
		s.Matrix()
		b.ReportAllocs()
		for range b.N {
			if m := s.Matrix(); m.Len() != 300 {
				b.Fatal(m.Len())
			}
		}
	})
	b.Run("every-cell-changed", func(b *testing.B) {
		at := time.Unix(1_900_000_000, 0).UTC()
		b.ReportAllocs()
		for n := range b.N {
			b.StopTimer()
			for i, src := range pops {
				for j, dst := range pops {
					if i != j {
						s.AddPing(realisticPing(at.Add(time.Duration(n)*time.Minute), src, dst, i+j+n))
					}
				}
			}
			b.StartTimer()
			if m := s.Matrix(); m.Len() != 300 {
				b.Fatal(m.Len())
			}
		}
	})
}

// TestStoreBytesPerSample reports the heap a full store takes per kept sample (5
// probes each), measured with runtime.MemStats. It asserts nothing about the figure
// (speed and memory are measured, not asserted) beyond the store holding what was added.
// go test ./mesh -run BytesPerSample -v -pops 100 -sweeps 360 shows the figure at scale.
func TestStoreBytesPerSample(t *testing.T) {
	pops, sweeps := benchPops(*benchPopsFlag), *benchSweepsFlag
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := NewStore(sweeps)
	fillStore(s, pops, sweeps)
	runtime.GC()
	runtime.ReadMemStats(&after)
	samples := len(pops) * (len(pops) - 1) * sweeps
	perSample := float64(after.HeapAlloc-before.HeapAlloc) / float64(samples)
	t.Logf("%d PoPs x %d sweeps = %d samples: %.1f MB heap, %.1f bytes per sample", len(pops), sweeps, samples,
		float64(after.HeapAlloc-before.HeapAlloc)/1e6, perSample)
	if h := s.History(pops[0], pops[1]); len(h) != sweeps {
		t.Fatalf("history %d, want %d", len(h), sweeps)
	}
	runtime.KeepAlive(s)
}
