package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/textinput"
	"github.com/charmbracelet/x/ansi"

	"github.com/meshtop/meshtop/mesh"
)

// gridModel is the grid screen: the legend line, the PoP-by-PoP grid (ordering, filter,
// transpose, cursor and scrolling, with row and column headers kept in view) and the
// hint or filter line under it. It handles its own keys, clicks and matrices
// (grid_update.go). Its frame is rendered when data, selection or size change, never in
// View.
//
// Invariants: rows and cols are the visible order; r, c index them and curRow, curCol
// name the same cell (clamp keeps both, so the selection survives reorders); rowOff,
// colOff keep the selection on screen.
type gridModel struct {
	ui  *uiContext
	st  *styles
	seq cellSGR

	m          *mesh.Matrix
	metric     mesh.Metric
	stat       mesh.Stat
	sort       sortMode
	transposed bool
	filter     string // the filter applied (input's value)
	input      textinput.Model
	filtering  bool // the filter line has the keyboard
	conf       *confirmer

	rows, cols       []string // visible order
	curRow, curCol   string   // selection by name, kept across reorders and refreshes
	r, c             int      // selection by index into rows/cols
	rowOff, colOff   int
	width, height    int // the grid's area, header row included (legend and hint line apart)
	rowHdrW, cellW   int
	visRows, visCols int

	hint     string
	rendered string
}

func newGrid(ui *uiContext) gridModel {
	in := textinput.New()
	in.Prompt = "filter: "
	in.Placeholder = "PoP codes, e.g. sjc jfk"
	return gridModel{ui: ui, st: ui.st, seq: ui.st.cellSGR(), metric: ui.cfg.Metric, stat: ui.cfg.Stat,
		input: in, conf: newConfirmer(ui.cfg.Confirm)}
}

func (g *gridModel) thresholds() mesh.Thresholds { return g.ui.cfg.Thresholds[g.metric] }

// setMatrix takes new data.
func (g *gridModel) setMatrix(m *mesh.Matrix) {
	g.m = m
	g.conf.observe(m, g.metric, g.stat, g.thresholds())
	g.reorder()
}

// setView changes metric or stat; hysteresis starts over since colours mean another thing.
func (g *gridModel) setView(metric mesh.Metric, stat mesh.Stat) {
	g.metric, g.stat = metric, stat
	if g.conf.enabled() {
		g.conf.reset()
		g.conf.observe(g.m, g.metric, g.stat, g.thresholds())
	}
	g.reorder()
}

// gridChrome is the lines of the grid screen around the grid itself: legend, hint.
const gridChrome = 2

// SetSize implements component: the grid screen gets w x h, legend and hint line
// included.
func (g *gridModel) SetSize(w, h int) {
	g.width, g.height = max(w, 1), max(h-gridChrome, 2)
	g.layout()
	g.render()
}

// View implements component: legend, grid (filled to its height so the lines below stay
// put) and the hint or filter line.
func (g *gridModel) View() string {
	mid := g.st.hint.Render(ansi.Truncate(g.hint, g.width, "…"))
	if g.filtering {
		mid = g.input.View()
	}
	grid := g.rendered
	if n := lineCount(grid); n < g.height {
		grid += strings.Repeat("\n", g.height-n)
	}
	return g.legend(g.width) + "\n" + grid + "\n" + mid
}

// Capturing reports whether the grid takes every key (the filter line is open), so
// global keys like q type instead.
func (g *gridModel) Capturing() bool { return g.filtering }

// src and dst of a visible cell, undoing the transpose.
func (g *gridModel) pair(row, col string) (string, string) {
	if g.transposed {
		return col, row
	}
	return row, col
}

func (g *gridModel) classOf(row, col string) mesh.Class {
	s, d := g.pair(row, col)
	if g.conf.enabled() {
		if _, down := g.m.SourceDown(s); !down {
			if c, ok := g.conf.class(mesh.Pair{Src: s, Dst: d}); ok {
				return c
			}
		}
	}
	return g.m.Class(s, d, g.metric, g.stat, g.thresholds())
}

