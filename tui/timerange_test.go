package tui

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/meshtop/meshtop/mesh"
)

// fakeHistory is a HistorySource over the fixture store: each read gives a last-only
// step, then the full matrix, unless told to fail or to block until cancelled.
type fakeHistory struct {
	StoreSource
	mu     sync.Mutex
	reads  []TimeRange
	fail   error
	block  bool
	ranges []TimeRange
	// shift adds this to every value of a read whose range ends before t0 (delta).
	shift float64
	// empty: a read of a range ending before t0 has no data at all.
	empty bool
	// coverage and notes go into every step.
	coverage string
	notes    []string
}

func (f *fakeHistory) SetRange(tr TimeRange) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ranges = append(f.ranges, tr)
}

func (f *fakeHistory) ReadSteps(ctx context.Context, tr TimeRange, want mesh.Stat, step func(HistoryStep)) error {
	f.mu.Lock()
	f.reads = append(f.reads, tr)
	f.mu.Unlock()
	full := f.Store.Matrix()
	lastOnly := func(m mesh.Metric, st mesh.Stat) bool { return st == mesh.Last }
	all := func(mesh.Metric, mesh.Stat) bool { return true }
	if f.empty && !tr.End.IsZero() && tr.End.Before(t0) {
		none := mesh.NewMatrix(time.Time{}, "influx", nil, nil, map[mesh.Pair]*mesh.Cell{})
		step(HistoryStep{Matrix: none, Has: lastOnly, Via: "raw"})
		return nil
	}
	step(HistoryStep{Matrix: full, Has: lastOnly, Pending: "mean, max", Via: "raw", Coverage: f.coverage, Notes: f.notes})
	if f.block {
		<-ctx.Done()
		return ctx.Err()
	}
	if f.fail != nil {
		return f.fail
	}
	m := full
	if !tr.End.IsZero() && tr.End.Before(t0) && f.shift != 0 {
		m = shiftMatrix(full, f.shift)
	}
	step(HistoryStep{Matrix: m, Has: all, Via: "raw", Coverage: f.coverage, Notes: f.notes})
	return nil
}

func shiftMatrix(m *mesh.Matrix, d float64) *mesh.Matrix {
	cells := map[mesh.Pair]*mesh.Cell{}
	for _, s := range m.Pops {
		for _, t := range m.Pops {
			if c := m.Cell(s, t); c != nil {
				cc := *c
				for i := range cc.Values {
					for j := range cc.Values[i] {
						cc.Values[i][j] += d
					}
				}
				cells[mesh.Pair{Src: s, Dst: t}] = &cc
			}
		}
	}
	return mesh.NewMatrix(m.Time, m.Source, m.Pops, nil, cells)
}

// harness runs a model's commands as Bubble Tea would: each in its own goroutine,
// messages fed back in order of arrival; timers (refresh ticks) are dropped.
type harness struct {
	t    *testing.T
	m    Model
	msgs chan tea.Msg
}

func newHarness(t *testing.T, m Model) *harness {
	return &harness{t: t, m: m, msgs: make(chan tea.Msg, 64)}
}

func (h *harness) start(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() { h.msgs <- cmd() }()
}

// run starts cmd and feeds messages until none arrives for a while.
func (h *harness) run(cmd tea.Cmd) {
	h.t.Helper()
	h.start(cmd)
	for n := 0; ; n++ {
		if n > 500 {
			h.t.Fatal("messages do not settle")
		}
		var msg tea.Msg
		select {
		case msg = <-h.msgs:
		case <-time.After(300 * time.Millisecond):
			return
		}
		switch msg := msg.(type) {
		case nil, refreshTickMsg:
			continue
		case tea.BatchMsg:
			for _, c := range msg {
				h.start(c)
			}
			continue
		}
		nm, next := h.m.Update(msg)
		h.m = nm.(Model)
		h.start(next)
	}
}

func (h *harness) key(s string) {
	h.t.Helper()
	k := tea.KeyPressMsg{Code: rune(s[0]), Text: s}
	if s == "esc" {
		k = tea.KeyPressMsg{Code: tea.KeyEscape}
	}
	nm, cmd := h.m.Update(k)
	h.m = nm.(Model)
	h.run(cmd)
}

