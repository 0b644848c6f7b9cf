package tui

import (
	"slices"

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
	switch msg := msg.(type) {
	case matrixMsg:
		if msg.err == nil && msg.m != nil && !msg.superseded {
			g.setMatrix(msg.m)
		}
	case tea.KeyPressMsg:
		if g.filtering {
			return g.filterKey(msg)
		}
		return g.key(msg)
	case tea.MouseClickMsg:
		return g.click(msg.Mouse())
	}
	return nil
}

// metricKey reports whether a key switches the metric; those work on every screen.
func (g *gridModel) metricKey(msg tea.KeyPressMsg) bool {
	k := g.ui.keys
	return key.Matches(msg, k.Metric, k.Latency, k.JitterPct, k.JitterMs, k.Loss)
}

func (g *gridModel) key(msg tea.KeyPressMsg) tea.Cmd {
	k := g.ui.keys
	switch {
	case key.Matches(msg, k.Metric):
		g.setView(mesh.Metrics[(max(0, slices.Index(mesh.Metrics, g.metric))+1)%len(mesh.Metrics)], g.stat)
	case key.Matches(msg, k.Latency, k.JitterPct, k.JitterMs, k.Loss):
		g.setView(mesh.Metrics[msg.String()[0]-'1'], g.stat)
	case key.Matches(msg, k.Up):
		g.move(-1, 0)
	case key.Matches(msg, k.Down):
		g.move(1, 0)
	case key.Matches(msg, k.Left):
		g.move(0, -1)
	case key.Matches(msg, k.Right):
		g.move(0, 1)
	case key.Matches(msg, k.PageUp):
		g.move(-g.visRows, 0)
	case key.Matches(msg, k.PageDown):
		g.move(g.visRows, 0)
	case key.Matches(msg, k.Home):
		g.moveTo(0, 0)
	case key.Matches(msg, k.End):
		g.moveTo(len(g.rows)-1, len(g.cols)-1)
	case key.Matches(msg, k.Stat):
		g.setView(g.metric, mesh.Stats[(max(0, slices.Index(mesh.Stats, g.stat))+1)%len(mesh.Stats)])
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
	}
	return nil
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
	g.transposed = !g.transposed
	g.r, g.c = g.c, g.r
	g.curRow, g.curCol = g.curCol, g.curRow
	g.reorder()
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
	r, c, ok := g.cellAt(ms.X, ms.Y-gridTop)
	if !ok {
		return nil
	}
	if r == g.r && c == g.c {
		return g.open()
	}
	g.moveTo(r, c)
	return nil
}
