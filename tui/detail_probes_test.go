package tui

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/meshtop/meshtop/mesh"
)

// bucketsOnly serves history as InfluxDB does: buckets without their tests.
type bucketsOnly struct{ StoreSource }

func (s bucketsOnly) Name() string { return "influx" }

func (s bucketsOnly) PairHistory(ctx context.Context, src, dst string, n int) ([]mesh.Sample, error) {
	h, err := s.StoreSource.PairHistory(ctx, src, dst, n)
	out := make([]mesh.Sample, len(h))
	for i, smp := range h {
		smp.Tests, smp.Results = smp.TestCount(), nil
		out[i] = smp
	}
	return out, err
}

// withProbeRead adds InfluxDB's probes read: per test only Time, Src and Probes.
type withProbeRead struct{ bucketsOnly }

func (s withProbeRead) PairProbes(ctx context.Context, src, dst string, _ int) ([]mesh.PingResult, error) {
	h, err := s.StoreSource.PairHistory(ctx, src, dst, 0)
	var out []mesh.PingResult
	for _, smp := range h {
		for _, r := range smp.Results {
			out = append(out, mesh.PingResult{Time: r.Time, Src: r.Src, SrcPop: src, DstPop: dst, Probes: r.Probes})
		}
	}
	return out, err
}

func openDetailOver(t *testing.T, src Source, src0, dst0 string, keys ...string) string {
	t.Helper()
	cfg := Config{NoColor: true, Now: func() time.Time { return t0.Add(fixSweeps * time.Minute) }}
	m := New(src, cfg)
	m = update(t, m, tea.WindowSizeMsg{Width: 160, Height: 48})
	m = runCmd(t, m, m.fetch())
	g := &m.grid
	for r, row := range g.rows {
		for c, col := range g.cols {
			if s, d := g.pair(row, col); s == src0 && d == dst0 {
				g.moveTo(r, c)
			}
		}
	}
	m = runCmd(t, press(t, m, "enter"), nil)
	m = pressRun(t, m, keys...)
	return m.View().Content
}

// linesWith keeps the lines of a frame that start (after spaces) with one of prefixes.
func linesWith(f string, prefixes ...string) []string {
	var out []string
	for _, l := range strings.Split(f, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(strings.TrimSpace(l), p) {
				out = append(out, l)
			}
		}
	}
	return out
}

// From history the smoke and the per-probe rows (Packet 0-4) are drawn from the probes
// read, as live draws them from its tests.
func TestDetailProbesFromHistory(t *testing.T) {
	store := detailFixtureStore()
	live := openDetailOver(t, StoreSource{Store: store}, "ams", "fra", "p")
	bare := openDetailOver(t, bucketsOnly{StoreSource{Store: store}}, "ams", "fra", "p")
	hist := openDetailOver(t, withProbeRead{bucketsOnly{StoreSource{Store: store}}}, "ams", "fra", "p")
	rows := []string{"pkt0┤", "pkt1┤", "pkt2┤", "pkt3┤", "pkt4┤"}
	want := linesWith(live, rows...)
	if len(want) != 5 {
		t.Fatalf("live drill-down lacks the probe rows:\n%s", live)
	}
	if got := linesWith(bare, rows...); len(got) == len(want) && strings.Join(got, "\n") == strings.Join(want, "\n") {
		t.Fatalf("buckets without tests drew the probe rows anyway: the test proves nothing")
	}
	if got := linesWith(hist, rows...); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("probe rows from history:\n%s\nwant (live):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The smoke (shades by percentile of the probes) and the agents' newest tests too.
	for _, w := range []string{"▒ p10–90", "scouter-ams-0: avg", "scouter-ams-1: avg"} {
		if strings.Contains(live, w) && !strings.Contains(hist, w) {
			t.Errorf("history drill-down lacks %q:\n%s", w, hist)
		}
	}
}

func TestWithProbes(t *testing.T) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	buckets := []mesh.Sample{{Time: at(0), Tests: 2}, {Time: at(10), Tests: 1}, {Time: at(20), Tests: 2}}
	test := func(s int, probes ...float64) mesh.PingResult {
		return mesh.PingResult{Time: at(s), Src: "a-1", Probes: probes}
	}
	bad := test(16, 5)
	bad.Probes, bad.Err = nil, "implausible value: probe 0 rtt -5 ms"
	got := withProbes(buckets, []mesh.PingResult{test(-1, 9), test(0, 10, 12), test(5, 11, 0), test(15, 20), bad, test(25, 0, 0), test(99, 30)})
	if len(buckets[0].Results) != 0 {
		t.Fatal("withProbes changed its input")
	}
	counts := []int{len(got[0].Results), len(got[1].Results), len(got[2].Results)}
	if counts[0] != 2 || counts[1] != 1 || counts[2] != 2 {
		t.Fatalf("tests per bucket %v, want [2 1 2] (before the first dropped, the bad one dropped)", counts)
	}
	r := got[0].Results[1] // 11 and a lost probe
	if r.AvgRTT != 11 || r.LossPct != 50 || r.Failed {
		t.Errorf("derived test %+v", r)
	}
	if f := got[2].Results[0]; !f.Failed || f.LossPct != 100 {
		t.Errorf("all probes lost: %+v", f)
	}
}

