package mesh

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// trace builds a trace from a path written as in the drill-down: addresses per TTL,
// "*" for a silent hop.
func trace(i int, path string) TraceResult {
	r := TraceResult{Time: time.Unix(1000, 0).Add(time.Duration(i) * 10 * time.Second), Src: "ams-0", Dst: "198.18.1.4"}
	for j, a := range strings.Fields(path) {
		h := Hop{TTL: j + 1}
		if a == "*" {
			h.NoResponse = true
		} else {
			h.Addr = a
			h.ASN = 64500 + int(a[len(a)-1]-'0')
		}
		r.Hops = append(r.Hops, h)
	}
	r.DeriveTrace()
	return r
}

func TestRouteChangesLossIsNotAChange(t *testing.T) {
	const (
		clean = "198.18.2.1 198.18.2.2 198.18.1.4"
		newP  = "198.18.2.5 198.18.1.4"
	)
	tests := []struct {
		name  string
		paths []string
		want  []int // index of the trace each change was first seen in
	}{
		// The examples: lab set ams nyc --loss 20% / 30%.
		{"silent hop then answer", []string{"198.18.2.1 198.18.2.2 * 198.18.1.4", clean, clean}, nil},
		{"answer then silent hop", []string{clean, "198.18.2.1 * 198.18.1.4", clean}, nil},
		{"late destination (ttl 5 instead of 3)", []string{clean, "198.18.2.1 198.18.2.2 * * 198.18.1.4", clean, "198.18.2.1 198.18.2.2 * * 198.18.1.4"}, nil},
		{"late destination first", []string{"198.18.2.1 198.18.2.2 * * 198.18.1.4", clean, clean}, nil},
		{"all silent", []string{clean, "* * * * * * * *", clean}, nil},
		{"ten lossy traces", []string{clean, "198.18.2.1 * 198.18.1.4", "* 198.18.2.2 198.18.1.4", "198.18.2.1 198.18.2.2 * 198.18.1.4",
			clean, "* * * 198.18.1.4", "198.18.2.1 198.18.2.2 * * * 198.18.1.4", clean, "198.18.2.1 *", clean}, nil},
		// Real changes, and what they need.
		{"a new path in two traces", []string{clean, clean, newP, newP}, []int{2}},
		{"a new path seen once is not yet a change", []string{clean, clean, newP}, nil},
		{"a flapping hop (one trace each) is not a change", []string{clean, newP, clean, newP, clean}, nil},
		{"confirmation through a silent trace", []string{clean, newP, "* * * *", newP}, []int{1}},
		{"confirmed by a lossy trace of the new path", []string{clean, newP, "198.18.2.5 *"}, []int{1}},
		{"and back", []string{clean, newP, newP, clean, clean}, []int{1, 3}},
		{"a longer path: another router where the destination was", []string{clean, "198.18.2.1 198.18.2.2 198.18.2.7 198.18.1.4", "198.18.2.1 198.18.2.2 198.18.2.7 198.18.1.4"}, []int{1}},
		{"a shorter path", []string{"198.18.2.1 198.18.2.2 198.18.2.7 198.18.1.4", clean, clean}, []int{1}},
		// A hop silent at first is learnt from later traces: a change behind it shows.
		{"change behind a hop silent at first", []string{"198.18.2.1 * 198.18.1.4", clean, "198.18.2.1 198.18.2.9 198.18.1.4", "198.18.2.1 198.18.2.9 198.18.1.4"}, []int{2}},
		// The destination seen late at first is moved to its true TTL: a router that
		// later appears at that TTL is a change.
		{"router where a late destination was", []string{"198.18.2.1 198.18.2.2 * 198.18.1.4", clean, "198.18.2.1 198.18.2.2 198.18.2.7 198.18.1.4", "198.18.2.1 198.18.2.2 198.18.2.7 198.18.1.4"}, []int{2}},
		{"a new candidate replaces an unconfirmed one", []string{clean, newP, "198.18.2.8 198.18.1.4", "198.18.2.8 198.18.1.4"}, []int{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var traces []TraceResult
			for i, p := range tt.paths {
				traces = append(traces, trace(i, p))
			}
			got := RouteChanges(traces)
			if len(got) != len(tt.want) {
				t.Fatalf("%d changes, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, c := range got {
				if w := traces[tt.want[i]]; !c.Time.Equal(w.Time) || c.New.PathKey() != w.PathKey() {
					t.Errorf("change %d at %v new %q, want at %v new %q", i, c.Time, c.New.PathKey(), w.Time, w.PathKey())
				}
				if c.Src != "ams-0" || c.Dst != "198.18.1.4" || !c.Old.Measured() || c.Old.PathKey() == c.New.PathKey() {
					t.Errorf("change %d: %+v", i, c)
				}
			}
		})
	}
}

func TestRouteChangesASPath(t *testing.T) {
	as := func(i int, p string) TraceResult {
		return TraceResult{Time: time.Unix(int64(i), 0), Src: "a", Dst: "x", ASPath: p}
	}
	for _, tt := range []struct {
		name  string
		paths []string
		want  int
	}{
		{"loss", []string{"1 2 3", "1 * 3", "1 2 * * 3", "* * *", "1 2 3"}, 0},
		{"new AS twice", []string{"1 2 3", "1 4 3", "1 4 3"}, 1},
		{"new AS once", []string{"1 2 3", "1 2 3", "1 4 3"}, 0},
	} {
		var traces []TraceResult
		for i, p := range tt.paths {
			traces = append(traces, as(i, p))
		}
		if got := len(RouteChanges(traces)); got != tt.want {
			t.Errorf("%s: %d changes, want %d", tt.name, got, tt.want)
		}
	}
}

func TestRouteChangesPerSourceAndDestination(t *testing.T) {
	a1, a2 := trace(0, "198.18.2.1 198.18.1.4"), trace(1, "198.18.2.1 198.18.1.4")
	b1, b2 := trace(2, "198.18.2.5 198.18.1.4"), trace(3, "198.18.2.5 198.18.1.4")
	b1.Src, b2.Src = "ams-1", "ams-1"
	if got := RouteChanges([]TraceResult{a1, b1, a2, b2}); len(got) != 0 {
		t.Fatalf("two agents' paths mixed into changes: %+v", got)
	}
}

// FuzzRouteChanges: RouteChanges never panics, every change it reports goes from an
// earlier trace to one with an answering hop, and loss alone (hops of one path going
// silent, the destination answering late) never reads as a change.
func FuzzRouteChanges(f *testing.F) {
	f.Add([]byte{3, 0, 0, 0, 0}, []byte{0b010, 0, 0b100, 2, 0, 0b001})
	f.Add([]byte{5, 1, 2, 3, 4, 5}, []byte{0xff, 3, 0, 0, 0x11, 1})
	f.Add([]byte{1, 9}, []byte{})
	f.Add([]byte{32, 255, 255}, []byte{0xaa, 0x55, 7, 7, 7, 7, 7, 7})
	f.Fuzz(func(t *testing.T, path, losses []byte) {
		if len(path) == 0 {
			return
		}
		n := 1 + int(path[0])%12 // hops including the destination
		addr := func(i int) string { return "198.18." + strconv.Itoa(i/250) + "." + strconv.Itoa(1+i%250) }
		base := make([]string, n)
		for i := range base {
			base[i] = addr(i)
		}
		// Each pair of loss bytes makes one trace: a mask of silent hops and how many
		// TTLs late the destination answered.
		var traces []TraceResult
		for i := 0; i+1 < len(losses) && len(traces) < 40; i += 2 {
			mask, late := losses[i], int(losses[i+1]%4)
			var hops []string
			for j := range n - 1 {
				if mask&(1<<(j%8)) != 0 {
					hops = append(hops, "*")
				} else {
					hops = append(hops, base[j])
				}
			}
			for range late {
				hops = append(hops, "*")
			}
			if mask&0x80 == 0 {
				hops = append(hops, base[n-1])
			}
			traces = append(traces, trace(len(traces), strings.Join(hops, " ")))
		}
		if got := RouteChanges(traces); len(got) != 0 {
			t.Fatalf("loss read as %d route changes: %+v", len(got), got)
		}
		// Arbitrary paths built from the fuzzer's bytes: no panic, and any change has
		// a real contradiction.
		var wild []TraceResult
		for i := 1; i < len(path) && len(wild) < 40; i += 3 {
			var hops []string
			for j := i; j < min(i+3, len(path)); j++ {
				if path[j]%5 == 0 {
					hops = append(hops, "*")
				} else {
					hops = append(hops, addr(int(path[j]%7)))
				}
			}
			wild = append(wild, trace(len(wild), strings.Join(hops, " ")))
		}
		for _, c := range RouteChanges(wild) {
			if !c.Old.Time.Before(c.New.Time) || !strings.ContainsAny(strings.ReplaceAll(c.New.PathKey(), "*", ""), "0123456789") {
				t.Fatalf("change from a later or to a silent path: %+v", c)
			}
		}
	})
}
