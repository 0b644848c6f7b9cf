package influx

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

func TestPlanPieces(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	long := levelBounds{first: at("2026-01-01T00:00:00Z"), end: at("2026-12-31T00:00:00Z")}
	l10, l1h := long, long
	l10.lvl, l1h.lvl = rollup10m, rollup1h
	for _, tc := range []struct {
		name       string
		start, end string
		levels     []levelBounds
		want       []string
	}{{
		name:  "24 h, both levels settled",
		start: "2026-11-30T10:02:01Z", end: "2026-12-01T10:02:01Z",
		levels: []levelBounds{l1h, l10},
		want: []string{"raw rows 10:02:01-10:10:00", "10m rows 10:10:00-11:00:00", "1h sums 11:00:00-10:00:00",
			"raw rows 10:00:00-10:02:01"},
	}, {
		name:  "a start on a bucket boundary is not in the window (time > start)",
		start: "2026-11-30T10:00:00Z", end: "2026-12-01T10:00:00Z",
		levels: []levelBounds{l1h, l10},
		want: []string{"raw rows 10:00:00-10:10:00", "10m rows 10:10:00-11:00:00", "1h sums 11:00:00-10:00:00",
			"raw rows 10:00:00-10:00:00"},
	}, {
		name:  "the 1 h level settled two hours back, the 10 min level 30 min back",
		start: "2026-11-30T10:02:01Z", end: "2026-12-01T10:02:01Z",
		levels: []levelBounds{{lvl: rollup1h, first: long.first, end: at("2026-12-01T08:00:00Z")},
			{lvl: rollup10m, first: long.first, end: at("2026-12-01T09:40:00Z")}},
		want: []string{"raw rows 10:02:01-10:10:00", "10m rows 10:10:00-11:00:00", "1h sums 11:00:00-08:00:00",
			"10m rows 08:00:00-09:40:00", "raw rows 09:40:00-10:02:01"},
	}, {
		name:  "a level set up during the window",
		start: "2026-11-30T10:02:01Z", end: "2026-12-01T10:02:01Z",
		levels: []levelBounds{{lvl: rollup1h, first: at("2026-12-01T09:00:00Z"), end: long.end},
			{lvl: rollup10m, first: at("2026-12-01T08:40:00Z"), end: long.end}},
		want: []string{"raw rows 10:02:01-08:40:00", "10m rows 08:40:00-09:00:00", "1h rows 09:00:00-10:00:00",
			"raw rows 10:00:00-10:02:01"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, p := range planPieces(at(tc.start), true, at(tc.end), true, tc.levels, hybridRowsMax) {
				got = append(got, p.String())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("pieces:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestHybridMatchesRaw: over 24 h with rollups backfilled, the hybrid read (whole
// buckets from the 1 h and 10 min levels, raw edges) gives every pair the same last,
// mean, max, samples and failed state as the raw read, whichever pieces are rows and
// which are sums, settled or not; a test written after the rollups were made is found
// by the check and its pair read from raw data.
func TestHybridMatchesRaw(t *testing.T) {
	s, cfg := testDB(t, false)
	end := time.Now().UTC().Truncate(time.Hour).Add(-3*time.Hour + 7*time.Minute + 30*time.Second)
	f := newFixture(end, 26*60)
	// A pair tested only early in the window: the window's end holds no newest test of it.
	for i := range 360 {
		q := mesh.PingResult{Time: end.Add(-20*time.Hour + time.Duration(i)*time.Minute), Src: "tyo-1", SrcPop: "tyo", Dst: "198.18.0.1", DstPop: "ams"}
		q.DerivePing(5, []float64{150 + float64(i%7), 151, 152, mesh.Lost, 150}, -1)
		f.pings = append(f.pings, q)
	}
	writeWorkshop(t, s, f, nil)
	r, _ := NewReader(cfg, 24*time.Hour)
	r.SetEnd(end)
	if err := r.SetupRollups(ctxT(t), RollupOptions{Backfill: true, Only: "10m"}); err != nil {
		t.Fatal(err)
	}
	if err := r.SetupRollups(ctxT(t), RollupOptions{Backfill: true, Only: "1h"}); err != nil {
		t.Fatal(err)
	}
	read := func(t *testing.T, rr *Reader) Step {
		t.Helper()
		var last Step
		if err := rr.MatrixSteps(ctxT(t), mesh.Mean, func(st Step) { last = st }); err != nil {
			t.Fatal(err)
		}
		return last
	}
	compareAll := func(t *testing.T, got, want Step) {
		t.Helper()
		for _, p := range pairsOf(want.Matrix) {
			w := want.Matrix.Cell(p.Src, p.Dst)
			wc := *w
			for _, m := range mesh.Metrics {
				wc.Values[m][mesh.P95] = got.Matrix.Cell(p.Src, p.Dst).Values[m][mesh.P95]
			}
			compareCells(t, p, got.Matrix.Cell(p.Src, p.Dst), wc)
		}
		if g, w := len(pairsOf(got.Matrix)), len(pairsOf(want.Matrix)); g != w {
			t.Errorf("%d pairs, raw %d", g, w)
		}
	}
	raw := r.At(24*time.Hour, end)
	_ = raw.SetRollup("raw")
	want := read(t, raw)
	for _, tc := range []struct {
		name    string
		rowsMax int
		now     time.Time
	}{
		{"settled, default", 0, end.Add(3 * time.Hour)},
		{"settled, every piece summed", -1, end.Add(3 * time.Hour)},
		{"settled, every piece as rows", 1000, end.Add(3 * time.Hour)},
		{"window ending now", 0, end},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rr := r.At(24*time.Hour, end)
			rr.rowsMax = tc.rowsMax
			rr.SetClock(func() time.Time { return tc.now })
			got := read(t, rr)
			if got.Via != "rollup 1h+10m and raw edges, checked" || got.Pending != "" {
				t.Fatalf("via %q pending %q", got.Via, got.Pending)
			}
			compareAll(t, got, want)
			if c := got.Matrix.Cell("tyo", "ams"); c == nil || c.Samples != 360 {
				t.Errorf("tyo→ams (tested early only) = %+v", c)
			}
		})
	}
	// p95 on screen: mean and max as above, then p95 from the histograms (raw edges' tests
	// filed, rollup buckets between each pair's min and max), within their error of the
	// raw read's and never above the max.
	t.Run("p95", func(t *testing.T) {
		rr := r.At(24*time.Hour, end)
		rr.SetClock(func() time.Time { return end.Add(3 * time.Hour) })
		var steps []Step
		if err := rr.MatrixSteps(ctxT(t), mesh.P95, func(st Step) { steps = append(steps, st) }); err != nil {
			t.Fatal(err)
		}
		var raw95 *mesh.Matrix
		if err := raw.MatrixSteps(ctxT(t), mesh.P95, func(st Step) { raw95 = st.Matrix }); err != nil {
			t.Fatal(err)
		}
		got := steps[len(steps)-1]
		if len(steps) < 2 || steps[len(steps)-2].Pending != "p95" || !got.Has(mesh.Latency, mesh.P95) {
			t.Fatalf("steps %d, pending before the last %q", len(steps), steps[len(steps)-2].Pending)
		}
		for _, p := range pairsOf(raw95) {
			w := *raw95.Cell(p.Src, p.Dst)
			c := got.Matrix.Cell(p.Src, p.Dst)
			for _, m := range mesh.Metrics {
				checkP95(t, fmt.Sprint(p), m, c, w.Values[m][mesh.P95])
				w.Values[m][mesh.P95] = c.Values[m][mesh.P95]
			}
			compareCells(t, p, c, w)
		}
		if len(got.Notes) > 0 {
			t.Errorf("notes %q", got.Notes)
		}
	})
	// A window ending now, read hybrid, then refreshed a minute later: the merge of the
	// checked totals with the raw tails is the raw read of the new window.
	t.Run("refresh", func(t *testing.T) {
		now := end
		live := r.At(24*time.Hour, time.Time{})
		live.SetClock(func() time.Time { return now })
		prev, err := live.ReadMesh(ctxT(t), mesh.Mean, func(Step) {})
		if err != nil || prev == nil {
			t.Fatalf("read: %v %v", prev, err)
		}
		if !strings.HasPrefix(prev.Step.Via, "rollup 1h+10m and raw edges") {
			t.Fatalf("read via %q", prev.Step.Via)
		}
		now = end.Add(time.Minute)
		next, err := live.Refresh(ctxT(t), prev, mesh.Mean, func(Step) {})
		if err != nil {
			t.Fatal(err)
		}
		rawNext := r.At(24*time.Hour, now)
		_ = rawNext.SetRollup("raw")
		w := read(t, rawNext)
		for _, p := range pairsOf(w.Matrix) {
			g, wc := next.Step.Matrix.Cell(p.Src, p.Dst), *w.Matrix.Cell(p.Src, p.Dst)
			if g == nil {
				t.Fatalf("%v: no cell after refresh", p)
			}
			for _, m := range mesh.Metrics {
				wc.Values[m][mesh.P95] = g.Values[m][mesh.P95]
				if !next.Step.Has(m, mesh.Max) {
					wc.Values[m][mesh.Max] = g.Values[m][mesh.Max]
				}
			}
			compareCells(t, p, g, wc)
		}
		if next.Step.Via != prev.Step.Via {
			t.Errorf("refresh via %q, read %q", next.Step.Via, prev.Step.Via)
		}
	})
	// A piece that fails fails the read, naming the piece, and ends the other requests.
	t.Run("a failing piece", func(t *testing.T) {
		target, _ := url.Parse(cfg.URL)
		rp := httputil.NewSingleHostReverseProxy(target)
		rp.ErrorLog = log.New(io.Discard, "", 0) // the others' cancellation is expected
		px := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, q *http.Request) {
			body, _ := io.ReadAll(q.Body)
			q.Body = io.NopCloser(bytes.NewReader(body))
			form, _ := url.ParseQuery(string(body))
			if stmt := form.Get("q"); strings.Contains(stmt, `sum("n")`) && strings.Contains(stmt, "ping_1h") {
				w.Header().Set("X-Influxdb-Version", "1.6.7")
				http.Error(w, `{"error":"engine: shard gone"}`, http.StatusInternalServerError)
				return
			}
			rp.ServeHTTP(w, q)
		}))
		defer px.Close()
		c := cfg
		c.URL = px.URL
		pr, err := NewReader(c, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		pr.SetEnd(end)
		pr.SetClock(func() time.Time { return end.Add(3 * time.Hour) })
		err = pr.MatrixSteps(ctxT(t), mesh.Mean, func(Step) {})
		if err == nil || !strings.Contains(err.Error(), "read 1h sums") || !strings.Contains(err.Error(), "shard gone") {
			t.Fatalf("error %v", err)
		}
	})
	// A late test: in a bucket both levels had rolled up already.
	late := mesh.PingResult{Time: end.Add(-12*time.Hour + 30*time.Second), Src: "ams-2", SrcPop: "ams", Dst: "198.18.0.3", DstPop: "sin"}
	late.DerivePing(5, []float64{500, 500, 500, 500, 500}, -1)
	if err := s.WriteLines(ctxT(t), DefaultDatabase, workshopPingLine(late, "203.0.113.9")); err != nil {
		t.Fatal(err)
	}
	want = read(t, raw)
	rr := r.At(24*time.Hour, end)
	rr.SetClock(func() time.Time { return end.Add(3 * time.Hour) })
	got := read(t, rr)
	if !strings.Contains(got.Via, "1 pair raw (rollup behind, e.g. ams→sin)") {
		t.Errorf("via %q", got.Via)
	}
	compareAll(t, got, want)
	if c := got.Matrix.Cell("ams", "sin"); c.Values[mesh.Latency][mesh.Max] != 500 {
		t.Errorf("late test's 500 ms not in the max: %v", c.Values[mesh.Latency][mesh.Max])
	}
	// A rollup bucket with an impossible count (a broken writer): the filled grid shows
	// the pair's error, never the rollup's numbers, and the check reads it from raw data.
	hour := end.Add(-10 * time.Hour).Truncate(time.Hour)
	if err := s.WriteLinesRP(ctxT(t), DefaultDatabase, "mt_rollup_1h", fmt.Sprintf("ping_1h,dst_pop=ams,src_pop=fra n=-3i %d", hour.UnixNano())); err != nil {
		t.Fatal(err)
	}
	var steps []Step
	if err := rr.MatrixSteps(ctxT(t), mesh.Mean, func(st Step) { steps = append(steps, st) }); err != nil {
		t.Fatal(err)
	}
	for _, st := range steps {
		if st.Has(mesh.Latency, mesh.Mean) && st.Pending != "" {
			if c := st.Matrix.Cell("fra", "ams"); c == nil || !strings.HasPrefix(c.Err, "implausible value: rollup holds") {
				t.Errorf("filled step shows fra→ams as %+v, want the rollup's error", c)
			}
		}
	}
	got = steps[len(steps)-1]
	if !strings.Contains(got.Via, "2 pairs raw (rollup behind, e.g. ams→sin)") {
		t.Errorf("via %q", got.Via)
	}
	compareAll(t, got, want)
	// Rollups behind for every pair: the whole window from raw data, saying why.
	var b strings.Builder
	for _, p := range pairsOf(want.Matrix) {
		x := late
		x.SrcPop, x.DstPop, x.Src = p.Src, p.Dst, p.Src+"-2"
		b.WriteString(workshopPingLine(x, "203.0.113.9"))
	}
	if err := s.WriteLines(ctxT(t), DefaultDatabase, b.String()); err != nil {
		t.Fatal(err)
	}
	rr.rowsMax = 0
	old := hybridRereadMaxForTest(t, 2)
	defer old()
	want = read(t, raw)
	got = read(t, rr)
	if !strings.HasPrefix(got.Via, fmt.Sprintf("raw (rollup behind for %d pairs", len(pairsOf(want.Matrix)))) {
		t.Errorf("via %q", got.Via)
	}
	compareAll(t, got, want)
}

// hybridRereadMaxForTest sets the number of pairs read again by themselves.
func hybridRereadMaxForTest(t *testing.T, n int) func() {
	t.Helper()
	old := hybridRereadMax
	hybridRereadMax = n
	return func() { hybridRereadMax = old }
}

// pairsOf are the pairs with a cell.
func pairsOf(m *mesh.Matrix) []mesh.Pair {
	var out []mesh.Pair
	for _, s := range m.Pops {
		for _, d := range m.Pops {
			if m.Cell(s, d) != nil {
				out = append(out, mesh.Pair{Src: s, Dst: d})
			}
		}
	}
	return out
}
