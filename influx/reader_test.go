package influx

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/influx/influxtest"
	"github.com/meshtop/meshtop/mesh"
)

func TestReaderMatrixWorkshopDB(t *testing.T) {
	s, cfg := testDB(t, false)
	end := time.Now().UTC().Truncate(time.Minute)
	f := newFixture(end, 30)
	writeWorkshop(t, s, f, nil)

	r, err := NewReader(cfg, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r.SetEnd(end)
	m, err := r.Matrix(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Pops, fixturePops) {
		t.Fatalf("Pops = %v, want %v (Unknown excluded)", m.Pops, fixturePops)
	}
	if m.Source != "influx" {
		t.Errorf("Source = %q", m.Source)
	}
	want := f.expectedCells()
	for p, w := range want {
		compareCells(t, p, m.Cell(p.Src, p.Dst), w)
	}
	// The failed pair reads red, never as a fast 0 ms link.
	c := m.Cell("fra", "sin")
	if v, failed := c.Value(mesh.Latency, mesh.Mean); !failed || !math.IsNaN(v) {
		t.Errorf("fra→sin mean latency = %v failed=%v, want NaN failed", v, failed)
	}
	if got := m.Class("fra", "sin", mesh.Latency, mesh.Mean, mesh.DefaultThresholds()[mesh.Latency]); got != mesh.Red {
		t.Errorf("fra→sin class = %v, want red", got)
	}
	if got := m.Cell("ams", "fra").Values[mesh.Loss][mesh.Last]; got != 100 {
		t.Errorf("ams→fra last loss = %v, want 100", got)
	}
	if m.Time.IsZero() || !m.Time.Equal(end.Add(-time.Minute)) {
		t.Errorf("matrix time = %v, want %v", m.Time, end.Add(-time.Minute))
	}

	// The server-side window ("now() - 1h") sees the same data.
	r2, _ := NewReader(cfg, time.Hour)
	m2, err := r2.Matrix(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	compareCells(t, mesh.Pair{Src: "ams", Dst: "sin"}, m2.Cell("ams", "sin"), want[mesh.Pair{Src: "ams", Dst: "sin"}])

	pops, err := r.Pops(ctxT(t))
	if err != nil || !slices.Equal(pops, fixturePops) {
		t.Errorf("Pops() = %v, %v", pops, err)
	}
}

func TestReaderWindowExcludesOldData(t *testing.T) {
	s, cfg := testDB(t, false)
	end := time.Now().UTC().Truncate(time.Minute)
	f := newFixture(end, 30)
	writeWorkshop(t, s, f, nil)
	r, _ := NewReader(cfg, 10*time.Minute)
	r.SetEnd(end)
	m, err := r.Matrix(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	// The window (end-10m, end] holds sweeps at end-10m+1m ... end-1m: 9 of them... and
	// the one at exactly end-10m is excluded (time > start), like Grafana's $timeFilter.
	if got := m.Cell("ams", "sin").Samples; got != 9 {
		t.Errorf("samples in a 10m window = %d, want 9", got)
	}
}

func TestReaderPairHistory(t *testing.T) {
	s, cfg := testDB(t, false)
	end := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour) // bucket-aligned
	f := newFixture(end, 60)
	writeWorkshop(t, s, f, nil)
	r, _ := NewReader(cfg, time.Hour)
	r.SetEnd(end)

	// 60 one-minute sweeps into 20 points: 3-minute buckets.
	hist, err := r.PairHistory(ctxT(t), "ams", "fra", 20)
	if err != nil {
		t.Fatal(err)
	}
	var raw []mesh.Sample
	for _, p := range f.pings {
		if p.SrcPop == "ams" && p.DstPop == "fra" {
			s, _ := mesh.FoldResults(p.Time, []mesh.PingResult{p})
			raw = append(raw, s)
		}
	}
	// The window excludes its start: the sweep at end-60m is out.
	want := bucketSamples(raw[1:], 3*time.Minute)
	if len(hist) != len(want) || len(hist) > 21 {
		t.Fatalf("history has %d points, want %d", len(hist), len(want))
	}
	for i := range want {
		g, w := hist[i], want[i]
		if !g.Time.Equal(w.Time) || g.Failed != w.Failed || g.Tests != w.Tests || !near(g.AvgRTT, w.AvgRTT) || !near(g.MinRTT, w.MinRTT) ||
			!near(g.MaxRTT, w.MaxRTT) || !near(g.LossPct, w.LossPct) || !near(g.JitterMs, w.JitterMs) || !near(g.JitterPct, w.JitterPct) {
			t.Errorf("bucket %d = %+v\nwant %+v", i, g, w)
		}
	}
	// Buckets count their tests (the drill-down says "59 tests", not "20 samples").
	tests := 0
	for _, s := range hist {
		tests += s.TestCount()
	}
	if tests != len(raw)-1 {
		t.Errorf("buckets count %d tests, want %d", tests, len(raw)-1)
	}
	// The bucket with the failed sweep 3 mixes it with good ones: loss counts it, the
	// latency does not.
	if !slices.ContainsFunc(hist, func(s mesh.Sample) bool { return !s.Failed && s.LossPct > 30 && s.AvgRTT > 0 }) {
		t.Errorf("no bucket mixing a failed and good tests: %+v", hist)
	}
	all, err := r.PairHistory(ctxT(t), "fra", "sin", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if !s.Failed || s.AvgRTT != 0 || s.LossPct != 100 {
			t.Fatalf("fra→sin sample %+v, want failed with 100%% loss", s)
		}
	}
}

func TestHistoryBucket(t *testing.T) {
	for _, tc := range []struct {
		window time.Duration
		points int
		want   time.Duration
	}{
		{time.Hour, 60, time.Minute},
		{time.Hour, 100, 36 * time.Second},
		{time.Hour, 7, 515 * time.Second},
		{time.Minute, 1000, time.Second},
		{time.Hour, 0, 30 * time.Second},
	} {
		if got := historyBucket(tc.window, tc.points); got != tc.want {
			t.Errorf("historyBucket(%v, %d) = %v, want %v", tc.window, tc.points, got, tc.want)
		}
	}
}

func TestReaderQuotesPopNames(t *testing.T) {
	s, cfg := testDB(t, false)
	end := time.Now().UTC().Truncate(time.Minute)
	evil := `x' OR '1'='1`
	r1 := mesh.PingResult{Time: end.Add(-time.Minute), Src: "a b", SrcPop: evil, Dst: "198.18.0.9", DstPop: `q\"z`}
	r1.DerivePing(5, []float64{5, 5, 5, 5, 5}, -1)
	r2 := mesh.PingResult{Time: end.Add(-time.Minute), Src: "c", SrcPop: "ams", Dst: "198.18.0.8", DstPop: "fra"}
	r2.DerivePing(5, []float64{9, 9, 9, 9, 9}, -1)
	var lines strings.Builder
	for _, r := range []mesh.PingResult{r1, r2} {
		pt, _, err := PingPoint(r, "203.0.113.9", WorkshopSchema())
		if err != nil {
			t.Fatal(err)
		}
		lines.WriteString(pt.String() + "\n")
	}
	if err := s.WriteLines(context.Background(), DefaultDatabase, lines.String()); err != nil {
		t.Fatal(err)
	}
	r, _ := NewReader(cfg, time.Hour)
	hist, err := r.PairHistory(ctxT(t), evil, `q\"z`, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || hist[0].AvgRTT != 5 {
		t.Fatalf("history of the oddly named pair = %+v, want one sample of 5 ms", hist)
	}
	m, err := r.Matrix(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Cell(evil, `q\"z`); c == nil || c.Values[mesh.Latency][mesh.Mean] != 5 {
		t.Errorf("cell of the oddly named pair = %+v", c)
	}
}

func TestReaderMixedShardTypes(t *testing.T) {
	// failed is a float in an old shard and a string in the new one; avg_rtt_ms is a
	// string in the new shard (a collector without Telegraf's converter). Both must be
	// read: the raw path takes over because InfluxQL cannot aggregate text.
	s, cfg := testDB(t, false)
	end := time.Now().UTC().Truncate(time.Minute)
	old := end.Add(-10 * 24 * time.Hour)
	lines := "" +
		"ping,dst=198.18.0.2,dst_pop=fra,src_pop=ams,src_slug=ams-1 avg_rtt_ms=7.0,failed=0,jitter_ms=1.0,jitter_pct=14.0,loss_pct=0.0 " + itoa(old) + "\n" +
		"ping,dst=198.18.0.2,dst_pop=fra,src_pop=ams,src_slug=ams-1 avg_rtt_ms=\"20.0\",failed=\"0\",jitter_ms=\"2.0\",jitter_pct=\"10.0\",loss_pct=\"0.0\" " + itoa(end.Add(-3*time.Minute)) + "\n" +
		"ping,dst=198.18.0.2,dst_pop=fra,src_pop=ams,src_slug=ams-1 avg_rtt_ms=\"0.0\",failed=\"1\",jitter_ms=\"0.0\",jitter_pct=\"100.0\",loss_pct=\"100.0\" " + itoa(end.Add(-2*time.Minute)) + "\n" +
		"ping,dst=198.18.0.2,dst_pop=fra,src_pop=ams,src_slug=ams-1 avg_rtt_ms=\"30.0\",failed=\"0\",jitter_ms=\"4.0\",jitter_pct=\"13.3\",loss_pct=\"20.0\" " + itoa(end.Add(-1*time.Minute)) + "\n"
	if err := s.WriteLines(context.Background(), DefaultDatabase, lines); err != nil {
		t.Fatal(err)
	}
	r, _ := NewReader(cfg, 15*24*time.Hour)
	r.SetEnd(end)
	m, err := r.Matrix(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	c := m.Cell("ams", "fra")
	if c == nil || c.Samples != 4 {
		t.Fatalf("cell = %+v, want 4 samples over both shards", c)
	}
	if got := c.Values[mesh.Latency][mesh.Mean]; !near(got, 19) {
		t.Errorf("mean latency = %v, want 19 (7, 20, 30; the failed test excluded)", got)
	}
	if got := c.Values[mesh.Loss][mesh.Mean]; !near(got, 30) {
		t.Errorf("mean loss = %v, want 30", got)
	}
	if got := c.Values[mesh.Latency][mesh.Last]; got != 30 || c.Failed[mesh.Last] {
		t.Errorf("last latency = %v failed=%v", got, c.Failed[mesh.Last])
	}
	hist, err := r.PairHistory(ctxT(t), "ams", "fra", 100000)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 4 || !hist[2].Failed || hist[0].AvgRTT != 7 || hist[3].AvgRTT != 30 {
		t.Errorf("history = %+v", hist)
	}
}

func itoa(t time.Time) string { return strconvI(t.UnixNano()) }

func TestReaderReadOnlyUser(t *testing.T) {
	s, _ := testDB(t, true)
	end := time.Now().UTC().Truncate(time.Minute)
	f := newFixture(end, 10)
	tr := mesh.TraceResult{Time: end.Add(-2 * time.Hour), Src: "ams-1", SrcPop: "ams", Dst: "198.18.0.2", DstPop: "fra",
		Proto: "ICMP", DPort: 80, ASPath: "64511 64512", FinalHopTTL: 2, FinalHopRTT: 9.5}
	writeWorkshop(t, s, f, []mesh.TraceResult{tr})
	if err := s.CreateUser(ctxT(t), "grafana_ro", "ro-pw", "READ", DefaultDatabase); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(Config{URL: s.URL, Username: "grafana_ro", Password: "ro-pw"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Matrix(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Cell("ams", "sin"); c == nil || c.Samples != 10 {
		t.Errorf("ams→sin = %+v", c)
	}
	if h, err := r.PairHistory(ctxT(t), "ams", "sin", 60); err != nil || len(h) != 10 {
		t.Errorf("history: %d samples, %v", len(h), err)
	}
	// The only trace is older than the window: it still shows as the latest.
	traces, err := r.PairTraces(ctxT(t), "ams", "fra")
	if err != nil || len(traces) != 1 || traces[0].ASPath != "64511 64512" || !traces[0].Time.Equal(tr.Time) {
		t.Errorf("traces = %+v, %v", traces, err)
	}

	bad, _ := NewReader(Config{URL: s.URL, Username: "grafana_ro", Password: "not-the-pw"}, time.Hour)
	if _, err := bad.Matrix(ctxT(t)); err == nil || !strings.Contains(err.Error(), "INFLUX_PASSWORD") || strings.Contains(err.Error(), "not-the-pw") {
		t.Errorf("wrong password: %v", err)
	}
	nodb, _ := NewReader(Config{URL: s.URL, Database: "nosuch", Username: influxtest.AdminUser, Password: influxtest.AdminPassword}, time.Hour)
	if _, err := nodb.Matrix(ctxT(t)); err == nil || !strings.Contains(err.Error(), `has no database "nosuch"`) || !strings.Contains(err.Error(), "--influx-db") {
		t.Errorf("missing database: %v", err)
	}
}

func TestReaderCheck(t *testing.T) {
	s, cfg := testDB(t, false)
	r, _ := NewReader(cfg, time.Hour)
	if err := r.Check(ctxT(t)); err == nil || !strings.Contains(err.Error(), "no ping measurement") {
		t.Errorf("empty database: %v", err)
	}
	writeWorkshop(t, s, newFixture(time.Now().UTC(), 2), nil)
	if err := r.Check(ctxT(t)); err != nil {
		t.Errorf("filled database: %v", err)
	}
	nodb, _ := NewReader(Config{URL: cfg.URL, Database: "nosuch"}, time.Hour)
	if err := nodb.Check(ctxT(t)); err == nil || !strings.Contains(err.Error(), `has no database "nosuch"`) || !strings.Contains(err.Error(), DefaultDatabase) {
		t.Errorf("missing database: %v", err)
	}
	dead, _ := NewReader(Config{URL: "http://127.0.0.1:1"}, time.Hour)
	if err := dead.Check(ctxT(t)); err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("no server: %v", err)
	}
}

// TestReaderQuickMatrix: the first paint has every value of Matrix but p95, which stays
// NaN (no data, never a made-up figure) until the full read.
func TestReaderQuickMatrix(t *testing.T) {
	s, cfg := testDB(t, false)
	end := time.Now().UTC().Truncate(time.Minute)
	f := newFixture(end, 30)
	writeWorkshop(t, s, f, nil)
	r, _ := NewReader(cfg, time.Hour)
	r.SetEnd(end)
	if q := r.MatrixQuery(); !strings.Contains(q, "percentile(") {
		t.Fatal("the full query lost its percentiles")
	}
	quick, err := r.QuickMatrix(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	full, err := r.Matrix(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(quick.Pops, full.Pops) || len(quick.Pops) == 0 {
		t.Fatalf("pops %v vs %v", quick.Pops, full.Pops)
	}
	for _, src := range full.Pops {
		for _, dst := range full.Pops {
			q, w := quick.Cell(src, dst), full.Cell(src, dst)
			if (q == nil) != (w == nil) {
				t.Fatalf("%s→%s present in one matrix only", src, dst)
			}
			if q == nil {
				continue
			}
			for _, m := range mesh.Metrics {
				for _, st := range mesh.Stats {
					qv, wv := q.Values[m][st], w.Values[m][st]
					switch {
					case st == mesh.P95 && !math.IsNaN(qv):
						t.Errorf("%s→%s %s p95 = %v in the quick matrix, want NaN", src, dst, m, qv)
					case st != mesh.P95 && !(near(qv, wv) || math.IsNaN(qv) && math.IsNaN(wv)):
						t.Errorf("%s→%s %s %s: quick %v, full %v", src, dst, m, st, qv, wv)
					}
				}
			}
			if q.Samples != w.Samples || q.Failed != w.Failed {
				t.Errorf("%s→%s samples/failed differ", src, dst)
			}
		}
	}
}
