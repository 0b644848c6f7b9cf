package influx

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// writeMixedShards writes the fixture with failed as a float in the older shard (more
// than a week back) and as the workshop's string in the newer one: the fast forms must
// not depend on the failed field's type.
func writeMixedShards(t *testing.T, s interface {
	WriteLines(ctx context.Context, db, lines string) error
}, f fixture, split time.Time) {
	t.Helper()
	var b strings.Builder
	for _, r := range f.pings {
		line := workshopPingLine(r, "203.0.113.9")
		if r.Time.Before(split) {
			line = strings.Replace(line, `failed="0"`, "failed=0", 1)
			line = strings.Replace(line, `failed="1"`, "failed=1", 1)
		}
		b.WriteString(line)
	}
	if err := s.WriteLines(context.Background(), DefaultDatabase, b.String()); err != nil {
		t.Fatal(err)
	}
}

// TestMatrixStepsSameAsOneRequest: the progressive read (per-metric concurrent requests,
// one aggregate each) gives the same cells as the one-request form it replaced and as
// the live reduction of the same tests, on data with failed tests (a pair whose newest
// test failed, a pair that always fails), an unknown destination, and failed stored as a
// number in one shard and as text in another.
func TestMatrixStepsSameAsOneRequest(t *testing.T) {
	s, cfg := testDB(t, false)
	end := time.Now().UTC().Truncate(time.Minute)
	// Two shard groups (7 d each): failed a number in the older, text in the newer, and
	// the shards' SHOW FIELD KEYS lists failed twice.
	old := newFixture(end.Add(-8*24*time.Hour), 60)
	writeMixedShards(t, s, old, end)
	f := newFixture(end, 60)
	writeMixedShards(t, s, f, end.Add(-24*time.Hour))
	both := fixture{end: end, pings: append(append([]mesh.PingResult{}, old.pings...), f.pings...)}
	want := both.expectedCells()
	r, _ := NewReader(cfg, 9*24*time.Hour)
	r.SetEnd(end)
	if err := r.SetRollup("raw"); err != nil {
		t.Fatal(err)
	}
	var steps []Step
	err := r.MatrixSteps(ctxT(t), mesh.P95, func(st Step) { steps = append(steps, st) })
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) < 3 {
		t.Fatalf("%d steps, want last, the stat on screen, the rest", len(steps))
	}
	first := steps[0]
	if first.Pending == "" || !first.Has(mesh.Latency, mesh.Last) || first.Has(mesh.Latency, mesh.Mean) {
		t.Errorf("first step: pending %q, has last %v, has mean %v", first.Pending, first.Has(mesh.Latency, mesh.Last), first.Has(mesh.Latency, mesh.Mean))
	}
	if c := first.Matrix.Cell("ams", "sin"); c == nil || !near(c.Values[mesh.Latency][mesh.Last], want[mesh.Pair{Src: "ams", Dst: "sin"}].Values[mesh.Latency][mesh.Last]) {
		t.Errorf("first step ams→sin = %+v", c)
	}
	if c := first.Matrix.Cell("ams", "fra"); c == nil || !c.Failed[mesh.Last] {
		t.Errorf("first step: ams→fra's newest test failed, cell %+v", c)
	}
	final := steps[len(steps)-1]
	if final.Pending != "" || final.Via != "raw" {
		t.Errorf("final step pending %q via %q", final.Pending, final.Via)
	}
	one, err := r.MatrixOneRequest(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	for p, w := range want {
		compareCells(t, p, final.Matrix.Cell(p.Src, p.Dst), w)
		compareCells(t, p, one.Cell(p.Src, p.Dst), w)
	}
	if n := final.Matrix.Len(); n != len(fixturePops) {
		t.Errorf("%d PoPs, want %d", n, len(fixturePops))
	}
	// Stat on screen mean: no percentile is asked for.
	steps = nil
	if err := r.MatrixSteps(ctxT(t), mesh.Mean, func(st Step) { steps = append(steps, st) }); err != nil {
		t.Fatal(err)
	}
	last := steps[len(steps)-1]
	if last.Has(mesh.Latency, mesh.P95) || !math.IsNaN(last.Matrix.Cell("ams", "sin").Values[mesh.Latency][mesh.P95]) {
		t.Error("p95 read though the stat on screen is mean")
	}
	if !last.Has(mesh.Loss, mesh.Max) || !last.Has(mesh.JitterMs, mesh.Mean) {
		t.Error("mean/max missing at the end of the read")
	}
	// Every stat on screen, with steps 2 and 3 in turn and overlapped (and the max
	// latency read without the successful-tests condition): the same last, mean, max,
	// counts and failed state as the tests' own reduction.
	for _, overlap := range []bool{false, true} {
		r.SetOverlap(overlap)
		for _, stat := range []mesh.Stat{mesh.Last, mesh.Mean, mesh.Max} {
			var final Step
			if err := r.MatrixSteps(ctxT(t), stat, func(st Step) { final = st }); err != nil {
				t.Fatal(err)
			}
			for p, w := range want {
				c := final.Matrix.Cell(p.Src, p.Dst)
				if c == nil {
					t.Fatalf("overlap %v, %s on screen: %v no cell", overlap, stat, p)
				}
				for _, m := range mesh.Metrics {
					for _, st := range []mesh.Stat{mesh.Last, mesh.Mean, mesh.Max} {
						if !near(c.Values[m][st], w.Values[m][st]) {
							t.Errorf("overlap %v, %s on screen: %v %s/%s = %v, want %v", overlap, stat, p, m, st, c.Values[m][st], w.Values[m][st])
						}
					}
				}
				if c.Samples != w.Samples || c.Failed != w.Failed {
					t.Errorf("overlap %v, %s on screen: %v samples %d failed %v, want %d %v", overlap, stat, p, c.Samples, c.Failed, w.Samples, w.Failed)
				}
			}
		}
	}
}

