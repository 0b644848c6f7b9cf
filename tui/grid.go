package tui

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	"github.com/charmbracelet/x/ansi"

	"github.com/meshtop/meshtop/mesh"
)

// gridModel is the grid screen: the legend line, the PoP-by-PoP grid (ordering, filter,
// regions, transpose, cursor and scrolling, with row and column headers kept in view),
// the panel beside or under it when there is room (grid_panel.go) and the hint or filter
// line. It handles its own keys, clicks and matrices (grid_update.go). Its frame is
// rendered when data, selection or size change, never in View.
//
// Invariants: rows and cols are the PoPs shown, in order; drows and dcols are the display
// lines (an index into rows/cols, or a region summary); r, c index rows/cols and curRow,
// curCol name the same cell (clamp keeps both, so the selection survives reorders);
// rowOff, colOff (display units) keep the selection on screen.
type gridModel struct {
	ui  *uiContext
	st  *styles
	seq cellSGR

	m          *mesh.Matrix
	view       mesh.View // health or one metric
	stat       mesh.Stat
	sort       sortMode
	transposed bool
	filter     string // the filter applied (input's value)
	input      textinput.Model
	filtering  bool // the filter line has the keyboard
	conf       *confirmer
	regions    bool // group rows and columns by their region label (R)
	touched    bool // the user moved the cursor: the start rule (grid_cursor.go) ends

	labels  map[string]map[string]string // PoP → labels of its agents
	rows    []string                     // visible order
	cols    []string
	rgn     regionLayout // display lines, region summaries
	curRow  string       // selection by name, kept across reorders and refreshes
	curCol  string
	r, c    int // selection by index into rows/cols
	rowOff  int // first display row/column on screen
	colOff  int
	width   int // the grid screen's area below the legend and above the hint line
	height  int
	rowHdrW int
	cellW   int
	visRows int // display rows and columns that fit
	visCols int
	gridW   int // columns the grid itself takes (the panel gets the rest)
	gridH   int // lines the grid itself takes, header row included

	sums map[sumKey]sumCell // region summaries of this data and view, computed once

	panel    panelModel
	events   *eventLog
	marks    cellMarks // which marks the legend must explain
	staleGen int       // numbers staleness ticks: only the newest counts
	staleAt  time.Time // when the scheduled one fires (zero: none)

	hint string
	// The transit hop most bad pairs share (hint.go), for the matrix, view and stat in
	// hopFor: read once a matrix, not on every reorder.
	hopFor   hopKey
	hop      mesh.HopSuspect
	hopOK    bool
	body     string // grid and panel, joined
	rendered string // the grid alone (benchmarks and tests read it)
}

// cellMarks records which marks the cells on screen carry, for the legend.
type cellMarks struct{ loss, stale, pending bool }

func newGrid(ui *uiContext) gridModel {
	in := textinput.New()
	in.Prompt = "filter: "
	in.Placeholder = "PoP codes or label=value, e.g. sjc jfk, region=eu"
	return gridModel{ui: ui, st: ui.st, seq: ui.st.cellSGR(), view: ui.cfg.View, stat: ui.cfg.Stat,
		input: in, conf: newConfirmer(ui.cfg.Confirm), regions: true, panel: newPanel(ui), events: newEventLog(200)}
}

// ths are the thresholds of every metric (health needs them all).
func (g *gridModel) ths() map[mesh.Metric]mesh.Thresholds { return g.ui.cfg.Thresholds }

// setMatrix takes new data.
func (g *gridModel) setMatrix(m *mesh.Matrix) {
	g.events.observe(m, g.stat, g.ths())
	g.m = m
	g.labels = popLabels(m)
	g.conf.observe(m, g.view, g.stat, g.ths())
	g.reorder()
}

// setView changes view or stat; hysteresis starts over since colours mean another thing.
func (g *gridModel) setView(view mesh.View, stat mesh.Stat) {
	statChanged := stat != g.stat
	g.view, g.stat = view, stat
	if g.conf.enabled() {
		g.conf.reset()
		g.conf.observe(g.m, g.view, g.stat, g.ths())
	}
	if statChanged {
		g.events.rebase(g.m, g.stat, g.ths()) // events of every metric: the view does not matter
	}
	g.reorder()
}

