package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/meshtop/meshtop/influx"
	"github.com/meshtop/meshtop/influx/influxtest"
	"github.com/meshtop/meshtop/mesh"
)

// rollupDays is how far back the 1 h rollup reaches for the 7 d and 30 d windows.
const rollupDays = 30

// prepareRollups backfills the rollups of the raw data (timed) and writes the 1 h
// rollup rows of the rollupDays before it, which raw data would have become: 30 days of
// raw tests (105 M points) are beyond a benchmark's budget, 30 days of hourly buckets
// (1.7 M rows) are not. Both are kept in dir with the raw data.
func prepareRollups(ctx context.Context, srv *influxtest.Server, dir string, end time.Time, pops []string, hours float64, reuse bool) error {
	marker := filepath.Join(dir, "rollups-done")
	if _, err := os.Stat(marker); err == nil && reuse {
		fmt.Println("reusing the rollups in", dir)
		return prepare6h(ctx, srv, dir)
	}
	backfilled := filepath.Join(dir, "backfill-done")
	if _, err := os.Stat(backfilled); err != nil || !reuse {
		r, err := influx.NewReader(influx.Config{URL: srv.URL, Timeout: 30 * time.Minute}, time.Hour)
		if err != nil {
			return err
		}
		t0 := time.Now()
		if err := r.SetupRollups(ctx, influx.RollupOptions{Backfill: true}); err != nil {
			return err
		}
		fmt.Printf("rollup backfill of %.0f h of raw data (10 min and 1 h): %s\n", hours, time.Since(t0).Round(time.Millisecond))
		if err := os.WriteFile(backfilled, []byte(time.Since(t0).String()+"\n"), 0o644); err != nil {
			return err
		}
	}
	// A half-written earlier attempt leaves rows of the wrong type: start the 1 h level
	// over (its shards dropped, then backfilled from the 10 min level, which is quick).
	if err := dropShards(srv.URL, "mt_rollup_1h"); err != nil {
		return err
	}
	r1, err := influx.NewReader(influx.Config{URL: srv.URL, Timeout: 30 * time.Minute}, time.Hour)
	if err != nil {
		return err
	}
	if err := r1.SetupRollups(ctx, influx.RollupOptions{Backfill: true, Only: "1h"}); err != nil {
		return err
	}
	t0 := time.Now()
	rawStart := end.Add(-time.Duration(hours * float64(time.Hour))).Truncate(time.Hour)
	n, err := writeOldRollups(ctx, srv, pops, rawStart.Add(-rollupDays*24*time.Hour), rawStart)
	if err != nil {
		return err
	}
	fmt.Printf("wrote %d older 1 h rollup rows (%d days): %s\n", n, rollupDays, time.Since(t0).Round(time.Millisecond))
	if err := os.WriteFile(marker, []byte("ok\n"), 0o644); err != nil {
		return err
	}
	return prepare6h(ctx, srv, dir)
}

// prepare6h backfills the 6 h level from the 1 h level (all of its 31 days) with
// meshtop rollup's own code, once per data directory.
func prepare6h(ctx context.Context, srv *influxtest.Server, dir string) error {
	marker := filepath.Join(dir, "rollup6h-done")
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	if err := dropShards(srv.URL, "mt_rollup_6h"); err != nil {
		return err
	}
	r, err := influx.NewReader(influx.Config{URL: srv.URL, Timeout: 30 * time.Minute}, time.Hour)
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := r.SetupRollups(ctx, influx.RollupOptions{Backfill: true, Only: "6h"}); err != nil {
		return err
	}
	fmt.Printf("6 h rollup backfilled from the 1 h level (%d days): %s\n", rollupDays+1, time.Since(t0).Round(time.Millisecond))
	return os.WriteFile(marker, []byte(time.Since(t0).String()+"\n"), 0o644)
}

