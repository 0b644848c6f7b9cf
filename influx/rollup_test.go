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

func TestHistEstimate(t *testing.T) {
	// Every value from 0.07 ms to 15 s: the bucket's answer is within HistAlpha of it.
	for v := 0.07; v < 15000; v *= 1.013 {
		counts := make([]float64, len(histBins[mesh.Latency]))
		counts[binOf(mesh.Latency, v)] = 1
		if got := histEstimate(mesh.Latency, counts, 95, math.NaN(), math.NaN()); math.Abs(got-v) > HistAlpha*v*(1+1e-12) {
			t.Fatalf("estimate of %v = %v: more than %.2f %% off", v, got, 100*HistAlpha)
		}
		// Inside [min, max]: a lone value is answered exactly.
		if got := histEstimate(mesh.Latency, counts, 95, v, v); got != v {
			t.Fatalf("estimate of %v inside [%v, %v] = %v", v, v, v, got)
		}
	}
	// The nearest rank, as InfluxDB's percentile(): of 1..100 the 95th value.
	counts := make([]float64, len(histBins[mesh.Latency]))
	vals := []float64{}
	for i := 1; i <= 100; i++ {
		vals = append(vals, float64(i))
		counts[binOf(mesh.Latency, float64(i))]++
	}
	got, want := histEstimate(mesh.Latency, counts, 95, 1, 100), mesh.Percentile(vals, 95)
	if math.Abs(got-want) > HistAlpha*want {
		t.Errorf("p95 = %v, want within %.1f %% of %v", got, 100*HistAlpha, want)
	}
	if !math.IsNaN(histEstimate(mesh.Latency, make([]float64, len(counts)), 95, 0, 0)) {
		t.Error("p95 of nothing is not NaN")
	}
	// Zero is its own bucket: a loss p95 of 0 is 0.
	lc := make([]float64, len(histBins[mesh.Loss]))
	lc[binOf(mesh.Loss, 0)] = 99
	lc[binOf(mesh.Loss, 20)] = 1
	if got := histEstimate(mesh.Loss, lc, 95, 0, 20); got != 0 {
		t.Errorf("loss p95 = %v, want 0", got)
	}
	// Above the range: the max.
	oc := make([]float64, len(counts))
	oc[binOf(mesh.Latency, 30000)] = 10
	if got := histEstimate(mesh.Latency, oc, 95, 25000, 30000); got != 30000 {
		t.Errorf("overflow p95 = %v, want the max", got)
	}
}

// TestHistBinsAreTheQueries: a value is filed into the bucket whose InfluxQL condition
// it meets (the backfill's Go and the continuous queries' statements agree), and every
// value into exactly one.
func TestHistBinsAreTheQueries(t *testing.T) {
	for _, m := range mesh.Metrics {
		bs := histBins[m]
		for i := 1; i < len(bs); i++ {
			if bs[i].lo != bs[i-1].hi {
				t.Fatalf("%s: bucket %s starts at %v, the one before ends at %v", m, bs[i].name, bs[i].lo, bs[i-1].hi)
			}
		}
		for _, v := range []float64{0, 1e-9, bs[1].hi, math.Nextafter(bs[1].hi, 2), 1, 2, 3.3333, 100, 1e4, 1e9} {
			b := bs[binOf(m, v)]
			if !(v > b.lo && v <= b.hi) && !(math.IsInf(b.lo, -1) && v <= b.hi) {
				t.Errorf("%s: %v filed into %s (%v, %v]", m, v, b.name, b.lo, b.hi)
			}
			if c := histCond("f", b); c != "" && !strings.Contains(c, "f ") {
				t.Errorf("condition %q", c)
			}
		}
	}
}

// checkRollupMatchesRaw reads the window from rollup level lvl and compares every cell
// with the raw tests' reduction: last, mean and max exact, samples and failed state
// equal, p95 within the histograms' error and inside [min, max].
func checkRollupMatchesRaw(t *testing.T, r *Reader, lvl string, want map[mesh.Pair]mesh.Cell) {
	t.Helper()
	if err := r.SetRollup(lvl); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.SetRollup("auto") }()
	var steps []Step
	if err := r.MatrixSteps(ctxT(t), mesh.P95, func(st Step) { steps = append(steps, st) }); err != nil {
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
			checkP95(t, lvl+" "+fmt.Sprint(p), m, c, w.Values[m][mesh.P95])
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
