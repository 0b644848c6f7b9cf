package influx

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// TestRollupBackfillMatchesRaw: the backfilled 10 min and 1 h rollups of a workshop
// database (failed as text) give the same mean, max, samples and failed state as the raw
// tests, and a p95 within one histogram bucket of the raw one.
func TestRollupBackfillMatchesRaw(t *testing.T) {
	s, cfg := testDB(t, false)
	end := time.Now().UTC().Truncate(time.Hour)
	f := newFixture(end, 120)
	writeWorkshop(t, s, f, nil)
	r, _ := NewReader(cfg, 2*time.Hour)
	r.SetEnd(end)
	var log []string
	if err := r.SetupRollups(ctxT(t), RollupOptions{Backfill: true, Progress: func(m string) { log = append(log, m) }}); err != nil {
		t.Fatal(err)
	}
	if len(log) < 2 || !strings.Contains(log[0], "continuous queries") {
		t.Errorf("progress %q", log)
	}
	// Setting up again replaces the continuous queries instead of failing.
	if err := r.SetupRollups(ctxT(t), RollupOptions{}); err != nil {
		t.Fatalf("second setup: %v", err)
	}
	res, err := r.c.query(ctxT(t), "SHOW CONTINUOUS QUERIES")
	if err != nil {
		t.Fatal(err)
	}
	ncq := 0
	for _, rs := range res {
		for _, sr := range allSeries(rs.Series) {
			ncq += len(sr.rows)
		}
	}
	if want := len(rollupSelects(rollup10m)) + len(rollupSelects(rollup1h)); ncq != want {
		t.Errorf("%d continuous queries, want %d", ncq, want)
	}
	want := f.expectedCells()
	for _, lvl := range []string{"10m", "1h"} {
		if err := r.SetRollup(lvl); err != nil {
			t.Fatal(err)
		}
		var steps []Step
		if err := r.MatrixSteps(ctxT(t), mesh.Mean, func(st Step) { steps = append(steps, st) }); err != nil {
			t.Fatal(err)
		}
		final := steps[len(steps)-1]
		if final.Via != "rollup "+lvl || final.Pending != "" {
			t.Fatalf("%s: via %q pending %q", lvl, final.Via, final.Pending)
		}
		for p, w := range want {
			c := final.Matrix.Cell(p.Src, p.Dst)
			if c == nil {
				t.Fatalf("%s %v: no cell", lvl, p)
			}
			for _, m := range mesh.Metrics {
				for _, st := range []mesh.Stat{mesh.Last, mesh.Mean, mesh.Max} {
					if !near(c.Values[m][st], w.Values[m][st]) {
						t.Errorf("%s %v %s/%s = %v, raw %v", lvl, p, m, st, c.Values[m][st], w.Values[m][st])
					}
				}
				got, raw := c.Values[m][mesh.P95], w.Values[m][mesh.P95]
				if math.IsNaN(raw) != math.IsNaN(got) {
					t.Errorf("%s %v %s p95 = %v, raw %v", lvl, p, m, got, raw)
				} else if !math.IsNaN(raw) && math.Abs(got-raw) > 0.25*raw+5 {
					t.Errorf("%s %v %s p95 = %v, raw %v: more than a bucket off", lvl, p, m, got, raw)
				}
			}
			if c.Samples != w.Samples || c.Failed != w.Failed {
				t.Errorf("%s %v samples %d failed %v, raw %d %v", lvl, p, c.Samples, c.Failed, w.Samples, w.Failed)
			}
		}
	}
	// The drill-down from the 1 h rollup: two buckets of 60 tests on the hour.
	bs, err := r.PairBuckets(ctxT(t), "ams", "sin", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 2 || bs[0].Tests != 60 || bs[0].Width != time.Hour || !bs[1].Sample.Time.Equal(end.Add(-time.Hour)) {
		t.Errorf("buckets %+v", bs)
	}
	// auto: a 2 h window reads raw data.
	_ = r.SetRollup("auto")
	var via string
	if err := r.MatrixSteps(ctxT(t), mesh.Mean, func(st Step) { via = st.Via }); err != nil {
		t.Fatal(err)
	}
	if via != "raw" {
		t.Errorf("auto over 2 h reads %q", via)
	}
}

func TestHistPercentile(t *testing.T) {
	vals := []float64{}
	for i := 1; i <= 100; i++ {
		vals = append(vals, float64(i))
	}
	h := histSpecs[mesh.Latency]
	counts := make([]float64, h.n+2)
	for _, v := range vals {
		for k := 0; k <= h.n+1; k++ {
			if v <= h.upper(k) {
				counts[k]++
				break
			}
		}
	}
	got := histPercentile(mesh.Latency, counts, 95)
	if want := mesh.Percentile(vals, 95); math.Abs(got-want) > 0.25*want {
		t.Errorf("p95 = %v, want within a bucket of %v", got, want)
	}
	if !math.IsNaN(histPercentile(mesh.Latency, make([]float64, h.n+2), 95)) {
		t.Error("p95 of nothing is not NaN")
	}
}
