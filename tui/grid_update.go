package tui

import (
	"slices"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/meshtop/meshtop/mesh"
)

// gridTop is the grid's header row within the grid screen (below the legend line).
const gridTop = 1

// Update implements component: new matrices, the grid's keys (moving, metric, stat,
// sort, transpose, filter) and clicks. enter, or a click on the selected cell, asks the
// root for a drill-down with an openPairMsg.
func (g *gridModel) Update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	force := false
	switch msg := msg.(type) {
	case matrixMsg:
		if msg.err == nil && msg.m != nil && !msg.superseded {
			g.setMatrix(msg.m)
			force = true // the pair's history has a new sample
			// New data moves the moments cells turn stale: schedule anew if sooner.
			cmd = g.staleTick()
		}
	case tea.KeyPressMsg:
		switch {
		case g.filtering:
			cmd = g.filterKey(msg)
		case g.panel.focus:
			cmd = g.eventKey(msg)
		default:
			cmd = g.key(msg)
		}
	case tea.MouseClickMsg:
		cmd = g.click(msg.Mouse())
	case panelTickMsg, pairHistoryMsg:
		next, changed := g.panel.update(msg)
		if changed {
			g.panel.setSelection(g)
			g.join()
		}
		return next
	case staleTickMsg:
		// Cells age without new data: redraw when the next one turns stale.
		if msg.gen != g.staleGen {
			return nil
		}
		g.staleAt = time.Time{}
		g.render()
		return g.staleTick()
	}
	return tea.Batch(cmd, g.panel.follow(force))
}

// staleTickMsg redraws the grid so that cells can turn stale; only the newest
// generation's tick counts.
type staleTickMsg struct{ gen int }

// staleTickMin spaces the staleness redraws of a mesh whose pairs age at many moments.
const staleTickMin = 250 * time.Millisecond

// staleTick schedules the next staleness redraw for the moment the next cell turns
// stale (its newest test two intervals old), so every viewer of one store drops its
// colour at the same moment; nil without an interval.
func (g *gridModel) staleTick() tea.Cmd {
	d, ok := g.nextStale()
	at := g.ui.cfg.Now().Add(d)
	if !ok || (!g.staleAt.IsZero() && !at.Before(g.staleAt)) {
		return nil // nothing to wait for, or the tick scheduled comes first
	}
	g.staleGen++ // replaces the tick scheduled before
	g.staleAt = at
	gen := g.staleGen
	return tea.Tick(d, func(time.Time) tea.Msg { return staleTickMsg{gen: gen} })
}

// nextStale is how long until the next cell turns stale (its newest test two intervals
// old), or until a stale cell's age moves on (a second); false when nothing will change.
func (g *gridModel) nextStale() (time.Duration, bool) {
	iv := g.ui.cfg.Interval
	if iv <= 0 || g.m == nil {
		return 0, false
	}
	now := g.ui.cfg.Now()
	var next time.Time
	for _, s := range g.m.Pops {
		for _, d := range g.m.Pops {
			c := g.m.Cell(s, d)
			if c == nil || c.Samples == 0 || c.Last.Time.IsZero() {
				continue
			}
			at := c.Last.Time.Add(2*iv + time.Millisecond)
			if !at.After(now) {
				at = now.Add(time.Second) // stale: its age shows in seconds
			}
			if next.IsZero() || at.Before(next) {
				next = at
			}
		}
	}
	if next.IsZero() {
		return 0, false
	}
	return max(next.Sub(now), staleTickMin), true
}

// metricKey reports whether a key switches the view; those work on every screen.
func (g *gridModel) metricKey(msg tea.KeyPressMsg) bool {
	k := g.ui.keys
	return key.Matches(msg, k.Metric) || key.Matches(msg, k.HealthKey) || key.Matches(msg, k.MetricKeys...)
}