// gridChrome is the lines of the grid screen around the grid itself: legend, hint.
const gridChrome = 2

// SetSize implements component: the grid screen gets w x h, legend and hint line
// included.
func (g *gridModel) SetSize(w, h int) {
	g.width, g.height = max(w, 1), max(h-gridChrome, 2)
	g.input.SetWidth(max(1, g.width-ansi.StringWidth(g.input.Prompt)-1))
	g.layout()
	g.render()
}

// View implements component: legend, grid with its panel (filled to its height so the
// lines below stay put) and the hint or filter line.
func (g *gridModel) View() string {
	mid := g.st.hint.Render(ansi.Truncate(g.hint, g.width, "…"))
	if g.filtering {
		mid = g.input.View()
	}
	body := g.body
	if n := lineCount(body); n < g.height {
		body += strings.Repeat("\n", g.height-n)
	}
	return g.legend(g.width) + "\n" + body + "\n" + mid
}

// Capturing reports whether the grid takes every key (the filter line is open), so
// global keys like q type instead. (The event list takes only the arrows and enter.)
func (g *gridModel) Capturing() bool { return g.filtering }

// pair gives src and dst of a visible cell, undoing the transpose.
func (g *gridModel) pair(row, col string) (string, string) {
	if g.transposed {
		return col, row
	}
	return row, col
}

// look is what a visible cell says: its verdict under the view (the hysteresis of
// --confirm applied for a source that does not judge), and whether its newest test is
// too old to say anything now (stale: its class is mesh.Stale, whatever it was).
type look struct {
	vd    mesh.Verdict
	cell  *mesh.Cell
	stale bool
	age   time.Duration
}

func (g *gridModel) lookAt(row, col string) look {
	s, d := g.pair(row, col)
	lk := look{vd: g.m.Verdict(s, d, g.view, g.stat, g.ths()), cell: g.m.Cell(s, d)}
	if lk.vd.Class == mesh.Unreachable || lk.cell == nil || lk.cell.Samples == 0 {
		return lk
	}
	if age, stale := g.staleness(lk.cell); stale {
		lk.stale, lk.age, lk.vd.Class = true, age, mesh.Stale
		return lk
	}
	if g.conf.enabled() && !lk.cell.Judged {
		p := mesh.Pair{Src: s, Dst: d}
		if c, ok := g.conf.class(p); ok {
			lk.vd.Class = c
		}
		_, lk.vd.Pending = g.conf.pendingClass(p)
	}
	return lk
}

// staleness is how old a cell's newest test is, and whether that is over two intervals.
func (g *gridModel) staleness(c *mesh.Cell) (time.Duration, bool) {
	iv := g.ui.cfg.Interval
	if iv <= 0 || c.Last.Time.IsZero() {
		return 0, false
	}
	age := g.ui.cfg.Now().Sub(c.Last.Time)
	return age, age > 2*iv
}

// sortValue is a cell's value for ordering: a FAIL is worse than any number, a stale
// or empty cell has none.
func (lk look) sortValue() float64 {
	switch {
	case lk.stale, lk.vd.Class == mesh.Unreachable:
		return math.NaN()
	case lk.vd.Failed:
		return math.Inf(1)
	}
	return lk.vd.Value
}

func (g *gridModel) classOf(row, col string) mesh.Class { return g.lookAt(row, col).vd.Class }

// classValue is a cell's class and value for sorting a large mesh.
func (g *gridModel) classValue(row, col string) (mesh.Class, float64) {
	lk := g.lookAt(row, col)
	return lk.vd.Class, lk.sortValue()
}