func historyModel(t *testing.T, f *fakeHistory) Model {
	t.Helper()
	f.StoreSource = StoreSource{Store: fixtureStore()}
	m := New(f, Config{Stat: mesh.Mean, Range: TimeRange{Window: 24 * time.Hour}, Now: func() time.Time { return t0 }})
	m = update(t, m, tea.WindowSizeMsg{Width: 160, Height: 40})
	return m
}

func TestHistoryProgressiveSteps(t *testing.T) {
	f := &fakeHistory{}
	m := historyModel(t, f)
	// Only the first step: the grid shows last (numbers at once), the status what loads.
	cmd := m.Init()
	msg := cmd()
	m = update(t, m, msg)
	if m.grid.stat != mesh.Last {
		t.Errorf("first step shows %s, want last until mean arrives", m.grid.stat)
	}
	if s := m.status.rendered; !strings.Contains(s, "loading mean, max") || !strings.Contains(s, "24h to now") || !strings.Contains(s, "esc cancels") {
		t.Errorf("status %q", s)
	}
	if !strings.Contains(m.View().Content, "ams") {
		t.Error("no grid after the first step")
	}
	h := newHarness(t, m)
	h.run(waitHist(msg.(histStepMsg).next))
	m = h.m
	if m.grid.stat != mesh.Mean || strings.Contains(m.status.rendered, "loading") {
		t.Errorf("after the read: stat %s, status %q", m.grid.stat, m.status.rendered)
	}
}

func TestHistoryFailedRefreshKeepsGrid(t *testing.T) {
	f := &fakeHistory{}
	h := newHarness(t, historyModel(t, f))
	h.run(h.m.Init())
	f.fail = errors.New("InfluxDB query at http://x: HTTP 500: boom")
	h.key("r")
	m := h.m
	if m.grid.m == nil || m.grid.m.Cell("ams", "fra") == nil {
		t.Fatal("the grid is gone after a failed refresh")
	}
	if s := m.status.rendered; !strings.Contains(s, "showing the last good grid") || !strings.Contains(s, "boom") {
		t.Errorf("status %q", s)
	}
}

func TestHistoryEscCancels(t *testing.T) {
	f := &fakeHistory{block: true}
	h := newHarness(t, historyModel(t, f))
	h.run(h.m.Init())
	if !h.m.hist.loading {
		t.Fatal("not loading")
	}
	h.key("esc")
	m := h.m
	if m.hist.loading || !strings.Contains(m.status.rendered, "read cancelled") {
		t.Errorf("after esc: loading %v, status %q", m.hist.loading, m.status.rendered)
	}
}

func TestHistoryMoveThroughTime(t *testing.T) {
	f := &fakeHistory{}
	h := newHarness(t, historyModel(t, f))
	h.run(h.m.Init())
	h.key("w") // 24h -> 7d
	h.key("[")
	h.key("[")
	h.key("]")
	h.key("n")
	want := []TimeRange{
		{Window: 24 * time.Hour},
		{Window: 7 * 24 * time.Hour},
		{Window: 7 * 24 * time.Hour, End: t0.Add(-7 * 24 * time.Hour)},
		{Window: 7 * 24 * time.Hour, End: t0.Add(-14 * 24 * time.Hour)},
		{Window: 7 * 24 * time.Hour, End: t0.Add(-7 * 24 * time.Hour)},
		{Window: 7 * 24 * time.Hour},
	}
	if len(f.reads) != len(want) {
		t.Fatalf("reads %v, want %v", f.reads, want)
	}
	for i := range want {
		if f.reads[i].Window != want[i].Window || !f.reads[i].End.Equal(want[i].End) {
			t.Errorf("read %d = %v, want %v", i, f.reads[i], want[i])
		}
	}
	// The drill-down reads the same range.
	if last := f.ranges[len(f.ranges)-1]; last != want[len(want)-1] {
		t.Errorf("drill-down range %v", last)
	}
	// ] at now stays at now.
	h.key("]")
	if len(f.reads) != len(want) {
		t.Errorf("] at now read again")
	}
}