// groupedHistory serves the store's history as InfluxDB's buckets of several tests
// each: means of the successful tests, mean loss, the probes' band, no tests.
type groupedHistory struct {
	StoreSource
	per int
}

func (s groupedHistory) Name() string { return "influx" }

func (s groupedHistory) PairHistory(ctx context.Context, src, dst string, n int) ([]mesh.Sample, error) {
	h, err := s.StoreSource.PairHistory(ctx, src, dst, 0)
	var out []mesh.Sample
	for i := 0; i < len(h); i += s.per {
		group := h[i:min(i+s.per, len(h))]
		b := mesh.Sample{Time: group[0].Time, MinRTT: math.Inf(1), Failed: true}
		good := 0
		for _, smp := range group {
			b.Tests += smp.TestCount()
			b.LossPct += smp.LossPct * float64(smp.TestCount())
			if smp.Failed {
				continue
			}
			good++
			b.Failed = false
			b.AvgRTT += smp.AvgRTT
			b.JitterMs += smp.JitterMs
			b.MinRTT, b.MaxRTT = min(b.MinRTT, smp.MinRTT), max(b.MaxRTT, smp.MaxRTT)
		}
		b.LossPct /= float64(b.Tests)
		if good > 0 {
			b.AvgRTT /= float64(good)
			b.JitterMs /= float64(good)
		} else {
			b.MinRTT, b.JitterPct = 0, 100
		}
		out = append(out, b)
	}
	return out, err
}

type groupedWithProbes struct{ groupedHistory }

func (s groupedWithProbes) PairProbes(ctx context.Context, src, dst string, limit int) ([]mesh.PingResult, error) {
	return withProbeRead{bucketsOnly{s.StoreSource}}.PairProbes(ctx, src, dst, limit)
}

// TestDetailTimelineFromBuckets: from history's buckets of 4 tests the timeline tells
// the events live tells for the same tests (it judges each test, from their probes);
// when the tests' probes are not there it judges the buckets and says so.
func TestDetailTimelineFromBuckets(t *testing.T) {
	store := detailFixtureStore()
	header := func(frame string) string {
		for _, l := range strings.Split(frame, "\n") {
			if i := strings.Index(l, "timeline ·"); i >= 0 {
				return strings.TrimSpace(l[i:])
			}
		}
		return ""
	}
	live := openDetailOver(t, StoreSource{Store: store}, "ams", "fra")
	perTest := openDetailOver(t, groupedWithProbes{groupedHistory{StoreSource{Store: store}, 4}}, "ams", "fra")
	buckets := openDetailOver(t, groupedHistory{StoreSource{Store: store}, 4}, "ams", "fra")
	if h := header(live); h == "" || header(perTest) != h {
		t.Errorf("timeline from buckets with their tests %q, live %q", header(perTest), h)
	}
	if strings.Contains(perTest, "buckets, not each test") {
		t.Error("a timeline of each test says it is bucketed")
	}
	if !strings.Contains(buckets, "from 4m buckets, not each test") {
		t.Errorf("a timeline of buckets does not say so:\n%s", buckets)
	}
}

// TestDetailSummaryIsTheGrids: the drill-down's mean and p95 are the grid's (its cell
// reduces every test), never those of history's buckets.
func TestDetailSummaryIsTheGrids(t *testing.T) {
	store := detailFixtureStore()
	c := store.Matrix().Cell("ams", "fra")
	src := groupedHistory{StoreSource{Store: store}, 4}
	bs, _ := src.PairHistory(context.Background(), "ams", "fra", 0)
	var avgs []float64
	for _, b := range bs {
		if !b.Failed {
			avgs = append(avgs, b.AvgRTT)
		}
	}
	if fmtMs(mesh.Percentile(avgs, 95)) == fmtMs(c.Values[mesh.Latency][mesh.P95]) {
		t.Fatal("the fixture's buckets have the grid's p95: the test tells nothing")
	}
	frame := openDetailOver(t, src, "ams", "fra")
	want := "mean " + fmtMs(c.Values[mesh.Latency][mesh.Mean]) + "  p95 " + fmtMs(c.Values[mesh.Latency][mesh.P95]) + "  max"
	if !strings.Contains(frame, want) {
		t.Errorf("summary lacks the grid's %q:\n%s", want, strings.Join(linesWith(frame, "RTT"), "\n"))
	}
}