// reorder recomputes the visible rows and columns and keeps the selection on the same
// PoPs when they are still shown.
func (g *gridModel) reorder() {
	var pops []string
	if g.m != nil {
		pops = filterPops(g.m.Pops, g.filter, g.labels)
	}
	g.rows = pops
	g.cols = append([]string(nil), pops...)
	if g.sort == sortWorst && g.m != nil {
		g.sortWorst(pops)
	}
	g.rgn = newRegionLayout(g.rows, g.cols, g.regionOf, g.regions)
	g.sums = nil
	if !g.touched && len(g.rows) > 1 {
		g.r, g.c = g.startCell()
		g.curRow, g.curCol = g.rows[g.r], g.cols[g.c]
	}
	g.r, g.c = indexOr(g.rows, g.curRow, g.r), indexOr(g.cols, g.curCol, g.c)
	if k := (hopKey{g.m, g.view, g.stat}); k != g.hopFor {
		g.hopFor = k
		g.hop, g.hopOK = sharedHop(g.m, g.view, g.stat, g.ths())
	}
	g.hint = patternHint(g.m, g.view, g.stat, g.ths(), g.hop, g.hopOK)
	g.layout()
	g.render()
}

// sortWorst orders rows and columns by their worst class, then by the count of bad cells,
// then by the worst value within that class.
func (g *gridModel) sortWorst(pops []string) {
	rowScore, colScore := make(map[string]score, len(pops)), make(map[string]score, len(pops))
	cls := make([][]mesh.Class, len(pops))
	vals := make([][]float64, len(pops))
	line := make([]mesh.Class, len(pops))
	lineV := make([]float64, len(pops))
	// Classes once, scored both ways: n² lookups instead of 2n².
	for i, r := range pops {
		cls[i] = make([]mesh.Class, len(pops))
		vals[i] = make([]float64, len(pops))
		for j, c := range pops {
			cls[i][j], vals[i][j] = g.classValue(r, c)
		}
		rowScore[r] = badness(cls[i], vals[i])
	}
	for j, c := range pops {
		for i := range pops {
			line[i], lineV[i] = cls[i][j], vals[i][j]
		}
		colScore[c] = badness(line, lineV)
	}
	sortByBadness(g.rows, rowScore)
	sortByBadness(g.cols, colScore)
}

func indexOr(list []string, name string, fallback int) int {
	for i, v := range list {
		if v == name {
			return i
		}
	}
	return max(0, min(fallback, len(list)-1))
}

// Cell widths: the narrowest holds "1000+", a mark and a gap; wider cells are easier to
// read when the mesh leaves room.
const (
	minCellW     = 7
	maxCellW     = 10
	sidePanelMin = 36 // a side panel narrower than this says too little
	bottomMin    = 6  // lines of a bottom panel
	maxBottom    = 10 // a bottom panel taller than this is mostly empty
	bigTermH     = 40 // a large mesh still gets a compact panel on a terminal this tall
)

