package influx

import (
	"fmt"
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
	// Each level's shards are as long as its definition says (fewer series x shards to
	// pay for per aggregate), also after the second setup.
	rps, err := r.c.query(ctxT(t), "SHOW RETENTION POLICIES ON "+QuoteIdent(DefaultDatabase))
	if err != nil {
		t.Fatal(err)
	}
	shards := map[string]string{}
	for _, rs := range rps {
		for _, sr := range allSeries(rs.Series) {
			for _, row := range sr.rows {
				shards[fmt.Sprint(sr.get(row, "name"))] = fmt.Sprint(sr.get(row, "shardGroupDuration"))
			}
		}
	}
	for _, l := range rollupLevels {
		if want := l.shard.String(); shards[l.rp] != want {
			t.Errorf("%s shard duration %q, want %q", l.rp, shards[l.rp], want)
		}
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
	want := 0
	for _, l := range rollupLevels {
		want += len(rollupSelects(l))
	}
	if ncq != want {
		t.Errorf("%d continuous queries, want %d", ncq, want)
	}
	wantCells := f.expectedCells()
	for _, lvl := range []string{"10m", "1h"} {
		checkRollupMatchesRaw(t, r, lvl, wantCells)
	}
	// The drill-down from the 1 h rollup: two buckets of 60 tests on the hour.
	_ = r.SetRollup("1h")
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

// checkRollupMatchesRaw reads the window from rollup level lvl and compares every cell
// with the raw tests' reduction: last, mean and max exact, samples and failed state
// equal, p95 within one histogram bucket.
func checkRollupMatchesRaw(t *testing.T, r *Reader, lvl string, want map[mesh.Pair]mesh.Cell) {
	t.Helper()
	if err := r.SetRollup(lvl); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.SetRollup("auto") }()
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

// TestRollup6hFromHourly: the 6 h level is made from the 1 h level, not from raw data:
// rows of the 1 h level older than any raw test are rolled up too, and a 7-day window
// (auto) reads the 6 h level and says so.
func TestRollup6hFromHourly(t *testing.T) {
	s, cfg := testDB(t, false)
	end := time.Now().UTC().Truncate(6 * time.Hour)
	f := newFixture(end, 120)
	writeWorkshop(t, s, f, nil)
	// One hourly bucket a week before the raw data, as an older 1 h level keeps it.
	old := end.Add(-6 * 24 * time.Hour)
	line := fmt.Sprintf("ping_1h,dst_pop=sin,src_pop=ams n=60i,good=60i,failed=0i,bad=0i,avg_rtt_ms_sum=600,avg_rtt_ms_min=9,avg_rtt_ms_max=11,avg_rtt_ms_last=10,"+
		"jitter_pct_sum=60,jitter_pct_min=1,jitter_pct_max=1,jitter_pct_last=1,jitter_ms_sum=6,jitter_ms_min=0.1,jitter_ms_max=0.1,jitter_ms_last=0.1,"+
		"loss_pct_sum=0,loss_pct_min=0,loss_pct_max=0,loss_pct_last=0,%s=60i %d", HistField(mesh.Latency, 10), old.UnixNano())
	r, _ := NewReader(cfg, 2*time.Hour)
	r.SetEnd(end)
	// The retention policies first (no backfill), then the old row, then the backfill.
	if err := r.SetupRollups(ctxT(t), RollupOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteLinesRP(ctxT(t), DefaultDatabase, "mt_rollup_1h", line); err != nil {
		t.Fatal(err)
	}
	if err := r.SetupRollups(ctxT(t), RollupOptions{Backfill: true}); err != nil {
		t.Fatal(err)
	}
	// The window is the 6 h bucket that holds the raw tests (a window takes the buckets
	// that start in it).
	checkRollupMatchesRaw(t, r.At(6*time.Hour, end), "6h", f.expectedCells())
	r7 := r.At(7*24*time.Hour, end)
	var via string
	var final *mesh.Matrix
	if err := r7.MatrixSteps(ctxT(t), mesh.Mean, func(st Step) { via, final = st.Via, st.Matrix }); err != nil {
		t.Fatal(err)
	}
	if via != "rollup 6h" {
		t.Fatalf("auto over 7 d reads %q, want the 6 h rollup", via)
	}
	// ams→sin: the old hour's 60 tests beside the raw ones.
	if c, raw := final.Cell("ams", "sin"), f.expectedCells()[mesh.Pair{Src: "ams", Dst: "sin"}]; c == nil || c.Samples != raw.Samples+60 {
		t.Errorf("7 d ams→sin = %+v, want %d samples", c, raw.Samples+60)
	}
}
