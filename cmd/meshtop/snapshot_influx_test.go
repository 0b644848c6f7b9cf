package main

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/tui"
)

// TestSnapshotInfluxIsTheGrid: `snapshot --source influx` prints the numbers history's
// grid shows for the same window, under every stat, from rollups (the hybrid read) and
// from the raw tests; each value is named by its stat, min and max are the window's,
// and JSON says the window, where the values come from and how much of it holds data.
func TestSnapshotInfluxIsTheGrid(t *testing.T) {
	srv, ctx := metricsDB(t, 120*time.Second)
	end := time.Now().UTC().Truncate(time.Minute)
	// Five hours of tests in a 6 h window: the snapshot says so.
	lines := meshLines([]string{"ams", "fra", "sin"}, end, 5*60, func(i, si, di int) int { return 10 + 30*si + 7*di + (i*7)%13 })
	if err := srv.WriteLines(ctx, "metricsdb", lines); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(t, "rollup", "--influx-url", srv.URL); err != nil {
		t.Fatal(err)
	}
	for _, rollup := range []string{"auto", "raw"} {
		o := &influxOptions{url: srv.URL, db: "metricsdb", window: 6 * time.Hour, timeout: 30 * time.Second, rollup: rollup}
		r, err := o.reader()
		if err != nil {
			t.Fatal(err)
		}
		src := newHistorySource(r, tui.TimeRange{Window: 6 * time.Hour})
		for _, st := range mesh.Stats {
			// The TUI's read of the window, to its end.
			var grid tui.HistoryStep
			if err := src.ReadSteps(ctx, tui.TimeRange{Window: 6 * time.Hour}, st, func(s tui.HistoryStep) { grid = s }); err != nil {
				t.Fatal(err)
			}
			out, _, err := runCLI(t, "snapshot", "--source", "influx", "--influx-url", srv.URL, "--window", "6h", "--rollup", rollup,
				"--stat", st.String(), "--format", "json")
			if err != nil {
				t.Fatalf("%s %s: %v", rollup, st, err)
			}
			var doc struct {
				Stat   string
				Window *windowJSON
				Notes  []string
				Cells  []map[string]any
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("%s %s: %v\n%s", rollup, st, err, out)
			}
			if doc.Window == nil || doc.Window.Read == "" || doc.Window.Oldest == "" || doc.Window.Newest != end.Add(-time.Minute).Format(time.RFC3339) {
				t.Errorf("%s %s: window %+v", rollup, st, doc.Window)
			}
			if rollup == "auto" && !strings.HasPrefix(doc.Window.Read, "rollup") {
				t.Errorf("auto read %q", doc.Window.Read)
			}
			if len(doc.Notes) == 0 || !strings.Contains(doc.Notes[len(doc.Notes)-1], "data in 4h59m of the 6h window") {
				t.Errorf("%s %s: notes %q", rollup, st, doc.Notes)
			}
			if len(doc.Cells) != 6 {
				t.Fatalf("%s %s: %d cells", rollup, st, len(doc.Cells))
			}
			for _, c := range doc.Cells {
				src, dst := c["src_pop"].(string), c["dst_pop"].(string)
				cell := grid.Matrix.Cell(src, dst)
				if cell == nil || c["stat"] != st.String() {
					t.Fatalf("%s→%s: %v", src, dst, c)
				}
				for _, m := range []mesh.Metric{mesh.Latency, mesh.JitterMs, mesh.JitterPct, mesh.Loss} {
					key := valueKey(m, st)
					got, ok := c[key].(float64)
					want := cell.Values[m][st]
					if !ok || math.Abs(got-want) > 0.0005 {
						t.Errorf("%s %s %s→%s %s = %v, the grid's %v", rollup, st, src, dst, key, c[key], want)
					}
				}
				// min and max over the window: the tests' extremes.
				var lo, hi float64 = math.Inf(1), 0
				for i := range 5 * 60 {
					si, di := strings.Index("amsfrasin", src)/3, strings.Index("amsfrasin", dst)/3
					v := float64(10 + 30*si + 7*di + (i*7)%13)
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
				if c["min_rtt_ms"] != lo || c["max_rtt_ms"] != hi || c["samples"] != float64(300) {
					t.Errorf("%s %s %s→%s: min %v max %v samples %v, want %v %v 300", rollup, st, src, dst, c["min_rtt_ms"], c["max_rtt_ms"], c["samples"], lo, hi)
				}
			}
		}
	}
	// CSV names its columns the same way; the notes go to stderr.
	out, errOut, err := runCLI(t, "snapshot", "--source", "influx", "--influx-url", srv.URL, "--window", "6h", "--stat", "p95", "--format", "csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 7 {
		t.Fatalf("csv %v:\n%s", err, out)
	}
	if got := strings.Join(rows[0], ","); got != "src_pop,dst_pop,stat,p95_rtt_ms,p95_jitter_ms,p95_jitter_pct,p95_loss_pct,min_rtt_ms,max_rtt_ms,failed,samples,class,decided_by,error,newest" {
		t.Errorf("csv header %s", got)
	}
	if !strings.Contains(errOut, "note: data in") {
		t.Errorf("stderr %q", errOut)
	}
	// The table: one metric, says where it comes from.
	out, _, err = runCLI(t, "snapshot", "--source", "influx", "--influx-url", srv.URL, "--window", "6h")
	if err != nil {
		t.Fatal(err)
	}
	if first := strings.SplitN(out, "\n", 2)[0]; !strings.Contains(first, "(mean over") || !strings.Contains(first, "from InfluxDB, read rollup") {
		t.Errorf("table header %q", first)
	}
	if !strings.Contains(out, "note: data in 4h59m of the 6h window") {
		t.Errorf("table without its note:\n%s", out)
	}
}