// reorder recomputes the visible rows and columns and keeps the selection on the same
// PoPs when they are still shown.
func (g *gridModel) reorder() {
	var pops []string
	if g.m != nil {
		pops = filterPops(g.m.Pops, g.filter)
	}
	g.rows = pops
	g.cols = append([]string(nil), pops...)
	if g.sort == sortWorst && g.m != nil {
		// Classes once, scored both ways: n² lookups instead of 2n².
		rowScore, colScore := make(map[string]int, len(pops)), make(map[string]int, len(pops))
		cls := make([][]mesh.Class, len(pops))
		line := make([]mesh.Class, len(pops))
		for i, r := range pops {
			cls[i] = make([]mesh.Class, len(pops))
			for j, c := range pops {
				cls[i][j] = g.classOf(r, c)
			}
			rowScore[r] = badness(cls[i])
		}
		for j, c := range pops {
			for i := range pops {
				line[i] = cls[i][j]
			}
			colScore[c] = badness(line)
		}
		sortByBadness(g.rows, rowScore)
		sortByBadness(g.cols, colScore)
	}
	g.r, g.c = indexOr(g.rows, g.curRow, g.r), indexOr(g.cols, g.curCol, g.c)
	g.hint = patternHint(g.m, g.metric, g.stat, g.thresholds())
	g.layout()
	g.render()
}

func indexOr(list []string, name string, fallback int) int {
	for i, v := range list {
		if v == name {
			return i
		}
	}
	return max(0, min(fallback, len(list)-1))
}

func (g *gridModel) layout() {
	g.rowHdrW = 7 // fits "src\dst"
	g.cellW = 6   // "1000+" plus a gap
	for _, p := range g.rows {
		g.rowHdrW = max(g.rowHdrW, len(p)+1)
	}
	for _, p := range g.cols {
		g.cellW = max(g.cellW, len(p)+1)
	}
	g.visCols = max(1, (g.width-g.rowHdrW)/g.cellW)
	g.visRows = max(1, g.height-1)
	g.clamp()
}

// clamp keeps the selection inside the grid and on screen.
func (g *gridModel) clamp() {
	g.r = max(0, min(g.r, len(g.rows)-1))
	g.c = max(0, min(g.c, len(g.cols)-1))
	if g.r < g.rowOff {
		g.rowOff = g.r
	}
	if g.r >= g.rowOff+g.visRows {
		g.rowOff = g.r - g.visRows + 1
	}
	if g.c < g.colOff {
		g.colOff = g.c
	}
	if g.c >= g.colOff+g.visCols {
		g.colOff = g.c - g.visCols + 1
	}
	g.rowOff = max(0, min(g.rowOff, len(g.rows)-g.visRows))
	g.colOff = max(0, min(g.colOff, len(g.cols)-g.visCols))
	if len(g.rows) > 0 {
		g.curRow, g.curCol = g.rows[g.r], g.cols[g.c]
	}
}

// move shifts the selection by dr rows and dc columns.
func (g *gridModel) move(dr, dc int) {
	g.r += dr
	g.c += dc
	g.clamp()
	g.render()
}

// moveTo selects a cell by index.
func (g *gridModel) moveTo(r, c int) {
	g.r, g.c = r, c
	g.clamp()
	g.render()
}

// cellAt maps coordinates relative to the grid's header row (below the legend) to a
// cell.
func (g *gridModel) cellAt(x, y int) (r, c int, ok bool) {
	if y < 1 || x < g.rowHdrW {
		return 0, 0, false
	}
	r = g.rowOff + y - 1
	c = g.colOff + (x-g.rowHdrW)/g.cellW
	if r >= len(g.rows) || c >= len(g.cols) || r >= g.rowOff+g.visRows || c >= g.colOff+g.visCols {
		return 0, 0, false
	}
	return r, c, true
}

// Selected returns the selected (src, dst) pair.
func (g *gridModel) Selected() (string, string, bool) {
	if len(g.rows) == 0 {
		return "", "", false
	}
	s, d := g.pair(g.rows[g.r], g.cols[g.c])
	return s, d, true
}