// TestMatrixStepsImplausibleHistory: a negative loss or an absurd RTT in the database is
// that pair's error, never a value.
func TestMatrixStepsImplausibleHistory(t *testing.T) {
	s, cfg := testDB(t, false)
	end := time.Now().UTC().Truncate(time.Minute)
	lines := "" +
		"ping,dst=198.18.0.2,dst_pop=fra,src_pop=ams,src_slug=ams-1 avg_rtt_ms=7.0,failed=\"0\",jitter_ms=1.0,jitter_pct=14.0,loss_pct=-5.0 " + itoa(end.Add(-3*time.Minute)) + "\n" +
		"ping,dst=198.18.0.2,dst_pop=fra,src_pop=ams,src_slug=ams-1 avg_rtt_ms=7.0,failed=\"0\",jitter_ms=1.0,jitter_pct=14.0,loss_pct=20.0 " + itoa(end.Add(-2*time.Minute)) + "\n" +
		"ping,dst=198.18.0.3,dst_pop=sin,src_pop=ams,src_slug=ams-1 avg_rtt_ms=1e300,failed=\"0\",jitter_ms=1.0,jitter_pct=14.0,loss_pct=0.0 " + itoa(end.Add(-2*time.Minute)) + "\n" +
		"ping,dst=198.18.0.1,dst_pop=ams,src_pop=fra,src_slug=fra-1 avg_rtt_ms=9.0,failed=\"0\",jitter_ms=1.0,jitter_pct=11.0,loss_pct=0.0 " + itoa(end.Add(-2*time.Minute)) + "\n"
	if err := s.WriteLines(context.Background(), DefaultDatabase, lines); err != nil {
		t.Fatal(err)
	}
	r, _ := NewReader(cfg, time.Hour)
	r.SetEnd(end)
	m, err := r.Matrix(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []mesh.Pair{{Src: "ams", Dst: "fra"}, {Src: "ams", Dst: "sin"}} {
		c := m.Cell(p.Src, p.Dst)
		if c == nil || !strings.Contains(c.Err, "implausible value") {
			t.Fatalf("%v: cell %+v, want an implausible-value error", p, c)
		}
		for _, mt := range mesh.Metrics {
			for _, st := range mesh.Stats {
				if v := c.Values[mt][st]; !math.IsNaN(v) {
					t.Errorf("%v %s/%s = %v shown despite the error", p, mt, st, v)
				}
			}
		}
	}
	if c := m.Cell("fra", "ams"); c == nil || c.Err != "" || c.Values[mesh.Latency][mesh.Mean] != 9 {
		t.Errorf("a good pair beside them: %+v", c)
	}
}
