package mesh

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// trace builds a trace of agent src from a path like "a b * d": * is a silent hop; the
// last address is the destination when it equals dst.
func lateTrace(src, dst, path string) TraceResult {
	t := TraceResult{Time: time.Unix(0, 0), Src: src, Dst: dst}
	for i, a := range strings.Fields(path) {
		h := Hop{TTL: i + 1, Addr: a}
		if a == "*" {
			h = Hop{TTL: i + 1, NoResponse: true}
		}
		t.Hops = append(t.Hops, h)
	}
	t.DeriveTrace()
	t.Failed = !strings.HasSuffix(path, dst)
	return t
}

func TestLateDestinations(t *testing.T) {
	const d = "198.18.1.4"
	traces := []TraceResult{
		lateTrace("a-0", d, "198.18.2.1 198.18.2.2 "+d),                // 0: clean, the destination at ttl 3
		lateTrace("a-0", d, "198.18.2.1 198.18.2.2 * "+d),              // 1: its reply at ttl 3 lost
		lateTrace("a-0", d, "198.18.2.1 198.18.2.2 * * "+d),            // 2: lost twice
		lateTrace("a-0", d, "198.18.2.1 198.18.2.2 198.18.2.3 "+d),     // 3: a router at 3: a longer path
		lateTrace("a-0", d, "198.18.2.1 198.18.2.2 * * * *"),           // 4: never reached
		lateTrace("b-0", d, "198.18.3.1 198.18.3.2 198.18.3.3 * "+d),   // 5: another agent: its own ttl (5)
		lateTrace("b-0", d, "198.18.3.1 198.18.3.2 198.18.3.3 * * "+d), // 6: late for b (5 → 6)
		{Src: "a-0", Dst: d, Err: "agent down"},                        // 7: no trace
		{Src: "a-0", Dst: d, FinalHopTTL: 5, ASPath: "* * * * *"},      // 8: history without hops
	}
	got := LateDestinations(traces)
	want := []int{0, 3, 3, 0, 0, 0, 5, 0, 0}
	if !slices.Equal(got, want) {
		t.Fatalf("late destinations %v, want %v", got, want)
	}
	// They agree with RouteChanges: no lost reply is a route change.
	if rc := RouteChanges(traces[:3]); len(rc) != 0 {
		t.Errorf("a lost destination reply read as a route change: %+v", rc)
	}
}
