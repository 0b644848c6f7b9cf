package tui

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/meshtop/meshtop/mesh"
)

// History mode: a time range you can move through (window picker, step back and
// forward, jump to now), a progressive read of each range (each step's grid replaces
// the previous, the status bar says what is still loading, Esc cancels), and a delta
// grid of this range against the same range a day or a week earlier.

// TimeRange is a history window: Window long, ending at End (zero: now).
type TimeRange struct {
	Window time.Duration
	End    time.Time
}

// String is the range for the status bar: "24h to now", "6h to 12-01 08:00".
func (tr TimeRange) String() string {
	if tr.End.IsZero() {
		return shortDuration(tr.Window) + " to now"
	}
	return shortDuration(tr.Window) + " to " + tr.End.Local().Format("01-02 15:04")
}

// Shift moves the range by d (negative: back); a range that would end after now ends
// at now.
func (tr TimeRange) Shift(d time.Duration, now time.Time) TimeRange {
	end := tr.End
	if end.IsZero() {
		end = now
	}
	end = end.Add(d)
	if !end.Before(now) {
		end = time.Time{}
	}
	return TimeRange{Window: tr.Window, End: end}
}

func shortDuration(d time.Duration) string {
	switch {
	case d > 24*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// HistoryWindows are the picker's windows, like Grafana's quick ranges.
var HistoryWindows = []time.Duration{time.Hour, 6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour}

// HistoryStep is one stage of a progressive read: a whole matrix replacing the previous
// one, which metric x stat values it holds, what is still loading ("" when complete)
// and where the values come from ("raw", "rollup 1h").
type HistoryStep struct {
	Matrix  *mesh.Matrix
	Has     func(mesh.Metric, mesh.Stat) bool
	Pending string
	Via     string
	// Coverage says how much of the range holds data, when not (nearly) all of it:
	// first in the status bar after the range, since a grid from 7 minutes of 6 hours
	// looks like a full one.
	Coverage string
	// Notes say what else the grid lacks: a p95 the rollups cannot give, a comparison
	// range without data, what rollups would save.
	Notes []string
}

// HistorySource is a Source over any time range, read progressively (InfluxDB).
type HistorySource interface {
	Source
	// ReadSteps reads the mesh over tr, calling step for each stage; want is the stat
	// on screen (read first; p95 only when wanted or cheap).
	ReadSteps(ctx context.Context, tr TimeRange, want mesh.Stat, step func(HistoryStep)) error
	// SetRange is the range PairHistory and PairTraces read (the drill-down).
	SetRange(tr TimeRange)
}

// deltaMode compares the range with the same range shifted back.
type deltaMode int

const (
	deltaOff deltaMode = iota
	deltaDay
	deltaWeek
)

func (d deltaMode) back() time.Duration {
	if d == deltaWeek {
		return 7 * 24 * time.Hour
	}
	return 24 * time.Hour
}

func (d deltaMode) String() string {
	switch d {
	case deltaDay:
		return "a day"
	case deltaWeek:
		return "a week"
	}
	return ""
}

// deltaThresholds colour a change: up to t1 worse is green (an improvement is negative).
var deltaThresholds = map[mesh.Metric]mesh.Thresholds{
	mesh.Latency:   {5, 20, 50},
	mesh.JitterPct: {1, 2, 4},
	mesh.JitterMs:  {1, 5, 20},
	mesh.Loss:      {1, 2, 5},
}

type historyKeys struct {
	Window, WindowBack, Back, Forward, Now, Delta key.Binding
}

func newHistoryKeys() historyKeys {
	return historyKeys{
		Window:     key.NewBinding(key.WithKeys("w"), key.WithHelp("w/W", "window 1h…30d")),
		WindowBack: key.NewBinding(key.WithKeys("W")),
		Back:       key.NewBinding(key.WithKeys("["), key.WithHelp("[/]", "step back/forward")),
		Forward:    key.NewBinding(key.WithKeys("]")),
		Now:        key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "jump to now")),
		Delta:      key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "Δ vs day/week earlier")),
	}
}