func TestHistoryDelta(t *testing.T) {
	f := &fakeHistory{shift: -10} // a day earlier everything was 10 lower
	h := newHarness(t, historyModel(t, f))
	h.run(h.m.Init())
	h.key("d")
	m := h.m
	c := m.grid.m.Cell("ams", "fra")
	if c == nil {
		t.Fatal("no delta cell")
	}
	if v := c.Values[mesh.Latency][mesh.Mean]; math.Abs(v-10) > 1e-9 {
		t.Errorf("delta latency = %v, want +10", v)
	}
	if !strings.Contains(m.status.rendered, "Δ vs a day earlier") {
		t.Errorf("status %q", m.status.rendered)
	}
	if m.ui.cfg.Thresholds[mesh.Latency] != deltaThresholds[mesh.Latency] {
		t.Error("delta grid coloured by absolute thresholds")
	}
	h.key("d") // a week
	h.key("d") // off
	if h.m.ui.cfg.Thresholds[mesh.Latency] != mesh.DefaultThresholds()[mesh.Latency] {
		t.Error("thresholds not restored")
	}
}

func TestParseTimeRangeString(t *testing.T) {
	tr := TimeRange{Window: 6 * time.Hour, End: t0}
	if got := tr.String(); got != "6h to 01-02 03:04" {
		t.Errorf("%q", got)
	}
	if got := tr.Shift(time.Hour, t0.Add(30*time.Minute)); !got.End.IsZero() {
		t.Errorf("shift past now = %v", got)
	}
}

// TestHistoryDeltaWithoutEarlierData: d over a range whose day-earlier range holds no
// data says so instead of painting a wall of "-" without a word.
func TestHistoryDeltaWithoutEarlierData(t *testing.T) {
	f := &fakeHistory{empty: true}
	h := newHarness(t, historyModel(t, f))
	h.run(h.m.Init())
	h.key("d")
	if s := h.m.status.rendered; !strings.Contains(s, "Δ: no data a day earlier") || !strings.Contains(s, "nothing to compare") {
		t.Errorf("status %q", s)
	}
}

// TestHistoryCoverageInStatus: how much of the range holds data comes right after the
// range, before what loads and where it comes from (a narrow bar cuts the end); notes
// follow.
func TestHistoryCoverageInStatus(t *testing.T) {
	f := &fakeHistory{coverage: "data in 7m (14:03–14:10)", notes: []string{"p95 unknown for 2 pairs: why"}}
	h := newHarness(t, historyModel(t, f))
	h.run(h.m.Init())
	s := h.m.status.rendered
	i, j, k := strings.Index(s, "24h to now"), strings.Index(s, "data in 7m"), strings.Index(s, "p95 unknown")
	if i < 0 || j < i || k < j {
		t.Errorf("status %q", s)
	}
}

// rangedHistory records the range each pair read ran under.
type rangedHistory struct {
	*fakeHistory
	pairRanges []TimeRange
}

func (r *rangedHistory) PairHistory(ctx context.Context, src, dst string, n int) ([]mesh.Sample, error) {
	r.mu.Lock()
	if k := len(r.ranges); k > 0 {
		r.pairRanges = append(r.pairRanges, r.ranges[k-1])
	}
	r.mu.Unlock()
	return r.StoreSource.PairHistory(ctx, src, dst, n)
}

// The pair's chart under the grid is read again when the range moves: it shows the
// range on screen, never the previous one.
func TestHistoryRangeMovesThePairChart(t *testing.T) {
	f := &fakeHistory{}
	historyModel(t, f) // fills f's store
	r := &rangedHistory{fakeHistory: f}
	m := New(r, Config{Stat: mesh.Mean, Range: TimeRange{Window: 24 * time.Hour}, Now: func() time.Time { return t0 }})
	m = update(t, m, tea.WindowSizeMsg{Width: 160, Height: 48})
	h := newHarness(t, m)
	h.run(h.m.Init())
	if !h.m.grid.panel.chart || !strings.Contains(frame(h.m), "fra → ams") {
		t.Fatalf("no pair chart in history:\n%s", frame(h.m))
	}
	h.key("[")
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pairRanges) == 0 {
		t.Fatal("the pair was never read")
	}
	setLast, readLast := r.ranges[len(r.ranges)-1], r.pairRanges[len(r.pairRanges)-1]
	if setLast.End.IsZero() || readLast != setLast {
		t.Fatalf("after [ the range is %v, the pair was last read under %v", setLast, readLast)
	}
}