// cellText is what a cell shows: its value, or the name of its state.
func (g *gridModel) cellText(row, col string, cls mesh.Class) string {
	s, d := g.pair(row, col)
	cell := g.m.Cell(s, d)
	switch {
	case cls == mesh.Unreachable:
		return "DOWN"
	case cell == nil || cell.Samples == 0:
		if s == d {
			return ""
		}
		return "·"
	}
	v, failed := cell.Value(g.metric, g.stat)
	text := mesh.FormatValue(g.metric, v, failed)
	if g.st.noColor {
		text += classMarker[cls]
	}
	return text
}

func (g *gridModel) render() {
	if g.m == nil || len(g.rows) == 0 {
		msg := "waiting for data…"
		if g.m != nil && g.filter != "" {
			msg = fmt.Sprintf("no PoP matches filter %q (esc clears it)", g.filter)
		} else if g.m != nil {
			msg = "no data yet"
		}
		g.rendered = g.st.dim.Render(ansi.Truncate(msg, g.width, "…"))
		return
	}
	var b strings.Builder
	b.Grow((g.visRows + 1) * (g.width + 16*g.visCols))
	corner := "src\\dst"
	if g.transposed {
		corner = "dst\\src"
	}
	g.seq.dim.wrap(&b, pad(corner, g.rowHdrW))
	lastCol := min(len(g.cols), g.colOff+g.visCols)
	for ci := g.colOff; ci < lastCol; ci++ {
		h := g.seq.header
		if ci == g.c {
			h = g.seq.headerHi
		}
		h.wrap(&b, padLeft(g.cols[ci], g.cellW-1))
		b.WriteByte(' ')
	}
	if lastCol < len(g.cols) {
		g.seq.dim.wrap(&b, "›")
	}
	lastRow := min(len(g.rows), g.rowOff+g.visRows)
	for ri := g.rowOff; ri < lastRow; ri++ {
		b.WriteByte('\n')
		row := g.rows[ri]
		h := g.seq.header
		if ri == g.r {
			h = g.seq.headerHi
		}
		h.wrap(&b, pad(row, g.rowHdrW-1))
		b.WriteByte(' ')
		for ci := g.colOff; ci < lastCol; ci++ {
			cls := g.classOf(row, g.cols[ci])
			seq := g.seq.class[cls]
			if ri == g.r && ci == g.c {
				seq = g.seq.selected[cls]
			}
			seq.wrap(&b, padLeft(g.cellText(row, g.cols[ci], cls), g.cellW-1))
			b.WriteByte(' ')
		}
	}
	g.rendered = b.String()
}

// legend describes what the grid shows, in one line.
func (g *gridModel) legend(width int) string {
	th := g.thresholds()
	u := g.metric.Unit()
	parts := []string{
		g.st.title.Render(fmt.Sprintf("%s (%s, %s)", g.metric.Title(), u, g.stat)),
		g.st.swatch(mesh.Green, fmt.Sprintf("<%g", th[0])),
		g.st.swatch(mesh.Yellow, fmt.Sprintf("<%g", th[1])),
		g.st.swatch(mesh.Orange, fmt.Sprintf("<%g", th[2])),
		g.st.swatch(mesh.Red, fmt.Sprintf("≥%g", th[2])),
		g.st.swatch(mesh.Unreachable, "DOWN"),
		g.st.dim.Render("· no data"),
	}
	extra := fmt.Sprintf("sort:%s", g.sort)
	if g.transposed {
		extra += " transposed"
	}
	if g.filter != "" {
		extra += fmt.Sprintf(" filter:%q", g.filter)
	}
	if len(g.rows) > 0 {
		extra += fmt.Sprintf(" %d×%d", len(g.rows), len(g.cols))
	}
	parts = append(parts, g.st.dim.Render(extra))
	return ansi.Truncate(strings.Join(parts, " "), width, "…")
}

func pad(s string, w int) string {
	if n := ansi.StringWidth(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return ansi.Truncate(s, w, "")
}

func padLeft(s string, w int) string {
	if n := ansi.StringWidth(s); n < w {
		return strings.Repeat(" ", w-n) + s
	}
	return ansi.Truncate(s, w, "")
}