// historyState is the root model's history controller (nil when the source is live).
type historyState struct {
	src  HistorySource
	keys historyKeys
	tr   TimeRange
	// userStat is the stat the user chose; the grid shows last until it has arrived.
	userStat mesh.Stat
	delta    deltaMode
	gen      int
	cancel   context.CancelFunc
	loading  bool
	pending  string
	via      string
	coverage string
	notes    []string
	has      func(mesh.Metric, mesh.Stat) bool
	good     bool // a grid has been shown
	goodAt   time.Time
	failure  string
	savedTh  map[mesh.Metric]mesh.Thresholds
	now      func() time.Time
	// panelGen is the read whose first grid made the grid's panel read its pair again
	// (the range, so the pair's chart, changed).
	panelGen int
}

func newHistoryState(src Source, cfg *Config) *historyState {
	hs, ok := src.(HistorySource)
	if !ok {
		return nil
	}
	w := cfg.Range.Window
	if w <= 0 {
		w = time.Hour
	}
	return &historyState{src: hs, keys: newHistoryKeys(), tr: TimeRange{Window: w, End: cfg.Range.End}, userStat: cfg.Stat, now: cfg.Now}
}

// histStepMsg carries one step of read gen; histDoneMsg its end.
type histStepMsg struct {
	gen  int
	step HistoryStep
	next <-chan tea.Msg
}

type histDoneMsg struct {
	gen int
	err error
}

// waitHist delivers the read's next message.
func waitHist(ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		msg, ok := <-ch
		if !ok {
			return nil
		}
		return msg
	}
}

// read starts a progressive read of the current range (cancelling one under way). Reads
// have no deadline of their own: the user sees "loading" and Esc cancels; each request
// is bounded by --influx-timeout when set.
func (h *historyState) read(want mesh.Stat) tea.Cmd {
	if h.cancel != nil {
		h.cancel()
	}
	h.gen++
	gen, tr, delta, now := h.gen, h.tr, h.delta, h.now()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.loading = cancel, true
	h.src.SetRange(tr)
	ch := make(chan tea.Msg, 8)
	go func() {
		defer close(ch)
		defer cancel()
		var err error
		if delta == deltaOff {
			err = h.src.ReadSteps(ctx, tr, want, func(s HistoryStep) { ch <- histStepMsg{gen: gen, step: s, next: ch} })
		} else {
			err = readDelta(ctx, h.src, tr, delta, now, want, func(s HistoryStep) { ch <- histStepMsg{gen: gen, step: s, next: ch} })
		}
		ch <- histDoneMsg{gen: gen, err: err}
	}()
	return waitHist(ch)
}

// readDelta reads the range and the same range back, then steps the difference.
func readDelta(ctx context.Context, src HistorySource, tr TimeRange, d deltaMode, now time.Time, want mesh.Stat, step func(HistoryStep)) error {
	var cur, prev HistoryStep
	if err := src.ReadSteps(ctx, tr, want, func(s HistoryStep) { cur = s }); err != nil {
		return err
	}
	end := tr.End
	if end.IsZero() {
		end = now
	}
	back := TimeRange{Window: tr.Window, End: end.Add(-d.back())}
	if err := src.ReadSteps(ctx, back, want, func(s HistoryStep) { prev = s }); err != nil {
		return fmt.Errorf("read the range %s earlier: %w", d, err)
	}
	notes := append(slices.Clone(cur.Notes), deltaNote(cur.Matrix, prev.Matrix, d, back, now))
	step(HistoryStep{Matrix: deltaMatrix(cur.Matrix, prev.Matrix), Has: cur.Has, Via: cur.Via, Coverage: cur.Coverage, Notes: notes})
	return nil
}

// deltaNote says how much the earlier range has to compare with: a grid of "-" must not
// pass for "no change".
func deltaNote(cur, prev *mesh.Matrix, d deltaMode, back TimeRange, now time.Time) string {
	have, both := 0, 0
	if cur != nil {
		for _, s := range cur.Pops {
			for _, t := range cur.Pops {
				if c := cur.Cell(s, t); c != nil && c.Samples > 0 {
					have++
					if p := prev.Cell(s, t); p != nil && p.Samples > 0 {
						both++
					}
				}
			}
		}
	}
	switch {
	case both == 0:
		return "Δ: no data " + d.String() + " earlier (" + back.describe(now) + "): nothing to compare"
	case both < have:
		return fmt.Sprintf("Δ: %s earlier has data for %d of %d pairs", d, both, have)
	}
	return ""
}

// describe is the range's start and end, for a note.
func (tr TimeRange) describe(now time.Time) string {
	end := tr.End
	if end.IsZero() {
		end = now
	}
	return end.Add(-tr.Window).Local().Format("01-02 15:04") + "–" + end.Local().Format("15:04")
}