// writeOldRollups writes 1 h buckets of the bench mesh from from to to, as the
// continuous queries would have made them from the same kind of tests.
func writeOldRollups(ctx context.Context, srv *influxtest.Server, pops []string, from, to time.Time) (int, error) {
	var buf bytes.Buffer
	n := 0
	flush := func() error {
		if buf.Len() == 0 {
			return nil
		}
		err := srv.WriteLinesRP(ctx, influx.DefaultDatabase, "mt_rollup_1h", buf.String())
		buf.Reset()
		return err
	}
	for at := from; at.Before(to); at = at.Add(time.Hour) {
		for si, src := range pops {
			for di, dst := range pops {
				if si == di {
					continue
				}
				base := 5 + float64((si*7+di*13)%250) + 1.5
				fmt.Fprintf(&buf, "ping_1h,dst_pop=%s,src_pop=%s n=60i,good=59i,failed=1i,bad=0i,avg_rtt_ms_sum=%g,avg_rtt_ms_min=%g,avg_rtt_ms_max=%g,avg_rtt_ms_last=%g,"+
					"jitter_pct_sum=%g,jitter_pct_min=0.1,jitter_pct_max=20,jitter_pct_last=5,jitter_ms_sum=%g,jitter_ms_min=0,jitter_ms_max=3,jitter_ms_last=1,"+
					"loss_pct_sum=160,loss_pct_min=0,loss_pct_max=100,loss_pct_last=0,%s=59i,%s=50i,%s=9i,%s=55i,%s=4i,%s=59i,%s=1i %d\n",
					dst, src, base*59, base-1.5, base+1.5, base, 5.0*59, 1.0*59,
					histName(mesh.Latency, base), histName(mesh.JitterPct, 5), histName(mesh.JitterPct, 15), histName(mesh.JitterMs, 1), histName(mesh.JitterMs, 2.5),
					histName(mesh.Loss, 0), histName(mesh.Loss, 100), at.UnixNano())
				if n++; n%20000 == 0 {
					if err := flush(); err != nil {
						return n, err
					}
				}
			}
		}
	}
	return n, flush()
}

// histName is the histogram field holding v (see influx.histSpecs; kept in step by
// the test that reads these rows back through the reader).
func histName(m mesh.Metric, v float64) string { return influx.HistField(m, v) }

// timing is one measured step, median over runs.
type timing struct {
	name string
	ds   []time.Duration
}

func (t *timing) add(d time.Duration) { t.ds = append(t.ds, d) }

