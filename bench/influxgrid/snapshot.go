package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/meshtop/meshtop/influx"
	"github.com/meshtop/meshtop/mesh"
)

// measureSnapshot times, interleaved in each run, the dashboard's panel queries (one,
// and the three at once) and snapshot's reads of the same window with and without the
// rollups (a database as the workshop left it: the raw tests), and the first grid of a
// raw read, and prints them as ratios to the three panels and to one.
func measureSnapshot(ctx context.Context, base string, end time.Time, window time.Duration, runs int) error {
	tf := fmt.Sprintf("time > '%s' and time <= '%s'", end.Add(-window).Format(time.RFC3339Nano), end.Format(time.RFC3339Nano))
	panel := func(field string) string {
		return fmt.Sprintf("select mean(%s) from ping where %s and dst_pop != 'Unknown' group by dst_pop, src_pop", field, tf)
	}
	r, err := influx.NewReader(influx.Config{URL: base, Timeout: 30 * time.Minute}, window)
	if err != nil {
		return err
	}
	one, three := &timing{name: "dashboard: latency panel"}, &timing{name: "dashboard: the three panels, concurrent"}
	table := influx.Needs{Stat: mesh.Mean, Metrics: []mesh.Metric{mesh.Latency}}
	json := influx.Needs{Stat: mesh.Mean, Counts: true, Range: true}
	cases := []struct {
		t      *timing
		rollup string
		n      influx.Needs
	}{
		{&timing{name: "snapshot --stat mean (table), rollups"}, "auto", table},
		{&timing{name: "snapshot --stat mean --format json, rollups"}, "auto", json},
		{&timing{name: "snapshot --stat mean (table), no rollups"}, "raw", table},
		{&timing{name: "snapshot --stat mean --format json, no rollups"}, "raw", json},
	}
	first := &timing{name: "no rollups: first grid (newest raw tests)"}
	for range runs {
		d, err := post(base, panel("avg_rtt_ms"))
		if err != nil {
			return err
		}
		one.add(d)
		t0 := time.Now()
		var wg sync.WaitGroup
		for _, f := range []string{"avg_rtt_ms", "jitter_pct", "loss_pct"} {
			wg.Go(func() { _, _ = post(base, panel(f)) })
		}
		wg.Wait()
		three.add(time.Since(t0))
		for _, c := range cases {
			rs := r.At(window, end)
			_ = rs.SetRollup(c.rollup)
			rs.SetClock(func() time.Time { return end }) // the window ends now: its unsettled tail raw
			t0 := time.Now()
			if _, err := rs.ReadNeeds(ctx, c.n); err != nil {
				return err
			}
			c.t.add(time.Since(t0))
		}
		rf := r.At(window, end)
		_ = rf.SetRollup("raw")
		if _, _, err := timeSteps(ctx, rf, mesh.Mean, first, nil, nil); err != nil {
			return err
		}
	}
	p1, p3 := median(one.ds), median(three.ds)
	fmt.Printf("\n%-52s %10s %12s %10s\n", "(median of runs)", "wall", "× 3 panels", "× 1 panel")
	for _, t := range append([]*timing{one, three}, cases[0].t, cases[1].t, cases[2].t, cases[3].t, first) {
		m := median(t.ds)
		fmt.Printf("%-52s %10s %11.2fx %9.2fx   (runs: %s)\n", t.name, m.Round(time.Millisecond), float64(m)/float64(p3), float64(m)/float64(p1), list(t.ds))
	}
	return nil
}
