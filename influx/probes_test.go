package influx

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// PairProbes gives the drill-down each test's probe RTTs from history, as the workshop
// wrote them (lost probe 0), oldest first, bounded, and never an impossible value.
func TestPairProbesWorkshopDB(t *testing.T) {
	s, cfg := testDB(t, false)
	end := time.Now().UTC().Truncate(time.Minute)
	f := newFixture(end, 30)
	writeWorkshop(t, s, f, nil)
	// A hostile test of ams→fra after the fixture: a negative probe RTT.
	bad := f.pings[0]
	bad.Time, bad.SrcPop, bad.DstPop, bad.Src = end.Add(-30*time.Second), "ams", "fra", "ams-1"
	line := strings.Replace(workshopPingLine(bad, "203.0.113.9"), "probe_1_rtt_ms="+ff(bad.Probes[1]), "probe_1_rtt_ms=-5.0", 1)
	if err := s.WriteLines(ctxT(t), DefaultDatabase, line); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(cfg, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r.SetEnd(end)

	var want []mesh.PingResult
	for _, p := range f.pings {
		if p.SrcPop == "ams" && p.DstPop == "fra" {
			want = append(want, p)
		}
	}
	got, err := r.PairProbes(ctxT(t), "ams", "fra", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want)+1 {
		t.Fatalf("%d tests, want %d", len(got), len(want)+1)
	}
	for i, w := range want {
		g := got[i]
		if !g.Time.Equal(w.Time) || g.Src != "ams-1" || g.SrcPop != "ams" || g.DstPop != "fra" || g.Err != "" {
			t.Fatalf("test %d = %+v, want at %v from ams-1", i, g, w.Time)
		}
		if !slices.Equal(g.Probes, w.Probes) {
			t.Errorf("test %d probes %v, want %v", i, g.Probes, w.Probes)
		}
	}
	// The failed tests (sweep 3): every probe lost, read as 0, not left out.
	if p := got[3].Probes; !slices.Equal(p, []float64{0, 0, 0, 0, 0}) {
		t.Errorf("failed test's probes %v", p)
	}
	last := got[len(got)-1]
	if last.Probes != nil || !strings.Contains(last.Err, "implausible value: probe 1 rtt -5") {
		t.Errorf("hostile test read as %+v", last)
	}

	// Bounded: the newest tests per agent.
	got, err = r.PairProbes(ctxT(t), "ams", "fra", 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || !got[2].Time.Equal(want[len(want)-1].Time) {
		t.Errorf("limit 4: %d tests, newest %v", len(got), got)
	}
	if q := r.ProbesQuery("ams", "fra", 4); !strings.Contains(q, "LIMIT 4") || !strings.Contains(q, `"src_pop" = 'ams'`) {
		t.Errorf("query %s", q)
	}
}
