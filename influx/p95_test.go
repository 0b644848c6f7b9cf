package influx

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// weekFixture is a week and an hour of tests every 2 minutes between 3 PoPs, each pair
// with its own kind of latency: steady, with spikes, spread over three decades, with
// outages; loss from 5 probes (multiples of 20 %) and, ams→sin, from 10 and 3 probes.
func weekFixture(end time.Time) fixture {
	f := fixture{end: end}
	const every = 2 * time.Minute
	n := int((7*24*time.Hour + time.Hour) / every)
	pops := []string{"ams", "fra", "sin"}
	for i := range n {
		at := end.Add(-time.Duration(n-1-i) * every)
		for si, src := range pops {
			for di, dst := range pops {
				if si == di {
					continue
				}
				pair := si*3 + di
				// A deterministic spread: a hash of the test's index.
				u := float64((i*7919+pair*104729)%10007) / 10007
				var base float64
				switch pair {
				case 1: // ams→fra: steady, 7 ms ± 1
					base = 7 + u
				case 2: // ams→sin: 150 ms with a heavy tail
					base = 150 * math.Exp(1.5*u*u*u)
				case 3: // fra→ams: three decades, 0.5 ms .. 500 ms
					base = 0.5 * math.Pow(1000, u)
				case 5: // fra→sin: 40 ms, a spike every 17th test
					base = 40 + 2*u
					if i%17 == 0 {
						base = 900 + 100*u
					}
				default:
					base = 20 + 10*u
				}
				count := 5
				if pair == 2 {
					count = []int{10, 3}[i%2]
				}
				rtts := make([]float64, count)
				for k := range rtts {
					rtts[k] = base * (1 + 0.03*float64((i+k*3)%5))
					if (i*31+k*7+pair)%(23+pair) == 0 {
						rtts[k] = mesh.Lost
					}
				}
				if pair == 6 && i%50 < 3 { // sin→ams: outages
					for k := range rtts {
						rtts[k] = mesh.Lost
					}
				}
				r := mesh.PingResult{Time: at, Src: src + "-1", SrcPop: src, Dst: fmt.Sprintf("198.18.0.%d", di+1), DstName: dst + "-1", DstPop: dst}
				r.DerivePing(count, rtts, -1)
				f.pings = append(f.pings, r)
			}
		}
	}
	return f
}

