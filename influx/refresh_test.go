package influx

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// TestRefreshMergesTail: a refresh that reads only the settled tail, the fresh part and
// the head that left gives the same cells as a whole read of the new window — with a
// sweep written late (inside the lag), pairs with failed tests, and the head taking a
// pair's maximum with it.
func TestRefreshMergesTail(t *testing.T) {
	s, cfg := testDB(t, false)
	t1 := time.Now().UTC().Truncate(time.Minute)
	f := newFixture(t1, 50) // a sweep a minute over the last 50 minutes
	// The oldest sweep holds ams→sin's maximum: the head takes it away.
	for i := range f.pings {
		if f.pings[i].SrcPop == "ams" && f.pings[i].DstPop == "sin" && f.pings[i].Time.Equal(t1.Add(-45*time.Minute)) {
			f.pings[i].AvgRTT = 900
		}
	}
	writeWorkshop(t, s, f, nil)
	r, _ := NewReader(cfg, 45*time.Minute+30*time.Second)
	now := t1.Add(-5 * time.Second)
	r.clock = func() time.Time { return now }
	prev, err := r.ReadMesh(ctxT(t), mesh.Max, func(Step) {})
	if err != nil || prev == nil {
		t.Fatalf("ReadMesh = %v, %v", prev, err)
	}
	// Three minutes pass: new sweeps, and one late sweep inside the lag.
	later := newFixture(t1.Add(3*time.Minute), 3)
	late := newFixture(t1.Add(-2*time.Minute+30*time.Second), 1)
	for i := range late.pings {
		late.pings[i].Src = strings.Replace(late.pings[i].Src, "-1", "-2", 1) // a second agent
	}
	writeWorkshop(t, s, fixture{pings: append(later.pings, late.pings...)}, nil)
	now = t1.Add(3*time.Minute + 20*time.Second)
	var steps []Step
	next, err := r.Refresh(ctxT(t), prev, mesh.Max, func(st Step) { steps = append(steps, st) })
	if err != nil {
		t.Fatal(err)
	}
	if next == nil || len(steps) == 0 || steps[len(steps)-1].Pending != "" {
		t.Fatalf("refresh: %v, %d steps", next, len(steps))
	}
	got := steps[len(steps)-1]
	whole, err := r.At(r.window, next.End()).Matrix(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range whole.Pops {
		for _, dst := range whole.Pops {
			w, g := whole.Cell(src, dst), got.Matrix.Cell(src, dst)
			if (w == nil) != (g == nil) {
				t.Fatalf("%s→%s in one matrix only", src, dst)
			}
			if w == nil {
				continue
			}
			for _, m := range mesh.Metrics {
				for _, st := range []mesh.Stat{mesh.Last, mesh.Mean, mesh.Max} {
					if !got.Has(m, st) {
						t.Errorf("%s/%s missing after refresh with max on screen", m, st)
						continue
					}
					a, b := g.Values[m][st], w.Values[m][st]
					if !(math.IsNaN(a) && math.IsNaN(b)) && math.Abs(a-b) > 1e-9*math.Max(1, math.Abs(b)) {
						t.Errorf("%s→%s %s/%s refreshed %v, whole %v", src, dst, m, st, a, b)
					}
				}
			}
			if g.Samples != w.Samples || g.Failed != w.Failed {
				t.Errorf("%s→%s samples %d/%d failed %v/%v", src, dst, g.Samples, w.Samples, g.Failed, w.Failed)
			}
		}
	}
	if v := got.Matrix.Cell("ams", "sin").Values[mesh.Latency][mesh.Max]; v >= 900 {
		t.Errorf("max %v kept after the head took it", v)
	}
}