// layout shares the area between the grid and its panel, and sizes the cells. A mesh
// smaller than the terminal widens its cells and gives the rest to the panel; a larger
// one gets the space (a compact panel only on a tall terminal).
func (g *gridModel) layout() {
	g.rowHdrW = 8 // fits "src\dst" and a scroll mark
	narrow := minCellW
	for _, p := range g.rows {
		g.rowHdrW = max(g.rowHdrW, len(p)+2)
	}
	for _, p := range g.cols {
		narrow = max(narrow, len(p)+2)
	}
	for _, r := range g.rgn.names {
		g.rowHdrW = max(g.rowHdrW, len(r)+4)
	}
	ndc, ndr := max(1, len(g.rgn.dcols)), len(g.rgn.drows)
	naturalW, naturalH := g.rowHdrW+narrow*ndc, 1+ndr
	g.panel.side, g.panel.visible, g.panel.chart = false, false, false
	gridAreaW, gridAreaH := g.width, g.height
	chartW, chart := 0, false
	if g.panel.enabled && len(g.rows) > 0 {
		chartW, chart = g.chartLayout(naturalW, naturalH) // grid_chart.go
	}
	switch {
	case !g.panel.enabled || len(g.rows) == 0:
	case chart:
		gridAreaW, gridAreaH = chartW, naturalH
	case g.width-naturalW >= sidePanelMin+3:
		g.panel.side, g.panel.visible = true, true
		gridAreaW = g.width - sidePanelMin - 3
	case g.height-naturalH >= bottomMin+1:
		g.panel.visible = true
		gridAreaH = max(naturalH, g.height-maxBottom-1)
	case g.height >= bigTermH:
		g.panel.visible = true
		gridAreaH = g.height - bottomMin - 1
	}
	g.cellW = max(narrow, min(maxCellW, (gridAreaW-g.rowHdrW)/ndc))
	g.visCols = max(1, (gridAreaW-g.rowHdrW)/g.cellW)
	g.visRows = max(1, gridAreaH-1)
	g.gridW = min(gridAreaW, g.rowHdrW+g.cellW*min(ndc, g.visCols)+1)
	g.gridH = min(gridAreaH, 1+min(ndr, g.visRows))
	switch {
	case g.panel.chart:
		g.placeChart()
	case g.panel.side:
		g.panel.SetSize(max(1, g.width-g.gridW-3), g.height)
	case g.panel.visible:
		g.panel.SetSize(g.width, max(1, g.height-g.gridH-1))
	}
	g.clamp()
}

// clamp keeps the selection inside the grid and on screen.
func (g *gridModel) clamp() {
	g.r = max(0, min(g.r, len(g.rows)-1))
	g.c = max(0, min(g.c, len(g.cols)-1))
	if len(g.rows) == 0 {
		g.rowOff, g.colOff = 0, 0
		return
	}
	dr, dc := g.rgn.rowPos[g.r], g.rgn.colPos[g.c]
	if dr < g.rowOff {
		g.rowOff = dr
	}
	if dr >= g.rowOff+g.visRows {
		g.rowOff = dr - g.visRows + 1
	}
	if dc < g.colOff {
		g.colOff = dc
	}
	if dc >= g.colOff+g.visCols {
		g.colOff = dc - g.visCols + 1
	}
	g.rowOff = max(0, min(g.rowOff, len(g.rgn.drows)-g.visRows))
	g.colOff = max(0, min(g.colOff, len(g.rgn.dcols)-g.visCols))
	g.curRow, g.curCol = g.rows[g.r], g.cols[g.c]
}

// moveTo selects a cell by index.
func (g *gridModel) moveTo(r, c int) {
	g.r, g.c = r, c
	g.clamp()
	g.render()
}

// selectPair moves the cursor to src→dst when both are shown.
func (g *gridModel) selectPair(src, dst string) bool {
	row, col := src, dst
	if g.transposed {
		row, col = dst, src
	}
	r, c := indexOr(g.rows, row, -1), indexOr(g.cols, col, -1)
	if len(g.rows) == 0 || g.rows[r] != row || g.cols[c] != col {
		return false
	}
	g.touched = true
	g.moveTo(r, c)
	return true
}