// deltaMatrix is cur - prev per cell, metric and stat (NaN where either lacks a value).
func deltaMatrix(cur, prev *mesh.Matrix) *mesh.Matrix {
	cells := map[mesh.Pair]*mesh.Cell{}
	if cur == nil {
		return mesh.NewMatrix(time.Time{}, "influx", nil, nil, cells)
	}
	for _, s := range cur.Pops {
		for _, d := range cur.Pops {
			c := cur.Cell(s, d)
			if c == nil {
				continue
			}
			out := mesh.EmptyCell()
			out.Samples, out.Last, out.Err = c.Samples, c.Last, c.Err
			p := prev.Cell(s, d)
			for _, m := range mesh.Metrics {
				for _, st := range mesh.Stats {
					if p == nil || c.Failed[st] || p.Failed[st] {
						continue
					}
					if a, b := c.Values[m][st], p.Values[m][st]; !math.IsNaN(a) && !math.IsNaN(b) {
						out.Values[m][st] = a - b
					}
				}
			}
			// A pair failing now that did not before is the worst change.
			out.Failed = c.Failed
			cells[mesh.Pair{Src: s, Dst: d}] = &out
		}
	}
	return mesh.NewMatrix(cur.Time, cur.Source, cur.Pops, nil, cells)
}

// init starts the first read.
func (h *historyState) init() tea.Cmd { return h.read(h.userStat) }

// update handles history messages and keys; handled false passes msg on.
func (h *historyState) update(m *Model, msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case histStepMsg:
		if msg.gen != h.gen {
			return waitHist(msg.next), true // a cancelled read draining
		}
		s := msg.step
		var panel tea.Cmd
		if s.Matrix != nil {
			m.grid.setMatrix(s.Matrix)
			m.status.lastSweep = s.Matrix.Time
			h.good, h.goodAt, h.failure = true, time.Now(), ""
			if h.panelGen != msg.gen {
				h.panelGen, panel = msg.gen, m.grid.panel.follow(true)
			}
		}
		h.pending, h.via, h.has, h.coverage, h.notes = s.Pending, s.Via, s.Has, s.Coverage, s.Notes
		if h.delta == deltaOff {
			m.detail.setCells(s.Matrix) // the drill-down's and the pair chart's summary is the grid's
		} else {
			m.detail.setCells(nil)
		}
		h.syncView(m)
		h.render(m)
		return tea.Batch(waitHist(msg.next), panel), true
	case histDoneMsg:
		if msg.gen != h.gen {
			return nil, true
		}
		h.loading, h.cancel = false, nil
		if msg.err != nil {
			switch {
			case errors.Is(msg.err, context.Canceled):
				h.failure = "read cancelled"
			case h.good:
				h.failure = "read failed, showing the last good grid (" + h.goodAt.Format("15:04:05") + "): " + msg.err.Error()
			default:
				h.failure = msg.err.Error()
			}
		} else {
			h.pending = ""
		}
		h.render(m)
		return nil, true
	case refreshTickMsg:
		next := tea.Tick(m.ui.cfg.Refresh, func(time.Time) tea.Msg { return refreshTickMsg{} })
		// A read under way is not stacked; a range in the past does not change.
		if h.loading || !h.tr.End.IsZero() {
			return next, true
		}
		cmds := []tea.Cmd{next, h.read(h.userStat)}
		if m.screen == screenDetail {
			cmds = append(cmds, m.detail.Reload())
		}
		return tea.Batch(cmds...), true
	case tea.KeyPressMsg:
		if m.grid.Capturing() {
			return nil, false
		}
		return h.onKey(m, msg)
	}
	return nil, false
}

