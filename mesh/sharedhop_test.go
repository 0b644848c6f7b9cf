package mesh

import (
	"strconv"
	"testing"
	"time"
)

func hops(addrs ...string) []Hop {
	out := make([]Hop, len(addrs))
	for i, a := range addrs {
		out[i] = Hop{TTL: i + 1, Addr: a}
		if a == "*" {
			out[i] = Hop{TTL: i + 1, NoResponse: true}
		}
	}
	return out
}

// transatlantic is a mesh of three European and two American PoPs: EU pairs go over
// eu-ix (10.0.0.1) or direct, EU-US pairs over eu-ix then atl (10.0.0.2) or atl alone.
func transatlantic() map[string]map[string][]Hop {
	eu, us := []string{"ams", "fra", "lon"}, []string{"nyc", "sjc"}
	paths := map[Pair][]Hop{}
	for _, a := range eu {
		for _, b := range eu {
			if a != b {
				paths[Pair{a, b}] = hops("10.0.0.1")
			}
		}
		for _, b := range us {
			if a == "lon" {
				paths[Pair{a, b}], paths[Pair{b, a}] = hops("10.0.0.2"), hops("10.0.0.2")
				continue
			}
			paths[Pair{a, b}], paths[Pair{b, a}] = hops("10.0.0.1", "10.0.0.2"), hops("10.0.0.2", "*", "10.0.0.1")
		}
	}
	paths[Pair{"nyc", "sjc"}], paths[Pair{"sjc", "nyc"}] = hops("10.0.0.3"), hops("10.0.0.3")
	return byRow(paths)
}

// byRow lays pairs' paths out as Matrix.Paths does.
func byRow(paths map[Pair][]Hop) map[string]map[string][]Hop {
	out := map[string]map[string][]Hop{}
	for p, h := range paths {
		if out[p.Src] == nil {
			out[p.Src] = map[string][]Hop{}
		}
		out[p.Src][p.Dst] = h
	}
	return out
}

func isUS(p string) bool { return p == "nyc" || p == "sjc" }