// TestRollupP95Week: over 7 days the rollups' p95 of every pair and metric is within the
// histograms' 4.3 % of InfluxDB's own percentile() of the raw tests (loss exactly) and
// never outside the window's [min, max], from the hybrid read (6 h, 1 h and 10 min
// buckets with raw edges), the 6 h level alone, and snapshot's narrowed read; the week's
// window reaches its newest test (grid and drill-down).
func TestRollupP95Week(t *testing.T) {
	s, cfg := sharedDB(t)
	end := time.Now().UTC().Truncate(time.Minute).Add(-time.Minute)
	f := weekFixture(end)
	writeFixtureTo(t, s, cfg.Database, f)
	week := 7 * 24 * time.Hour
	r, _ := NewReader(cfg, week)
	t0 := time.Now()
	if err := r.SetupRollups(ctxT(t), RollupOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("setup %s", time.Since(t0))
	if err := r.SetupRollups(ctxT(t), RollupOptions{Backfill: true}); err != nil {
		t.Fatal(err)
	}
	t.Logf("rollups backfilled in %s", time.Since(t0))
	raw := r.At(week, time.Time{})
	_ = raw.SetRollup("raw")
	var want *mesh.Matrix
	if err := raw.MatrixSteps(ctxT(t), mesh.P95, func(st Step) { want = st.Matrix }); err != nil {
		t.Fatal(err)
	}
	if want.Time.IsZero() || !want.Time.Equal(end) {
		t.Fatalf("raw read's newest test %v, want %v", want.Time, end)
	}
	check := func(name string, got Step) {
		t.Helper()
		worst := 0.0
		if got.Matrix == nil {
			t.Fatalf("%s: no matrix", name)
		}
		if len(got.Notes) > 0 {
			t.Errorf("%s: notes %q", name, got.Notes)
		}
		for _, p := range pairsOf(want) {
			w, c := want.Cell(p.Src, p.Dst), got.Matrix.Cell(p.Src, p.Dst)
			if c == nil {
				t.Errorf("%s %v: no cell", name, p)
				continue
			}
			for _, m := range mesh.Metrics {
				checkP95(t, name+" "+fmt.Sprint(p), m, c, w.Values[m][mesh.P95])
				if raw, got := w.Values[m][mesh.P95], c.Values[m][mesh.P95]; raw > 0 {
					worst = math.Max(worst, math.Abs(got-raw)/raw)
				}
			}
		}
		t.Logf("%s: largest p95 error against percentile(): %.2f %%", name, 100*worst)
	}
	// The default read: hybrid, reaching the newest test.
	var auto Step
	if err := r.At(week, time.Time{}).MatrixSteps(ctxT(t), mesh.P95, func(st Step) { auto = st }); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(auto.Via, "rollup 6h+1h+10m and raw edges") {
		t.Errorf("7 d read via %q", auto.Via)
	}
	check("auto", auto)
	if !auto.Matrix.Time.Equal(end) {
		t.Errorf("7 d grid's newest test %v, want %v", auto.Matrix.Time, end)
	}
	for _, p := range pairsOf(want) {
		if c, w := auto.Matrix.Cell(p.Src, p.Dst), want.Cell(p.Src, p.Dst); c.Samples != w.Samples {
			t.Errorf("7 d %v: %d tests, raw %d (the newest minute missing?)", p, c.Samples, w.Samples)
		}
	}
	if auto.Oldest.IsZero() || auto.Oldest.Before(end.Add(-week)) {
		t.Errorf("oldest test in the window %v", auto.Oldest)
	}
	// snapshot's read of the same.
	snap, err := r.At(week, time.Time{}).ReadNeeds(ctxT(t), Needs{Stat: mesh.P95, Counts: true, Range: true})
	if err != nil {
		t.Fatal(err)
	}
	check("snapshot", snap)
	for _, p := range pairsOf(want) {
		if a, b := auto.Matrix.Cell(p.Src, p.Dst), snap.Matrix.Cell(p.Src, p.Dst); a.Values != b.Values || a.Samples != b.Samples {
			t.Errorf("%v: snapshot's cell differs from the grid's:\n%v\n%v", p, b.Values, a.Values)
		}
	}
	// snapshot's table: latency's mean alone, the grid's.
	table, err := r.At(week, time.Time{}).ReadNeeds(ctxT(t), Needs{Stat: mesh.Mean, Metrics: []mesh.Metric{mesh.Latency}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pairsOf(want) {
		a, b := auto.Matrix.Cell(p.Src, p.Dst), table.Matrix.Cell(p.Src, p.Dst)
		if b == nil || !near(a.Values[mesh.Latency][mesh.Mean], b.Values[mesh.Latency][mesh.Mean]) || a.Failed[mesh.Mean] != b.Failed[mesh.Mean] {
			t.Errorf("%v: the table's latency mean %v, the grid's %v", p, b, a.Values[mesh.Latency][mesh.Mean])
		}
	}
	// The 6 h level alone: its buckets that start in the window.
	r6 := r.At(week, time.Time{})
	_ = r6.SetRollup("6h")
	var six Step
	if err := r6.MatrixSteps(ctxT(t), mesh.P95, func(st Step) { six = st }); err != nil {
		t.Fatal(err)
	}
	if six.Via != "rollup 6h" {
		t.Fatalf("6h read via %q", six.Via)
	}
	for _, p := range pairsOf(six.Matrix) {
		c := six.Matrix.Cell(p.Src, p.Dst)
		for _, m := range mesh.Metrics {
			v := c.Values[m][mesh.P95]
			if math.IsNaN(v) || v > c.Values[m][mesh.Max] || v < c.Min[m] {
				t.Errorf("6h %v %s p95 %v outside [%v, %v]", p, m, v, c.Min[m], c.Values[m][mesh.Max])
			}
		}
	}
	// The drill-down of a week: 6 h buckets, then the tests after the level's newest
	// settled bucket, raw: every test counted, the last bucket holding the newest.
	bs, err := r.At(week, time.Time{}).PairBuckets(ctxT(t), "ams", "fra", 120)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, bk := range bs {
		total += bk.Tests
	}
	last := bs[len(bs)-1]
	// (The 6 h bucket the window starts in is left out: at most 180 tests.)
	if w := want.Cell("ams", "fra").Samples; total < w-180 || total > w {
		t.Errorf("drill-down counts %d tests, the window %d", total, w)
	}
	if got := last.Sample.Time.Add(last.Width); !got.After(end) {
		t.Errorf("drill-down ends %v (last bucket %v), newest test %v", got, last.Sample.Time, end)
	}
}

// TestRollupBackfillIsTheCQs: meshtop's backfill (the tests read once and filed here)
// writes the rows the continuous queries' own statements write over the same tests:
// every field of every bucket of the 10 min and 1 h levels, the histograms' included.
func TestRollupBackfillIsTheCQs(t *testing.T) {
	s, cfg := sharedDB(t)
	end := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	f := newFixture(end, 150)
	var b strings.Builder
	for _, r := range f.pings {
		b.WriteString(workshopPingLine(r, "203.0.113.9"))
	}
	// A test with impossible values, one without jitter fields, a loss of 1/7.
	at := end.Add(-17 * time.Minute).UnixNano()
	fmt.Fprintf(&b, "ping,dst=x,dst_pop=sin,src_pop=ams,src_slug=ams-2 avg_rtt_ms=-3,loss_pct=140,jitter_ms=0,jitter_pct=0 %d\n", at)
	fmt.Fprintf(&b, "ping,dst=x,dst_pop=fra,src_pop=ams,src_slug=ams-2 avg_rtt_ms=12.5,loss_pct=0 %d\n", at+1)
	fmt.Fprintf(&b, "ping,dst=x,dst_pop=ams,src_pop=sin,src_slug=sin-2 avg_rtt_ms=80.25,loss_pct=%g,jitter_ms=0.3,jitter_pct=0.37 %d\n", 100.0/7, at+2)
	if err := s.WriteLines(ctxT(t), cfg.Database, b.String()); err != nil {
		t.Fatal(err)
	}
	r, _ := NewReader(cfg, 3*time.Hour)
	if err := r.SetupRollups(ctxT(t), RollupOptions{Backfill: true}); err != nil {
		t.Fatal(err)
	}
	from, to := end.Add(-3*time.Hour), end.Add(time.Hour)
	for _, l := range []*rollupLevel{rollup10m, rollup1h} {
		// The level's statements, into a measurement of their own.
		for _, sel := range rollupSelects(l) {
			sel = strings.Replace(sel, QuoteIdent(l.measurement), QuoteIdent(l.measurement+"_cq"), 1)
			if l.from != nil {
				// ... from the statements' finer level, not the backfill's.
				sel = strings.Replace(sel, QuoteIdent(l.from.measurement), QuoteIdent(l.from.measurement+"_cq"), 1)
			}
			q := sel + backfillCond(sel, from, to) + fmt.Sprintf(rollupGroup, durationLiteral(l.bucket))
			if _, err := r.c.query(ctxT(t), q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		read := func(m string) map[string]map[string]any {
			res, err := r.c.query(ctxT(t), "SELECT * FROM "+QuoteIdent(l.rp)+"."+QuoteIdent(m)+` GROUP BY "src_pop", "dst_pop"`)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]map[string]any{}
			for _, rs := range res {
				for _, row := range rs.Series {
					for _, v := range row.Values {
						key := row.Tags["src_pop"] + ">" + row.Tags["dst_pop"] + "@" + fmt.Sprint(v[0])
						fields := map[string]any{}
						for i, c := range row.Columns {
							if i > 0 && v[i] != nil {
								fields[c] = fmt.Sprint(v[i])
							}
						}
						out[key] = fields
					}
				}
			}
			return out
		}
		got, want := read(l.measurement), read(l.measurement+"_cq")
		if len(want) == 0 || len(got) != len(want) {
			t.Fatalf("%s: %d rows from the backfill, %d from the statements", l.name, len(got), len(want))
		}
		hists := 0
		for k, w := range want {
			g := got[k]
			for c, wv := range w {
				if strings.HasPrefix(c, histPrefix) {
					hists++
				}
				gv := g[c]
				if gv != wv && !closeNums(gv, wv) {
					t.Errorf("%s %s %s: backfill %v, statements %v", l.name, k, c, gv, wv)
				}
			}
			for c := range g {
				if _, ok := w[c]; !ok {
					t.Errorf("%s %s: backfill wrote %s = %v, the statements nothing", l.name, k, c, g[c])
				}
			}
		}
		if hists == 0 {
			t.Errorf("%s: no histogram fields compared", l.name)
		}
	}
}

// closeNums: two printed numbers equal up to float rounding (sums added in another order).
func closeNums(a, b any) bool {
	var x, y float64
	if _, err := fmt.Sscan(fmt.Sprint(a), &x); err != nil {
		return false
	}
	if _, err := fmt.Sscan(fmt.Sprint(b), &y); err != nil {
		return false
	}
	return math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(y))
}

// TestRollupOldLayout: rollups made by an older meshtop (histograms h_<field>_NN) are
// never mixed with the new layout: a window they cover has no p95 and says why and what
// to run; running the rollup again computes the new histograms from the raw tests.
func TestRollupOldLayout(t *testing.T) {
	s, cfg := sharedDB(t)
	end := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	f := newFixture(end, 120)
	writeFixtureTo(t, s, cfg.Database, f)
	r, _ := NewReader(cfg, 2*time.Hour)
	r.SetEnd(end)
	if err := r.SetupRollups(ctxT(t), RollupOptions{}); err != nil {
		t.Fatal(err)
	}
	// The 1 h level as the first layout wrote it: sums and the old histogram fields.
	var old strings.Builder
	for _, c := range []struct {
		at   time.Time
		base float64
	}{{end.Add(-2 * time.Hour), 10}, {end.Add(-time.Hour), 11}} {
		fmt.Fprintf(&old, "ping_1h,dst_pop=sin,src_pop=ams n=60i,good=60i,bad=0i,avg_rtt_ms_sum=%g,avg_rtt_ms_min=%g,avg_rtt_ms_max=%g,avg_rtt_ms_last=%g,"+
			"jitter_pct_sum=60,jitter_pct_min=1,jitter_pct_max=1,jitter_pct_last=1,jitter_ms_sum=6,jitter_ms_min=0.1,jitter_ms_max=0.1,jitter_ms_last=0.1,"+
			"loss_pct_sum=0,loss_pct_min=0,loss_pct_max=0,loss_pct_last=0,h_avg_rtt_ms_20=60i %d\n", 60*c.base, c.base-1, c.base+1, c.base, c.at.UnixNano())
	}
	if err := s.WriteLinesRP(ctxT(t), cfg.Database, "mt_rollup_1h", old.String()); err != nil {
		t.Fatal(err)
	}
	r1 := r.At(2*time.Hour, end)
	_ = r1.SetRollup("1h")
	var got Step
	if err := r1.MatrixSteps(ctxT(t), mesh.P95, func(st Step) { got = st }); err != nil {
		t.Fatal(err)
	}
	c := got.Matrix.Cell("ams", "sin")
	if c == nil || !math.IsNaN(c.Values[mesh.Latency][mesh.P95]) {
		t.Fatalf("p95 from the old layout: %+v", c)
	}
	if len(got.Notes) == 0 || !strings.Contains(got.Notes[0], "older meshtop") || !strings.Contains(got.Notes[0], "run meshtop rollup") {
		t.Errorf("notes %q", got.Notes)
	}
	// Run again: the new histograms, from the raw tests, beside the old fields.
	var said []string
	if err := r.SetupRollups(ctxT(t), RollupOptions{Backfill: true, Progress: func(m string) { said = append(said, m) }}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(said, "\n"), "holds histograms of an older meshtop") {
		t.Errorf("setup did not say what happens to the old layout: %q", said)
	}
	if err := r1.MatrixSteps(ctxT(t), mesh.P95, func(st Step) { got = st }); err != nil {
		t.Fatal(err)
	}
	raw := f.expectedCells()[mesh.Pair{Src: "ams", Dst: "sin"}]
	checkP95(t, "after rollup", mesh.Latency, got.Matrix.Cell("ams", "sin"), raw.Values[mesh.Latency][mesh.P95])
	if len(got.Notes) > 0 {
		t.Errorf("notes after the rollup ran again: %q", got.Notes)
	}
}

// TestRollupAdviceOnce: a slow raw read of hours without rollups says, once, what
// rollups would save; with rollups, or read again, it says nothing.
func TestRollupAdviceOnce(t *testing.T) {
	defer func(d time.Duration) { rollupAdviceAfter = d }(rollupAdviceAfter)
	rollupAdviceAfter = 0
	s, cfg := sharedDB(t)
	end := time.Now().UTC().Truncate(time.Minute)
	f := newFixture(end, 30)
	writeFixtureTo(t, s, cfg.Database, f)
	r, _ := NewReader(cfg, 6*time.Hour)
	notes := func(rr *Reader) string {
		var got Step
		if err := rr.MatrixSteps(ctxT(t), mesh.Mean, func(st Step) { got = st }); err != nil {
			t.Fatal(err)
		}
		return strings.Join(got.Notes, "; ")
	}
	if n := notes(r.At(time.Hour, time.Time{})); n != "" {
		t.Errorf("an hour's read advises: %q", n)
	}
	if n := notes(r.At(6*time.Hour, time.Time{})); !strings.Contains(n, "no rollups: this 6h read took") || !strings.Contains(n, "meshtop rollup makes it about") {
		t.Errorf("6 h read without rollups: notes %q", n)
	}
	if n := notes(r.At(6*time.Hour, time.Time{})); n != "" {
		t.Errorf("said twice: %q", n)
	}
	// snapshot's read advises too (once per process: a new reader).
	r2, _ := NewReader(cfg, 24*time.Hour)
	st, err := r2.ReadNeeds(ctxT(t), Needs{Stat: mesh.Mean})
	if err != nil || !strings.Contains(strings.Join(st.Notes, ";"), "meshtop rollup makes") {
		t.Errorf("snapshot's read: %v %q", err, st.Notes)
	}
}

// writeFixtureTo writes the fixture's tests as the workshop's collector did into db.
func writeFixtureTo(t *testing.T, s interface {
	WriteLines(context.Context, string, string) error
}, db string, f fixture) {
	t.Helper()
	var b strings.Builder
	for _, r := range f.pings {
		b.WriteString(workshopPingLine(r, "203.0.113.9"))
	}
	if err := s.WriteLines(ctxT(t), db, b.String()); err != nil {
		t.Fatal(err)
	}
}