// measure times, in one run and interleaved, the dashboard's queries and each meshtop
// step, and prints them as ratios to the dashboard's latency panel.
func measure(ctx context.Context, base string, end time.Time, window time.Duration, pops []string, sweeps, runs int) error {
	startLit := end.Add(-window).Format(time.RFC3339Nano)
	endLit := end.Format(time.RFC3339Nano)
	tf := fmt.Sprintf("time > '%s' and time <= '%s'", startLit, endLit)
	panel := func(field string) string {
		return fmt.Sprintf("select mean(%s) from ping where %s and dst_pop != 'Unknown' group by dst_pop, src_pop", field, tf)
	}
	r, err := influx.NewReader(influx.Config{URL: base, Timeout: 30 * time.Minute}, window)
	if err != nil {
		return err
	}
	r.SetEnd(end)
	if err := r.SetRollup("raw"); err != nil {
		return err
	}
	names := []string{
		"dashboard: latency panel (mean avg_rtt_ms)",
		"dashboard: all three panels (latency, jitter %, loss)",
		"meshtop: first paint (no rollups: newest raw tests)",
		"meshtop: stat on screen (mean of every metric)",
		"meshtop: filled (mean and max of latency, jitter %, loss)",
		"meshtop: complete (+ jitter ms, counts, implausible check)",
		"meshtop: p95 on screen (whole read, p95 included)",
		"meshtop: refresh 60 s later (incremental)",
		"meshtop: drill-down 24 h (raw, 120 buckets)",
		"meshtop 7 d (auto: 6 h rollup, edges to the newest test): filled",
		"meshtop 30 d (auto: 6 h rollup, edges to the newest test): filled",
		"meshtop 30 d (auto): complete, p95 from histograms",
		"meshtop: drill-down 30 d (auto: 6 h rollup)",
		"form A: mean(avg_rtt_ms) WHERE avg_rtt_ms > 0",
		"form B: sum+count(avg_rtt_ms) and count WHERE avg_rtt_ms <= 0",
		"meshtop steps 2+3 overlapped: stat on screen (mean)",                 // 15
		"meshtop steps 2+3 overlapped: filled (mean and max)",                 // 16
		"meshtop 7 d (1 h rollup, was): filled",                               // 17
		"meshtop 30 d (1 h rollup, was): filled",                              // 18
		"filled form: 3 then 3 requests (mean, then max)",                     // 19
		"filled form: 6 concurrent requests, one aggregate",                   // 20
		"filled form: 3 requests of mean(f), max(f)",                          // 21
		"filled form: 6 concurrent, max latency unconditioned",                // 22
		"meshtop 24 h (auto: rollups + raw edges): first paint",               // 23
		"meshtop 24 h (auto: rollups + raw edges): filled (mean, max)",        // 24
		"meshtop 24 h (auto: rollups + raw edges): complete, checked",         // 25
		"meshtop 24 h ending now (auto, unsettled tail read as rows): filled", // 26
		"meshtop 24 h ending now (auto): complete, checked",                   // 27
		"meshtop 24 h p95 on screen (auto): filled (mean, max)",               // 28
		"meshtop 24 h p95 on screen (auto): complete, p95 from histograms",    // 29
		"snapshot 24 h --stat mean, table (rollups)",                          // 30
		"snapshot 24 h --stat mean, json (rollups)",                           // 31
		"snapshot 24 h --stat p95, json (rollups)",                            // 32
		"snapshot 24 h --stat mean, table (no rollups)",                       // 33
		"snapshot 24 h --stat mean, json (no rollups)",                        // 34
		"snapshot 24 h --stat p95, json (no rollups)",                         // 35
		"meshtop 24 h no rollups: first grid (newest raw tests)",              // 36
		"snapshot 7 d --stat mean, json (rollups)",                            // 37
		"snapshot 7 d --stat p95, json (rollups)",                             // 38
	}
	ts := make([]*timing, len(names))
	for i, n := range names {
		ts[i] = &timing{name: n}
	}
	wr := func(w time.Duration) *influx.Reader {
		rr := r.At(w, end)
		_ = rr.SetRollup("auto")
		return rr
	}
	var formsEqual, hybridEqual = true, true
	for run := range runs {
		d, err := post(base, panel("avg_rtt_ms"))
		if err != nil {
			return err
		}
		ts[0].add(d)
		t0 := time.Now()
		var wg sync.WaitGroup
		var perr error
		var mu sync.Mutex
		for _, f := range []string{"avg_rtt_ms", "jitter_pct", "loss_pct"} {
			wg.Go(func() {
				if _, err := post(base, panel(f)); err != nil {
					mu.Lock()
					perr = err
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if perr != nil {
			return perr
		}
		ts[1].add(time.Since(t0))

		t0 = time.Now()
		n := 0
		var final *mesh.Matrix
		err = r.MatrixSteps(ctx, mesh.Mean, func(s influx.Step) {
			n++
			switch n {
			case 1:
				ts[2].add(time.Since(t0))
			case 2:
				ts[3].add(time.Since(t0))
			case 3:
				ts[4].add(time.Since(t0))
			}
			if s.Pending == "" {
				ts[5].add(time.Since(t0))
				final = s.Matrix
			}
		})
		if err != nil {
			return err
		}
		if c := final.Cell(pops[0], pops[1]); c == nil || c.Samples != sweeps {
			return fmt.Errorf("cell %s→%s = %+v, want %d samples", pops[0], pops[1], c, sweeps)
		}
		if run < 2 { // p95 is slow: two runs
			t0 = time.Now()
			var raw95 *mesh.Matrix
			if err := r.MatrixSteps(ctx, mesh.P95, func(s influx.Step) { raw95 = s.Matrix }); err != nil {
				return err
			}
			ts[6].add(time.Since(t0))
			ra := r.At(window, end)
			_ = ra.SetRollup("auto")
			hist95, _, err := timeSteps(ctx, ra, mesh.P95, nil, ts[28], ts[29])
			if err != nil {
				return err
			}
			if run == 0 {
				fmt.Println("  " + p95Accuracy(hist95, raw95))
			}
		}
		// snapshot --source influx: the narrowed read (what the output shows), with the
		// rollups (hybrid, the window ending now: its unsettled tail raw) and without.
		for i, c := range []struct {
			rollup string
			n      influx.Needs
			w      time.Duration
			ts     *timing
			every  bool
		}{
			{"auto", influx.Needs{Stat: mesh.Mean, Metrics: []mesh.Metric{mesh.Latency}}, window, ts[30], true},
			{"auto", influx.Needs{Stat: mesh.Mean, Counts: true, Range: true}, window, ts[31], true},
			{"auto", influx.Needs{Stat: mesh.P95, Counts: true, Range: true}, window, ts[32], true},
			{"raw", influx.Needs{Stat: mesh.Mean, Metrics: []mesh.Metric{mesh.Latency}}, window, ts[33], true},
			{"raw", influx.Needs{Stat: mesh.Mean, Counts: true, Range: true}, window, ts[34], true},
			{"raw", influx.Needs{Stat: mesh.P95, Counts: true, Range: true}, window, ts[35], false},
			{"auto", influx.Needs{Stat: mesh.Mean, Counts: true, Range: true}, 7 * 24 * time.Hour, ts[37], true},
			{"auto", influx.Needs{Stat: mesh.P95, Counts: true, Range: true}, 7 * 24 * time.Hour, ts[38], true},
		} {
			if !c.every && run >= 2 {
				continue
			}
			rs := r.At(c.w, end)
			_ = rs.SetRollup(c.rollup)
			rs.SetClock(func() time.Time { return end })
			t0 = time.Now()
			st, err := rs.ReadNeeds(ctx, c.n)
			if err != nil {
				return fmt.Errorf("snapshot %d: %w", i, err)
			}
			c.ts.add(time.Since(t0))
			if run == 0 {
				fmt.Printf("  %s: read %s\n", c.ts.name, st.Via)
			}
		}
		// The first grid of a database without rollups: the newest raw tests.
		rf := r.At(window, end)
		_ = rf.SetRollup("raw")
		if _, _, err := timeSteps(ctx, rf, mesh.Mean, ts[36], nil, nil); err != nil {
			return err
		}
		// Incremental refresh: a complete read at end, then one 60 s later.
		now := end
		rr := r.At(window, time.Time{})
		_ = rr.SetRollup("raw")
		rr.SetClock(func() time.Time { return now })
		prev, err := rr.ReadMesh(ctx, mesh.Mean, func(influx.Step) {})
		if err != nil {
			return err
		}
		now = end.Add(time.Minute)
		t0 = time.Now()
		if _, err := rr.Refresh(ctx, prev, mesh.Mean, func(influx.Step) {}); err != nil {
			return err
		}
		ts[7].add(time.Since(t0))
		t0 = time.Now()
		if _, err := r.PairBuckets(ctx, pops[0], pops[1], 120); err != nil {
			return err
		}
		ts[8].add(time.Since(t0))
		for i, w := range []time.Duration{7 * 24 * time.Hour, rollupDays * 24 * time.Hour} {
			for _, lvl := range []string{"auto", "1h"} {
				rw := wr(w)
				_ = rw.SetRollup(lvl)
				filled := ts[9+i]
				if lvl != "auto" {
					filled = ts[17+i]
				}
				_, via, err := timeSteps(ctx, rw, mesh.Mean, nil, filled, nil)
				if err != nil {
					return err
				}
				if wantVia := map[string]string{"auto": "rollup 6h+1h", "1h": "rollup 1h"}[lvl]; !strings.HasPrefix(via, wantVia) {
					return fmt.Errorf("%s window (%s) read from %q, want %q", w, lvl, via, wantVia)
				}
			}
		}
		// The default read of a 24 h window: whole buckets from the rollups, raw edges,
		// checked against raw test counts; once with every bucket settled (the data is
		// older than the continuous queries' reach), once as if the window ended now.
		for i, clock := range []time.Duration{3 * time.Hour, 0} {
			ra := r.At(window, end)
			_ = ra.SetRollup("auto")
			ra.SetClock(func() time.Time { return end.Add(clock) })
			paint, filled, complete := ts[23], ts[24], ts[25]
			if i == 1 {
				paint, filled, complete = nil, ts[26], ts[27]
			}
			hy, via, err := timeSteps(ctx, ra, mesh.Mean, paint, filled, complete)
			if err != nil {
				return err
			}
			if !strings.HasSuffix(via, ", checked") {
				return fmt.Errorf("24 h auto read via %q, want the rollups and raw edges, checked", via)
			}
			if diff := sameCells(hy, final); diff != "" {
				hybridEqual = false
				fmt.Println("hybrid read differs from raw:", diff)
			}
		}
		// The same read with steps 2 and 3 overlapped.
		ro := r.At(window, end)
		_ = ro.SetRollup("raw")
		ro.SetOverlap(true)
		t0 = time.Now()
		n = 0
		if err := ro.MatrixSteps(ctx, mesh.Mean, func(s influx.Step) {
			switch n++; n {
			case 2:
				ts[15].add(time.Since(t0))
			case 3:
				ts[16].add(time.Since(t0))
			}
		}); err != nil {
			return err
		}
		if err := filledForms(base, tf, ts[19:23]); err != nil {
			return err
		}
		t0 = time.Now()
		if err := wr(rollupDays*24*time.Hour).MatrixSteps(ctx, mesh.P95, func(influx.Step) {}); err != nil {
			return err
		}
		ts[11].add(time.Since(t0))
		t0 = time.Now()
		if _, err := wr(rollupDays*24*time.Hour).PairBuckets(ctx, pops[0], pops[1], 120); err != nil {
			return err
		}
		ts[12].add(time.Since(t0))
		// The candidate forms of "mean latency over successful tests".
		a, da, err := query(base, fmt.Sprintf(`SELECT mean("avg_rtt_ms") AS "m" FROM "ping" WHERE %s AND "dst_pop" != 'Unknown' AND "avg_rtt_ms" > 0 GROUP BY "src_pop", "dst_pop"`, tf))
		if err != nil {
			return err
		}
		ts[13].add(da)
		t0 = time.Now()
		var b, fcount map[string]map[string]float64
		var berr, ferr error
		wg.Go(func() {
			b, _, berr = query(base, fmt.Sprintf(`SELECT sum("avg_rtt_ms") AS "s", count("avg_rtt_ms") AS "n" FROM "ping" WHERE %s AND "dst_pop" != 'Unknown' GROUP BY "src_pop", "dst_pop"`, tf))
		})
		wg.Go(func() {
			fcount, _, ferr = query(base, fmt.Sprintf(`SELECT count("avg_rtt_ms") AS "f" FROM "ping" WHERE %s AND "dst_pop" != 'Unknown' AND "avg_rtt_ms" <= 0 GROUP BY "src_pop", "dst_pop"`, tf))
		})
		wg.Wait()
		if berr != nil || ferr != nil {
			return fmt.Errorf("form B: %v %v", berr, ferr)
		}
		ts[14].add(time.Since(t0))
		for k, row := range a {
			mb := b[k]["s"] / (b[k]["n"] - fcount[k]["f"])
			if math.Abs(mb-row["m"]) > 1e-9*math.Abs(row["m"]) {
				formsEqual = false
			}
		}
	}
	ref := median(ts[0].ds)
	fmt.Printf("\n%-62s %10s %8s\n", "step (median of runs)", "wall", "ratio")
	for _, t := range ts {
		m := median(t.ds)
		fmt.Printf("%-62s %10s %7.2fx\n", t.name, m.Round(time.Millisecond), float64(m)/float64(ref))
	}
	fmt.Printf("forms A and B give the same means (1e-9): %v\n", formsEqual)
	fmt.Printf("the 24 h auto read (rollups + raw edges) gives the raw read's cells (last, mean, max, samples, failed; 1e-9): %v\n", hybridEqual)
	fmt.Printf("ratios to the three panels: filled (auto) %.2fx, ending now %.2fx; raw filled %.2fx\n",
		float64(median(ts[24].ds))/float64(median(ts[1].ds)), float64(median(ts[26].ds))/float64(median(ts[1].ds)), float64(median(ts[4].ds))/float64(median(ts[1].ds)))
	three := float64(median(ts[1].ds))
	fmt.Printf("snapshot 24 h / the three panels: mean table %.2fx, mean json %.2fx, p95 json %.2fx (rollups); mean table %.2fx, mean json %.2fx (no rollups)\n",
		float64(median(ts[30].ds))/three, float64(median(ts[31].ds))/three, float64(median(ts[32].ds))/three,
		float64(median(ts[33].ds))/three, float64(median(ts[34].ds))/three)
	fmt.Printf("no rollups, first grid / one panel query: %.2fx; complete 24 h read raw / hybrid (rollups): %.1fx\n",
		float64(median(ts[36].ds))/float64(ref), float64(median(ts[5].ds))/float64(median(ts[27].ds)))
	return nil
}

// filledForms times, as raw requests, the candidate shapes of "mean and max of latency,
// jitter % and loss over successful tests (loss: all)", and checks they agree.
func filledForms(base, tf string, ts []*timing) error {
	const good = ` AND "avg_rtt_ms" > 0`
	q := func(cols, cond string) string {
		return fmt.Sprintf(`SELECT %s FROM "ping" WHERE %s AND "dst_pop" != 'Unknown'%s GROUP BY "src_pop", "dst_pop"`, cols, tf, cond)
	}
	one := func(agg, f string, cond string) string { return q(agg+"("+f+") AS \"v\"", cond) }
	means := []string{one("mean", "avg_rtt_ms", good), one("mean", "jitter_pct", good), one("mean", "loss_pct", "")}
	maxes := []string{one("max", "avg_rtt_ms", good), one("max", "jitter_pct", good), one("max", "loss_pct", "")}
	maxesFree := []string{one("max", "avg_rtt_ms", ""), maxes[1], maxes[2]}
	both := []string{q(`mean("avg_rtt_ms") AS "m", max("avg_rtt_ms") AS "x"`, good), q(`mean("jitter_pct") AS "m", max("jitter_pct") AS "x"`, good),
		q(`mean("loss_pct") AS "m", max("loss_pct") AS "x"`, "")}
	conc := func(qs []string) ([]map[string]map[string]float64, error) {
		out := make([]map[string]map[string]float64, len(qs))
		errs := make([]error, len(qs))
		var wg sync.WaitGroup
		for i, qq := range qs {
			wg.Go(func() { out[i], _, errs[i] = query(base, qq) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	t0 := time.Now()
	m1, err := conc(means)
	if err != nil {
		return err
	}
	x1, err := conc(maxes)
	if err != nil {
		return err
	}
	ts[0].add(time.Since(t0))
	t0 = time.Now()
	if _, err := conc(append(append([]string{}, means...), maxes...)); err != nil {
		return err
	}
	ts[1].add(time.Since(t0))
	t0 = time.Now()
	b, err := conc(both)
	if err != nil {
		return err
	}
	ts[2].add(time.Since(t0))
	t0 = time.Now()
	f, err := conc(append(append([]string{}, means...), maxesFree...))
	if err != nil {
		return err
	}
	ts[3].add(time.Since(t0))
	for i := range 3 {
		for k, row := range m1[i] {
			if b[i][k]["m"] != row["v"] || b[i][k]["x"] != x1[i][k]["v"] || f[3+i][k]["v"] != x1[i][k]["v"] {
				return fmt.Errorf("filled forms differ for %s metric %d: mean %v/%v max %v/%v/%v", k, i, row["v"], b[i][k]["m"], x1[i][k]["v"], b[i][k]["x"], f[3+i][k]["v"])
			}
		}
	}
	return nil
}

// post runs one query and times it (the answer read fully, as a client would).
func post(base, q string) (time.Duration, error) {
	_, d, err := query(base, q)
	return d, err
}

// query runs q and returns its single-row series as src→dst→column→value.
func query(base, q string) (map[string]map[string]float64, time.Duration, error) {
	t0 := time.Now()
	resp, err := http.PostForm(base+"/query", url.Values{"db": {influx.DefaultDatabase}, "q": {q}})
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	d := time.Since(t0)
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("query: HTTP %d %v %.200s", resp.StatusCode, err, body)
	}
	var res struct {
		Results []struct {
			Series []struct {
				Tags    map[string]string `json:"tags"`
				Columns []string          `json:"columns"`
				Values  [][]any           `json:"values"`
			} `json:"series"`
		} `json:"results"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return nil, 0, err
	}
	out := map[string]map[string]float64{}
	for _, r := range res.Results {
		for _, s := range r.Series {
			k := s.Tags["src_pop"] + ">" + s.Tags["dst_pop"]
			row := map[string]float64{}
			for i, c := range s.Columns {
				if len(s.Values) > 0 && i < len(s.Values[0]) {
					if f, ok := s.Values[0][i].(float64); ok {
						row[c] = f
					}
				}
			}
			out[k] = row
		}
	}
	_ = strings.TrimSpace
	return out, d, nil
}

// dropShards drops every shard of a retention policy.
func dropShards(base, rp string) error {
	resp, err := http.PostForm(base+"/query", url.Values{"q": {"SHOW SHARDS"}})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var res struct {
		Results []struct {
			Series []struct {
				Columns []string `json:"columns"`
				Values  [][]any  `json:"values"`
			} `json:"series"`
		} `json:"results"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return err
	}
	for _, r := range res.Results {
		for _, s := range r.Series {
			idx := map[string]int{}
			for i, c := range s.Columns {
				idx[c] = i
			}
			for _, v := range s.Values {
				if v[idx["retention_policy"]] != rp {
					continue
				}
				id := fmt.Sprint(v[idx["id"]])
				if _, err := http.PostForm(base+"/query", url.Values{"q": {"DROP SHARD " + id}}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// timeSteps runs a progressive read and times its first paint, the step where mean and
// max of latency, jitter % and loss are all in (filled) and its end; nil timings are
// not kept.
func timeSteps(ctx context.Context, r *influx.Reader, want mesh.Stat, paint, filled, complete *timing) (*mesh.Matrix, string, error) {
	t0 := time.Now()
	n, got := 0, false
	var final *mesh.Matrix
	var via string
	err := r.MatrixSteps(ctx, want, func(s influx.Step) {
		if n++; n == 1 && paint != nil {
			paint.add(time.Since(t0))
		}
		all := true
		for _, m := range []mesh.Metric{mesh.Latency, mesh.JitterPct, mesh.Loss} {
			all = all && s.Has(m, mesh.Mean) && s.Has(m, mesh.Max)
		}
		if all && !got {
			got = true
			if filled != nil {
				filled.add(time.Since(t0))
			}
		}
		if s.Pending == "" {
			if complete != nil {
				complete.add(time.Since(t0))
			}
			final, via = s.Matrix, s.Via
		}
	})
	return final, via, err
}

// sameCells compares two reads' cells (p95 aside): "" when equal to 1e-9.
func sameCells(a, b *mesh.Matrix) string {
	near := func(x, y float64) bool {
		if math.IsNaN(x) || math.IsNaN(y) {
			return math.IsNaN(x) && math.IsNaN(y)
		}
		return math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(y))
	}
	n := 0
	for _, s := range b.Pops {
		for _, d := range b.Pops {
			cb := b.Cell(s, d)
			ca := a.Cell(s, d)
			if cb == nil {
				if ca != nil {
					return fmt.Sprintf("%s→%s only in one", s, d)
				}
				continue
			}
			if ca == nil {
				return fmt.Sprintf("%s→%s missing", s, d)
			}
			n++
			if ca.Samples != cb.Samples || ca.Failed != cb.Failed || ca.Err != cb.Err || !ca.Last.Time.Equal(cb.Last.Time) {
				return fmt.Sprintf("%s→%s samples %d/%d failed %v/%v err %q/%q", s, d, ca.Samples, cb.Samples, ca.Failed, cb.Failed, ca.Err, cb.Err)
			}
			for _, m := range mesh.Metrics {
				for _, st := range []mesh.Stat{mesh.Last, mesh.Mean, mesh.Max} {
					if !near(ca.Values[m][st], cb.Values[m][st]) {
						return fmt.Sprintf("%s→%s %s/%s %v, raw %v", s, d, m, st, ca.Values[m][st], cb.Values[m][st])
					}
				}
			}
		}
	}
	if n == 0 {
		return "no cells"
	}
	return ""
}

// p95Accuracy compares the p95 of every cell and metric from the rollups' histograms
// with percentile() over the raw tests: the largest relative error, and how many lie
// above the cell's max.
func p95Accuracy(hist, raw *mesh.Matrix) string {
	worst, above, n := 0.0, 0, 0
	var at string
	for _, s := range raw.Pops {
		for _, d := range raw.Pops {
			rc, hc := raw.Cell(s, d), hist.Cell(s, d)
			if rc == nil || hc == nil {
				continue
			}
			for _, m := range mesh.Metrics {
				want, got := rc.Values[m][mesh.P95], hc.Values[m][mesh.P95]
				if math.IsNaN(want) || math.IsNaN(got) || want == 0 {
					continue
				}
				n++
				if e := math.Abs(got-want) / want; e > worst {
					worst, at = e, fmt.Sprintf("%s→%s %s: %.3f, percentile() %.3f", s, d, m, got, want)
				}
				if got > hc.Values[m][mesh.Max] {
					above++
				}
			}
		}
	}
	return fmt.Sprintf("p95 from the rollups' histograms vs percentile() of the raw tests, %d cell metrics: largest error %.2f %% (%s); above the cell's max: %d", n, 100*worst, at, above)
}