func (g *gridModel) key(msg tea.KeyPressMsg) tea.Cmd {
	k := g.ui.keys
	switch {
	case key.Matches(msg, k.Metric):
		g.setView(mesh.Views[(max(0, slices.Index(mesh.Views, g.view))+1)%len(mesh.Views)], g.stat)
	case key.Matches(msg, k.HealthKey):
		g.setView(mesh.Health, g.stat)
	case key.Matches(msg, k.MetricKeys...):
		for i, b := range k.MetricKeys {
			if key.Matches(msg, b) {
				g.setView(mesh.MetricView(mesh.Metrics[i]), g.stat)
			}
		}
	case key.Matches(msg, k.Up):
		g.step(-1, 0)
	case key.Matches(msg, k.Down):
		g.step(1, 0)
	case key.Matches(msg, k.Left):
		g.step(0, -1)
	case key.Matches(msg, k.Right):
		g.step(0, 1)
	case key.Matches(msg, k.PageUp):
		g.step(-g.visRows, 0)
	case key.Matches(msg, k.PageDown):
		g.step(g.visRows, 0)
	case key.Matches(msg, k.Home):
		g.home()
	case key.Matches(msg, k.End):
		g.end()
	case key.Matches(msg, k.Stat):
		g.setView(g.view, mesh.Stats[(max(0, slices.Index(mesh.Stats, g.stat))+1)%len(mesh.Stats)])
	case key.Matches(msg, k.Sort):
		g.sort = (g.sort + 1) % 2
		g.reorder()
	case key.Matches(msg, k.Transpose):
		g.transpose()
	case key.Matches(msg, k.Filter):
		g.filtering = true
		return g.input.Focus()
	case key.Matches(msg, k.Back):
		if g.filter != "" {
			g.input.SetValue("")
			g.applyFilter()
		}
	case key.Matches(msg, k.Enter):
		return g.open()
	case key.Matches(msg, k.Panel):
		g.panel.enabled = !g.panel.enabled
		g.layout()
		g.render()
	case key.Matches(msg, k.Regions):
		g.regions = !g.regions
		g.reorder()
	case key.Matches(msg, k.Events):
		if g.panel.visible && len(g.events.list) > 0 {
			g.panel.focus = true
			g.render()
		}
	}
	return nil
}

// eventKey moves through the event list; enter jumps to the event's pair. Other keys
// leave the list and act on the grid.
func (g *gridModel) eventKey(msg tea.KeyPressMsg) tea.Cmd {
	k := g.ui.keys
	switch {
	case key.Matches(msg, k.Up):
		g.panel.sel = max(0, g.panel.sel-1)
	case key.Matches(msg, k.Down):
		g.panel.sel = min(len(g.events.list)-1, g.panel.sel+1)
	case key.Matches(msg, k.Enter):
		g.panel.focus = false
		g.jumpToEvent(g.panel.sel)
	case key.Matches(msg, k.Back), key.Matches(msg, k.Events):
		g.panel.focus = false
	default:
		g.panel.focus = false
		return g.key(msg)
	}
	g.render()
	return nil
}

// jumpToEvent selects the pair of event i (the first destination of an agent event),
// clearing a filter that hides it.
func (g *gridModel) jumpToEvent(i int) {
	if i < 0 || i >= len(g.events.list) {
		return
	}
	e := g.events.list[i]
	dst := e.Dst
	if dst == "" {
		for _, p := range g.cols {
			if p != e.Src {
				dst = p
				break
			}
		}
	}
	if g.selectPair(e.Src, dst) {
		return
	}
	g.input.SetValue("")
	g.applyFilter()
	g.selectPair(e.Src, dst)
}

// filterKey edits the filter line; the grid follows every keystroke.
func (g *gridModel) filterKey(msg tea.KeyPressMsg) tea.Cmd {
	var cmd tea.Cmd
	switch msg.String() {
	case "enter":
		g.filtering = false
		g.input.Blur()
	case "esc":
		g.filtering = false
		g.input.Blur()
		g.input.SetValue("")
	default:
		g.input, cmd = g.input.Update(msg)
	}
	g.applyFilter()
	return cmd
}

func (g *gridModel) applyFilter() {
	g.filter = g.input.Value()
	g.reorder()
}

// transpose swaps rows and columns; the selection stays on the same pair.
func (g *gridModel) transpose() {
	g.touched = true // the same pair, seen the other way: not a new start
	g.transposed = !g.transposed
	g.r, g.c = g.c, g.r
	g.curRow, g.curCol = g.curCol, g.curRow
	g.reorder()
}

// panelEventAt maps body coordinates to an event of the panel.
func (g *gridModel) panelEventAt(x, y int) (int, bool) {
	if !g.panel.visible {
		return 0, false
	}
	if g.panel.chart {
		return g.panel.eventAt(x, y-g.panel.topH-1)
	}
	if g.panel.side {
		return g.panel.eventAt(x-g.gridW-3, y)
	}
	return g.panel.eventAt(x, y-g.gridH-1)
}

// open asks for a drill-down into the selected pair.
func (g *gridModel) open() tea.Cmd {
	s, d, ok := g.Selected()
	if !ok {
		return nil
	}
	return func() tea.Msg { return openPairMsg{src: s, dst: d} }
}

// click selects the clicked cell; a click on the selected cell drills down (a double
// click does both). Coordinates are relative to the grid screen's top-left.
func (g *gridModel) click(ms tea.Mouse) tea.Cmd {
	if ms.Button != tea.MouseLeft {
		return nil
	}
	if i, ok := g.panelEventAt(ms.X, ms.Y-gridTop); ok {
		g.panel.sel = i
		g.jumpToEvent(i)
		return nil
	}
	r, c, ok := g.cellAt(ms.X, ms.Y-gridTop)
	if !ok || g.diagonal(r, c) {
		return nil // a PoP to itself is no pair
	}
	if r == g.r && c == g.c {
		return g.open()
	}
	g.touched = true
	g.moveTo(r, c)
	return nil
}