// cellAt maps coordinates relative to the grid's header row (below the legend) to a
// cell; region summaries are not cells.
func (g *gridModel) cellAt(x, y int) (r, c int, ok bool) {
	if y < 1 || x < g.rowHdrW || x >= g.gridW {
		return 0, 0, false
	}
	dr := g.rowOff + y - 1
	dc := g.colOff + (x-g.rowHdrW)/g.cellW
	if dr >= len(g.rgn.drows) || dc >= len(g.rgn.dcols) || dr >= g.rowOff+g.visRows || dc >= g.colOff+g.visCols {
		return 0, 0, false
	}
	r, c = g.rgn.drows[dr], g.rgn.dcols[dc]
	if r < 0 || c < 0 {
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

// Cell marks, after the value: a change of colour waits for evidence (loss) or for
// --confirm, or the pair loses packets beyond its loss threshold (in a latency or jitter
// view; health counts loss itself). A stale cell is no mark but a state: it shows its
// age behind markStale instead of a value.
const (
	markLoss    = "~"
	markStale   = "?"
	markPending = "^"
)

// cellText is what a cell shows: its value (under health marked with its metric), or the
// name of its state, and its mark.
func (g *gridModel) cellText(row, col string, lk look) (string, string) {
	s, d := g.pair(row, col)
	switch {
	case lk.vd.Class == mesh.Unreachable:
		return "DOWN", ""
	case lk.cell == nil || lk.cell.Samples == 0:
		if s == d {
			return "", ""
		}
		return "·", ""
	case lk.stale:
		g.marks.stale = true
		return markStale + mesh.Age(lk.age), ""
	}
	text := mesh.FormatVerdict(lk.vd, g.view)
	if g.st.noColor {
		text += classMarker[lk.vd.Class]
	}
	return text, g.markOf(lk)
}

// markOf picks the one mark a cell carries: a pending colour first, then loss.
func (g *gridModel) markOf(lk look) string {
	if lk.vd.Pending {
		g.marks.pending = true
		return markPending
	}
	if m, ok := g.view.Metric(); ok && m != mesh.Loss && !lk.vd.Failed {
		if lk.cell.Verdict(mesh.MetricView(mesh.Loss), g.stat, g.ths()).Class.Severity() > mesh.Green.Severity() {
			g.marks.loss = true
			return markLoss
		}
	}
	return ""
}

func (g *gridModel) render() {
	g.renderGrid()
	g.panel.setSelection(g)
	g.join()
}

// renderGrid draws the visible part of the grid into g.rendered.
func (g *gridModel) renderGrid() {
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
	g.marks = cellMarks{}
	var b strings.Builder
	b.Grow((g.visRows + 1) * (g.width + 16*g.visCols))
	corner := "src\\dst"
	if g.transposed {
		corner = "dst\\src"
	}
	corner = pad(corner, g.rowHdrW-1)
	if g.colOff > 0 {
		corner += "‹"
	} else {
		corner += " "
	}
	g.seq.dim.wrap(&b, corner)
	lastCol := min(len(g.rgn.dcols), g.colOff+g.visCols)
	for dc := g.colOff; dc < lastCol; dc++ {
		ci := g.rgn.dcols[dc]
		switch {
		case ci < 0:
			g.seq.region.wrap(&b, padLeft("["+g.rgn.names[-ci-1]+"]", g.cellW-1))
		case ci == g.c:
			g.seq.headerHi.wrap(&b, padLeft(g.cols[ci], g.cellW-1))
		default:
			g.seq.header.wrap(&b, padLeft(g.cols[ci], g.cellW-1))
		}
		b.WriteByte(' ')
	}
	if lastCol < len(g.rgn.dcols) {
		g.seq.dim.wrap(&b, "›")
	}
	lastRow := min(len(g.rgn.drows), g.rowOff+g.visRows)
	for dr := g.rowOff; dr < lastRow; dr++ {
		b.WriteByte('\n')
		scroll := " "
		switch {
		case dr == g.rowOff && g.rowOff > 0:
			scroll = "↑"
		case dr == lastRow-1 && lastRow < len(g.rgn.drows):
			scroll = "↓"
		}
		ri := g.rgn.drows[dr]
		if ri < 0 {
			g.renderSummaryRow(&b, -ri-1, scroll, lastCol)
			continue
		}
		row := g.rows[ri]
		h := g.seq.header
		if ri == g.r {
			h = g.seq.headerHi
		}
		h.wrap(&b, pad(row, g.rowHdrW-1))
		g.seq.dim.wrap(&b, scroll)
		for dc := g.colOff; dc < lastCol; dc++ {
			ci := g.rgn.dcols[dc]
			if ci < 0 {
				cls, text := g.summaryOf(sumKey{rk: -1, ri: ri, ck: -ci - 1})
				g.seq.class[cls].wrap(&b, padLeft(text, g.cellW-2)+" ")
				b.WriteByte(' ')
				continue
			}
			col := g.cols[ci]
			lk := g.lookAt(row, col)
			seq := g.seq.class[lk.vd.Class]
			if ri == g.r && ci == g.c {
				seq = g.seq.selected[lk.vd.Class]
			}
			text, mark := g.cellText(row, col, lk)
			if mark == "" {
				mark = " "
			}
			seq.wrap(&b, padLeft(text, g.cellW-2)+mark)
			b.WriteByte(' ')
		}
	}
	g.rendered = b.String()
}

// renderSummaryRow draws region k's summary row: per column the worst of its members.
func (g *gridModel) renderSummaryRow(b *strings.Builder, k int, scroll string, lastCol int) {
	g.seq.region.wrap(b, pad("── "+g.rgn.names[k], g.rowHdrW-1))
	g.seq.dim.wrap(b, scroll)
	for dc := g.colOff; dc < lastCol; dc++ {
		ci := g.rgn.dcols[dc]
		key := sumKey{rk: k, ck: -1, ci: ci}
		if ci < 0 {
			key = sumKey{rk: k, ck: -ci - 1}
		}
		cls, text := g.summaryOf(key)
		g.seq.class[cls].wrap(b, padLeft(text, g.cellW-2)+" ")
		b.WriteByte(' ')
	}
}

// sumKey names a summary block: a region (k >= 0) or one line (i) each way.
type sumKey struct{ rk, ri, ck, ci int }

type sumCell struct {
	cls  mesh.Class
	text string
}

// summaryOf is summary with a cache: a cursor move redraws summaries it already knows.
func (g *gridModel) summaryOf(key sumKey) (mesh.Class, string) {
	if c, ok := g.sums[key]; ok {
		return c.cls, c.text
	}
	rows, cols := []int{key.ri}, []int{key.ci}
	if key.rk >= 0 {
		rows = g.rgn.rowsOf[key.rk]
	}
	if key.ck >= 0 {
		cols = g.rgn.colsOf[key.ck]
	}
	cls, text := g.summary(rows, cols)
	if g.sums == nil {
		g.sums = map[sumKey]sumCell{}
	}
	g.sums[key] = sumCell{cls, text}
	return cls, text
}

// summary is the worst measured cell of a block of rows x columns: its class and value.
// The diagonal does not count; DOWN only when no member was measured.
func (g *gridModel) summary(rows, cols []int) (mesh.Class, string) {
	var worst look
	wv, found, down := math.Inf(-1), false, false
	for _, ri := range rows {
		for _, ci := range cols {
			row, col := g.rows[ri], g.cols[ci]
			if row == col {
				continue
			}
			lk := g.lookAt(row, col)
			cls := lk.vd.Class
			if cls == mesh.Unreachable {
				down = true
				continue
			}
			if !cls.Colour() {
				continue // no data, or stale: nothing to say of now
			}
			v := lk.sortValue()
			if !found || cls.Severity() > worst.vd.Class.Severity() || (cls.Severity() == worst.vd.Class.Severity() && v > wv) {
				worst, wv, found = lk, v, true
			}
		}
	}
	switch {
	case !found && down:
		return mesh.Unreachable, "DOWN"
	case !found:
		return mesh.NoData, "·"
	}
	text := mesh.FormatVerdict(worst.vd, g.view)
	if g.st.noColor {
		text += classMarker[worst.vd.Class]
	}
	return worst.vd.Class, text
}

// join puts grid and panel side by side or one above the other.
func (g *gridModel) join() {
	if !g.panel.visible || len(g.rows) == 0 {
		g.body = g.rendered
		return
	}
	if g.panel.chart {
		g.joinChart()
		return
	}
	grid := strings.Split(g.rendered, "\n")
	panel := strings.Split(g.panel.View(), "\n")
	var b strings.Builder
	if g.panel.side {
		sep := g.seq.dim.pre + "│" + g.seq.dim.post
		for i := range g.height {
			l, p := "", ""
			if i < len(grid) {
				l = grid[i]
			}
			if i < len(panel) {
				p = panel[i]
			}
			if i > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(pad(l, g.gridW))
			b.WriteString(" " + sep + " ")
			b.WriteString(p)
		}
		g.body = b.String()
		return
	}
	b.WriteString(g.rendered)
	for range g.gridH - len(grid) {
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	g.seq.dim.wrap(&b, strings.Repeat("─", g.width))
	for _, p := range panel {
		b.WriteByte('\n')
		b.WriteString(p)
	}
	g.body = b.String()
}

// legend describes what the grid shows, in one line. What does not fit goes, least
// needed first, so the view's state (sort, filter) stays on a narrow terminal.
func (g *gridModel) legend(width int) string {
	type part struct {
		text string
		keep int // parts of a lower keep go first; 0 stays
	}
	var parts []part
	add := func(keep int, text string) { parts = append(parts, part{text, keep}) }
	if m, ok := g.view.Metric(); ok {
		th := g.ths()[m]
		add(0, g.st.title.Render(fmt.Sprintf("%s (%s, %s)", m.Title(), m.Unit(), g.stat)))
		add(0, g.st.swatch(mesh.Green, fmt.Sprintf("<%g", th[0])))
		add(0, g.st.swatch(mesh.Yellow, fmt.Sprintf("<%g", th[1])))
		add(0, g.st.swatch(mesh.Orange, fmt.Sprintf("<%g", th[2])))
		add(0, g.st.swatch(mesh.Red, fmt.Sprintf("≥%g", th[2])))
	} else {
		// Health: each cell is its worst metric; its text says which (help and
		// docs/health.md have the thresholds).
		add(0, g.st.title.Render(fmt.Sprintf("Health (%s)", g.stat)))
		add(0, g.st.swatch(mesh.Green, "ok"))
		add(0, g.st.swatch(mesh.Yellow, "fair"))
		add(0, g.st.swatch(mesh.Orange, "poor"))
		add(0, g.st.swatch(mesh.Red, "bad"))
		add(1, g.st.dim.Render("12 ms ±2 jitter 5% loss"))
	}
	// Only a source with agents can have a DOWN row (history cannot).
	if g.ui.caps.Sweeps {
		add(3, g.st.swatch(mesh.Unreachable, "DOWN"))
	}
	add(2, g.st.dim.Render("· no data"))
	if g.marks.loss {
		lt := g.ui.cfg.Thresholds[mesh.Loss]
		add(5, g.st.dim.Render(fmt.Sprintf("%s loss≥%g%%", markLoss, lt[0])))
	}
	if g.marks.stale {
		add(6, g.st.swatch(mesh.Stale, fmt.Sprintf("%sage: no test >%s", markStale, shortDur(2*g.ui.cfg.Interval))))
	}
	if g.marks.pending {
		add(4, g.st.dim.Render(markPending+" not yet sure"))
	}
	extra := fmt.Sprintf("│ sort:%s", g.sort)
	if g.transposed {
		extra += " transposed"
	}
	if g.filter != "" {
		extra += fmt.Sprintf(" filter:%q", g.filter)
	}
	if len(g.rows) > 0 {
		extra += fmt.Sprintf(" %d×%d", len(g.rows), len(g.cols))
	}
	add(7, g.st.dim.Render(extra))
	join := func() string {
		var texts []string
		for _, p := range parts {
			texts = append(texts, p.text)
		}
		return strings.Join(texts, " ")
	}
	line := join()
	for keep := 1; ansi.StringWidth(line) > width && keep <= 7; keep++ {
		parts = slices.DeleteFunc(parts, func(p part) bool { return p.keep == keep })
		line = join()
	}
	return ansi.Truncate(line, width, "…")
}

// shortDur prints a duration without zero units: 2m, 90s, 1h30m.
func shortDur(d time.Duration) string {
	s := d.String()
	// Drop zero trailing units ("1m0s" -> "1m", "1h0m0s" -> "1h"), never a unit's own
	// zero digit ("10s" stays "10s").
	if strings.HasSuffix(s, "m0s") || strings.HasSuffix(s, "h0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
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