func (h *historyState) onKey(m *Model, msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := h.keys
	now := m.ui.cfg.Now()
	switch {
	case key.Matches(msg, m.ui.keys.Back) && h.loading && m.screen == screenGrid && m.grid.filter == "":
		h.cancel()
		return nil, true
	case key.Matches(msg, m.ui.keys.Refresh):
		return h.reread(m), true
	case key.Matches(msg, m.ui.keys.Stat) && m.screen == screenGrid:
		h.userStat = mesh.Stats[(max(0, slices.Index(mesh.Stats, h.userStat))+1)%len(mesh.Stats)]
		if h.has == nil || !viewHas(h.has, m.grid.view, h.userStat) {
			// Not read yet (p95 is read only when asked for): read, keeping the grid.
			h.syncView(m)
			return h.reread(m), true
		}
		h.syncView(m)
		h.render(m)
		return nil, true
	case key.Matches(msg, k.Window), key.Matches(msg, k.WindowBack):
		i := max(0, slices.Index(HistoryWindows, h.tr.Window))
		if HistoryWindows[i] != h.tr.Window {
			i = -1
		}
		if key.Matches(msg, k.Window) {
			i = (i + 1) % len(HistoryWindows)
		} else {
			i = (i - 1 + len(HistoryWindows)) % len(HistoryWindows)
		}
		h.tr.Window = HistoryWindows[max(0, i)]
		return h.reread(m), true
	case key.Matches(msg, k.Back):
		h.tr = h.tr.Shift(-h.tr.Window, now)
		return h.reread(m), true
	case key.Matches(msg, k.Forward):
		if h.tr.End.IsZero() {
			return nil, true
		}
		h.tr = h.tr.Shift(h.tr.Window, now)
		return h.reread(m), true
	case key.Matches(msg, k.Now):
		if h.tr.End.IsZero() {
			return nil, true
		}
		h.tr.End = time.Time{}
		return h.reread(m), true
	case key.Matches(msg, k.Delta) && m.screen == screenGrid:
		h.delta = (h.delta + 1) % 3
		shared := &m.ui.cfg // the config the sub-models share
		if h.delta == deltaOff {
			shared.Thresholds, h.savedTh = h.savedTh, nil
		} else if h.savedTh == nil {
			h.savedTh = shared.Thresholds
			shared.Thresholds = deltaThresholds
		}
		return h.reread(m), true
	}
	return nil, false
}

// reread reads the current range again (keeping the grid until the first step).
func (h *historyState) reread(m *Model) tea.Cmd {
	cmd := h.read(h.userStat)
	h.failure = ""
	h.render(m)
	if m.screen == screenDetail {
		return tea.Batch(cmd, m.detail.Reload())
	}
	return cmd
}

// syncView shows the user's stat once it has arrived, last until then (so the first
// paint has numbers).
func (h *historyState) syncView(m *Model) {
	want := h.userStat
	if h.has != nil && !viewHas(h.has, m.grid.view, want) && viewHas(h.has, m.grid.view, mesh.Last) {
		want = mesh.Last
	}
	if m.grid.stat != want {
		m.grid.setView(m.grid.view, want)
	}
}

// viewHas reports whether a view's metrics have stat read (health: all of its own).
func viewHas(has func(mesh.Metric, mesh.Stat) bool, v mesh.View, st mesh.Stat) bool {
	if m, ok := v.Metric(); ok {
		return has(m, st)
	}
	for _, m := range mesh.HealthMetrics {
		if !has(m, st) {
			return false
		}
	}
	return true
}

// render puts the range and the data's origin (static) and what is loading into the
// status bar, which says what is loading first: a narrow bar cuts the static end, and
// "loading" (with Esc) matters more while it lasts.
func (h *historyState) render(m *Model) {
	text := h.tr.String()
	if h.delta != deltaOff {
		text += " Δ vs " + h.delta.String() + " earlier"
	}
	if h.coverage != "" {
		// How much of the range holds data, right after the range (a narrow bar cuts
		// the end): "6h to now, data in 6m (14:03–14:10)".
		text += ", " + h.coverage
	}
	loading := ""
	if h.loading {
		switch {
		case h.pending != "" && m.grid.stat != h.userStat:
			loading = "showing " + m.grid.stat.String() + ", loading " + h.pending + "… (esc cancels)"
		case h.pending != "":
			loading = "loading " + h.pending + "… (esc cancels)"
		default:
			loading = "loading… (esc cancels)"
		}
	}
	if h.via != "" {
		text += " · " + h.via
	}
	for _, n := range h.notes {
		if n != "" {
			text += " · " + n
		}
	}
	m.ui.cfg.Window = text // the config the sub-models share
	m.status.loading = loading
	m.status.err = h.failure
	m.status.partial = false
	m.status.render()
}

// helpBindings are the history keys for the help view.
func (h *historyState) helpBindings() []key.Binding {
	if h == nil {
		return nil
	}
	return []key.Binding{h.keys.Window, h.keys.Back, h.keys.Now, h.keys.Delta}
}
