package tui

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/meshtop/meshtop/mesh"
)

// countingSource counts the pair reads.
type countingSource struct {
	StoreSource
	history, traces atomic.Int64
}

func (c *countingSource) PairHistory(ctx context.Context, src, dst string, n int) ([]mesh.Sample, error) {
	c.history.Add(1)
	return c.StoreSource.PairHistory(ctx, src, dst, n)
}

func (c *countingSource) PairTraces(ctx context.Context, src, dst string) ([]mesh.TraceResult, error) {
	c.traces.Add(1)
	return c.StoreSource.PairTraces(ctx, src, dst)
}

// band is the frame's lines between the rule under the grid and the rule over the events.
func band(f string) string {
	lines := strings.Split(f, "\n")
	var out []string
	in := false
	for _, l := range lines {
		if strings.HasPrefix(l, "───") {
			if in {
				break
			}
			in = true
			continue
		}
		if in {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// At 160x48 the selected pair gets its chart and timeline under the grid, both
// directions, and the chart follows the cursor.
func TestPairChartUnderTheGrid(t *testing.T) {
	m := newTestModel(t, 160, 48, Config{})
	if !m.grid.panel.chart {
		t.Fatal("no chart layout at 160x48")
	}
	b := band(frame(m))
	for _, want := range []string{"ams → fra", "fra → ams", "RTT min 25.0", "loss┤", "jitter┤", "ttl┤4", "◆", "timeline · 1 event", "◆ route change via scouter-ams-0"} {
		if !strings.Contains(b, want) {
			t.Errorf("chart band lacks %q:\n%s", want, b)
		}
	}
	// Every row of the grid is on screen above it.
	for _, pop := range []string{"ams", "fra", "jfk", "nrt", "sjc", "syd"} {
		if !strings.Contains(frame(m), "\n"+pop+" ") {
			t.Errorf("grid row %s missing:\n%s", pop, frame(m))
		}
	}
	// The cursor moves: the band drops the old pair at once and reads the new one.
	nm, _ := m.Update(tea.KeyPressMsg{Code: tea.KeyRight})
	m = nm.(Model)
	if b := band(frame(m)); strings.Contains(b, "fra → ams") || !strings.Contains(b, "ams → jfk") || !strings.Contains(b, "reading…") {
		t.Errorf("right: the band still shows the old pair, or does not say it is reading:\n%s", b)
	}
	m = settlePanel(t, m)
	if b := band(frame(m)); !strings.Contains(b, "ams → jfk") || !strings.Contains(b, "jfk → ams") || strings.Contains(b, "reading…") {
		t.Errorf("the chart did not follow the cursor to ams→jfk:\n%s", b)
	}
	for i, l := range strings.Split(m.View().Content, "\n") {
		if w := ansi.StringWidth(l); w > 160 {
			t.Fatalf("line %d is %d wide", i, w)
		}
	}
}

// At 80x24 and 40x12 the grid keeps priority: no chart; a large mesh on a big terminal
// too. A tall narrow terminal stacks the two directions.
func TestChartOnlyWhenTheGridLeavesRoom(t *testing.T) {
	for _, tt := range []struct {
		w, h          int
		chart, byside bool
	}{
		{80, 24, false, false},
		{40, 12, false, false},
		{100, 30, false, false},
		{120, 40, true, true},
		{160, 48, true, true},
		{80, 64, true, false},
	} {
		m := newTestModel(t, tt.w, tt.h, Config{})
		p := m.grid.panel
		if p.chart != tt.chart || (p.chart && p.pc.sideBySide != tt.byside) {
			t.Errorf("%dx%d: chart %v side by side %v, want %v %v", tt.w, tt.h, p.chart, p.pc.sideBySide, tt.chart, tt.byside)
		}
		if lines := strings.Split(frame(m), "\n"); len(lines) != tt.h {
			t.Errorf("%dx%d: frame of %d lines", tt.w, tt.h, len(lines))
		}
		if tt.chart && (!strings.Contains(frame(m), "ams → fra") || !strings.Contains(frame(m), "fra → ams")) {
			t.Errorf("%dx%d: a direction is missing:\n%s", tt.w, tt.h, frame(m))
		}
	}
	st := mesh.NewStore(0)
	var pops []string
	for i := range 45 {
		pops = append(pops, "p"+string(rune('a'+i/26))+string(rune('a'+i%26)))
	}
	sweep(st, t0, pops, func(s, d string) (float64, float64) { return 20, 0 })
	if m := modelOver(t, st, 160, 48, Config{}); m.grid.panel.chart {
		t.Errorf("a 45-PoP mesh at 160x48 lost grid rows to the chart")
	}
}

// The events list takes what the chart leaves: more lines on a taller terminal, and its
// lines are clickable in the chart layout too.
func TestEventsGrowIntoWhatIsLeft(t *testing.T) {
	pops := []string{"ams", "fra", "jfk"}
	st := mesh.NewStore(0)
	for i := range 6 {
		sweep(st, t0.Add(time.Duration(i)*time.Minute), pops, func(s, d string) (float64, float64) {
			if s == "fra" && d == "jfk" && i%2 == 1 {
				return 1500, 0
			}
			return 20, 0
		})
	}
	var prev int
	for _, h := range []int{48, 60} {
		m := modelOver(t, st, 160, h, Config{})
		if !m.grid.panel.chart || m.grid.panel.evH <= prev {
			t.Fatalf("160x%d: chart %v, events %d lines (before: %d)", h, m.grid.panel.chart, m.grid.panel.evH, prev)
		}
		prev = m.grid.panel.evH
	}
	// Red and recovered events come from successive matrices.
	st = mesh.NewStore(0)
	m := modelOver(t, st, 160, 48, Config{})
	for i := range 4 {
		sweep(st, t0.Add(time.Duration(i)*time.Minute), pops, func(s, d string) (float64, float64) {
			if s == "fra" && d == "jfk" && i == 2 {
				return 1500, 0
			}
			return 20, 0
		})
		m = runCmd(t, m, m.fetch())
	}
	p := m.grid.panel
	if !p.chart || p.evShown == 0 {
		t.Fatalf("chart %v, %d events shown:\n%s", p.chart, p.evShown, frame(m))
	}
	y := gridTop + p.topH + 1 + p.evLine0
	m = update(t, m, tea.MouseClickMsg{X: 3, Y: y, Button: tea.MouseLeft})
	if s, d, _ := m.Selected(); s != "fra" || d != "jfk" {
		t.Fatalf("click on the first event (line %d) selected %s→%s:\n%s", y, s, d, frame(m))
	}
}

// Reads are debounced: a moving cursor asks for the pair only once it rests, and only the
// newest answer counts. View reads nothing.
func TestChartReadsDebouncedNotInView(t *testing.T) {
	src := &countingSource{StoreSource: StoreSource{Store: fixtureStore()}}
	m := New(src, Config{Now: func() time.Time { return t0 }})
	m = update(t, m, tea.WindowSizeMsg{Width: 160, Height: 48})
	m = runCmd(t, m, m.fetch())
	var ticks []tea.Cmd
	for range 3 {
		nm, cmd := m.Update(tea.KeyPressMsg{Code: tea.KeyDown})
		m = nm.(Model)
		ticks = append(ticks, cmd)
	}
	if n := src.history.Load() + src.traces.Load(); n != 0 {
		t.Fatalf("%d reads while the cursor moved", n)
	}
	for range 100 {
		_ = m.View()
	}
	if n := src.history.Load() + src.traces.Load(); n != 0 {
		t.Fatalf("View read the source %d times", n)
	}
	// The ticks fire: only the last one (the cursor's resting place) reads.
	for _, c := range ticks {
		m = drive(m, c, 0)
	}
	if h, tr := src.history.Load(), src.traces.Load(); h != 2 || tr != 2 {
		t.Fatalf("after the cursor rested: %d history and %d trace reads, want 2 and 2 (both directions)", h, tr)
	}
	if s, d, _ := m.Selected(); !strings.Contains(band(frame(m)), s+" → "+d) {
		t.Fatalf("chart is not of %s→%s:\n%s", s, d, frame(m))
	}
}

// drive runs cmd and feeds its messages back, following the panel's tick and read.
func drive(m Model, cmd tea.Cmd, depth int) Model {
	if cmd == nil || depth > 4 {
		return m
	}
	switch msg := cmd().(type) {
	case tea.BatchMsg:
		for _, c := range msg {
			m = drive(m, c, depth+1)
		}
	case panelTickMsg, pairHistoryMsg:
		nm, next := m.Update(msg)
		m = drive(nm.(Model), next, depth+1)
	}
	return m
}

// Moving through pairs in the drill-down and going back: the chart is of the pair the
// cursor is on, read on the way back.
func TestChartAfterTheDrillDownMoved(t *testing.T) {
	m := press(t, newTestModel(t, 160, 48, Config{}), "enter")
	nm, cmd := m.Update(tea.KeyPressMsg{Code: 'l', Text: "l"}) // next column: ams→jfk
	m = runCmd(t, nm.(Model), cmd)
	nm, cmd = m.Update(tea.KeyPressMsg{Code: tea.KeyEscape})
	m = drive(nm.(Model), cmd, 0)
	if s, d, _ := m.Selected(); s != "ams" || d != "jfk" {
		t.Fatalf("back on %s→%s", s, d)
	}
	if b := band(frame(m)); !strings.Contains(b, "jfk → ams") || strings.Contains(b, "reading…") {
		t.Fatalf("the chart is not of ams→jfk:\n%s", b)
	}
}