func TestSharedHop(t *testing.T) {
	for _, tt := range []struct {
		name  string
		paths map[string]map[string][]Hop
		class func(Pair) (bool, bool)
		want  HopSuspect
		ok    bool
	}{
		{
			name:  "a lossy transatlantic router: the hop every EU-US pair passes, not eu-ix beside it",
			paths: transatlantic(),
			class: func(p Pair) (bool, bool) { return isUS(p.Src) != isUS(p.Dst), true },
			want:  HopSuspect{Addr: "10.0.0.2", Bad: 12, BadAll: 12, Good: 0}, ok: true,
		},
		{
			name:  "one good pair beside many bad is still named, with it",
			paths: transatlantic(),
			class: func(p Pair) (bool, bool) {
				return isUS(p.Src) != isUS(p.Dst) && p != Pair{"ams", "nyc"}, true
			},
			want: HopSuspect{Addr: "10.0.0.2", Bad: 11, BadAll: 11, Good: 1}, ok: true,
		},
		{
			name:  "half the pairs through it good: not a suspect",
			paths: transatlantic(),
			class: func(p Pair) (bool, bool) { return isUS(p.Src) && !isUS(p.Dst), true },
			want:  HopSuspect{Addr: "10.0.0.2", Bad: 6, BadAll: 6, Good: 6},
		},
		{
			name:  "one source's bad pairs (a row pattern) name no hop",
			paths: transatlantic(),
			class: func(p Pair) (bool, bool) { return p.Src == "ams", true },
		},
		{
			name:  "one destination's bad pairs (a column pattern) name no hop",
			paths: transatlantic(),
			class: func(p Pair) (bool, bool) { return p.Dst == "nyc", true },
		},
		{
			name:  "two bad pairs are too few",
			paths: transatlantic(),
			class: func(p Pair) (bool, bool) { return p == Pair{"ams", "nyc"} || p == Pair{"fra", "sjc"}, true },
		},
		{
			name:  "pairs without a colour count for nothing",
			paths: transatlantic(),
			class: func(p Pair) (bool, bool) { return isUS(p.Src) != isUS(p.Dst), isUS(p.Src) != isUS(p.Dst) },
			want:  HopSuspect{Addr: "10.0.0.2", Bad: 12, BadAll: 12}, ok: true,
		},
		{
			name:  "no paths",
			paths: nil,
			class: func(Pair) (bool, bool) { return true, true },
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := SharedHop(tt.paths, tt.class)
			if ok != tt.ok || (ok && got != tt.want) {
				t.Errorf("SharedHop = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

// The store hands each pair's newest measured trace's transit hops to its matrices,
// without the destination; a matrix taken earlier keeps what it had.
func TestStorePaths(t *testing.T) {
	s := NewStore(10)
	t0 := time.Unix(1_700_000_000, 0).UTC()
	tr := func(sec int, dst string, addrs ...string) TraceResult {
		return TraceResult{Time: t0.Add(time.Duration(sec) * time.Second), Src: "a-0", SrcPop: "a", DstPop: "b", Dst: dst, Hops: hops(addrs...)}
	}
	p := Pair{"a", "b"}
	s.AddTrace(tr(0, "10.9.9.9", "10.0.0.1", "10.0.0.2", "10.9.9.9"))
	m1 := s.Matrix()
	if got := m1.Paths[p.Src][p.Dst]; len(got) != 2 || got[1].Addr != "10.0.0.2" {
		t.Fatalf("paths after a trace that reached the destination: %+v, want the two routers", got)
	}
	s.AddTrace(tr(10, "10.9.9.9", "10.0.0.1", "*", "*"))
	failed := tr(20, "10.9.9.9")
	failed.Err = "agent: timeout"
	s.AddTrace(failed) // not measured: the path stays
	m2 := s.Matrix()
	if got := m2.Paths[p.Src][p.Dst]; len(got) != 3 || !got[2].NoResponse {
		t.Errorf("paths after a trace that did not reach it: %+v, want every hop", got)
	}
	if got := m1.Paths[p.Src][p.Dst]; len(got) != 2 {
		t.Errorf("the earlier matrix's path changed to %+v", got)
	}
	s.AddTrace(tr(30, "10.9.9.9", "10.9.9.9"))
	if _, ok := s.Matrix().Paths[p.Src][p.Dst]; ok {
		t.Errorf("a direct path (the destination at ttl 1) kept a transit path")
	}
	s.AddTrace(tr(40, "10.9.9.9", "10.0.0.1", "10.9.9.9"))
	r := PingResult{Time: t0.Add(40 * time.Second), Src: "a-0", SrcPop: "a", DstPop: "b", Dst: "10.9.9.9"}
	r.DerivePing(5, []float64{10, 10, 10, 10, 10}, -1)
	s.AddPing(r)
	m3 := s.Matrix()
	s.RetainPops(map[string]bool{"a": true})
	if _, ok := s.Matrix().Paths[p.Src][p.Dst]; ok {
		t.Errorf("a PoP gone from the inventory kept its pairs' paths")
	}
	if _, ok := m3.Paths[p.Src][p.Dst]; !ok {
		t.Errorf("RetainPops changed a matrix handed out before")
	}
}

// BenchmarkSharedHop300 is the grid's hint over a 300-PoP mesh whose every pair has a
// 6-hop path through 200 routers, a tenth of the pairs bad.
func BenchmarkSharedHop300(b *testing.B) {
	paths := map[Pair][]Hop{}
	for i := range 300 {
		for j := range 300 {
			if i == j {
				continue
			}
			addrs := make([]string, 6)
			for k := range addrs {
				addrs[k] = "10.1." + strconv.Itoa((i*7+j*13+k*31)%200) + ".1"
			}
			paths[Pair{"p" + strconv.Itoa(i), "p" + strconv.Itoa(j)}] = hops(addrs...)
		}
	}
	rows := byRow(paths)
	class := func(p Pair) (bool, bool) { return (int(p.Src[len(p.Src)-1])+int(p.Dst[len(p.Dst)-1]))%10 == 0, true }
	b.ResetTimer()
	for b.Loop() {
		SharedHop(rows, class)
	}
}
