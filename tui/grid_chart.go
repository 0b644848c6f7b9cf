package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/meshtop/meshtop/mesh"
)

// pairChart is the selected pair's chart under the grid, when the grid leaves room: per
// direction a header, the summary (min, mean, p95, max; loss, jitter, tests), the
// drill-down's chart (renderChart: RTT band, loss and jitter rows, the final hop's ttl,
// route changes on a true time axis) and the pair's timeline. The panel reads the data
// in a Cmd (debounced, grid_panel.go); setData derives route changes and timelines and
// render draws both directions once per data or size, so a cursor move only composes.
type pairChart struct {
	ui *uiContext
	st *styles

	pair    mesh.Pair // the pair the data belongs to (zero: none yet)
	loading bool      // a read for the selected pair is under way
	err     error
	dirs    [2]chartDir // src→dst, dst→src

	// The layout (set by the panel): width of the band, plot rows, timeline lines,
	// directions side by side.
	width, plotH, tlH int
	sideBySide        bool

	lines []string // the rendered band, exactly height() lines
}

// chartDir is one direction of the pair and what is derived from it.
type chartDir struct {
	src, dst string
	samples  []mesh.Sample
	traces   []mesh.TraceResult
	changes  []mesh.RouteChange
	events   []mesh.Event
	bucketed time.Duration // the timeline judged buckets this wide (timelineSamples)
}

// Lines of a direction's block around its plot and timeline: the header, two summary
// lines, and the chart's loss, jitter and ttl rows, two axis lines and two of legend.
const (
	chartBlockFixed = 1 + 2 + 3 + 2 + 2
	chartMinPlot    = 3  // rows of the smallest RTT plot worth drawing
	chartMaxPlot    = 10 // taller says nothing more
	chartMinTL      = 2  // timeline: its title and one event
	chartMaxTL      = 8
	chartColMin     = 40 // a direction narrower than this is stacked under the other
)

// blockH is the height of one direction's block.
func (c *pairChart) blockH() int { return chartBlockFixed + c.plotH + c.tlH }

// height is the band's height: one block, or two stacked with a blank line between.
func (c *pairChart) height() int {
	if c.sideBySide {
		return c.blockH()
	}
	return 2*c.blockH() + 1
}

// colW is the width of one direction's block.
func (c *pairChart) colW() int {
	if c.sideBySide {
		return (c.width - 3) / 2
	}
	return c.width
}

// points is how many history buckets fill a plot at this width.
func (c *pairChart) points() int { return max(20, c.colW()-chartLabelW) }

// fit sizes the band for room lines of a w-wide area: side by side when two blocks of
// chartColMin fit, else stacked; the plot and the timeline share what the fixed lines
// leave. It reports false when not even the smallest band fits.
func (c *pairChart) fit(w, room int) bool {
	c.width = w
	c.sideBySide = w >= 2*chartColMin+3
	free := room
	if !c.sideBySide {
		free = (room - 1) / 2
	}
	free -= chartBlockFixed
	if free < chartMinPlot+chartMinTL {
		return false
	}
	c.tlH = max(chartMinTL, min(chartMaxTL, free/3))
	c.plotH = max(chartMinPlot, min(chartMaxPlot, free-c.tlH))
	c.tlH = max(c.tlH, min(chartMaxTL, free-c.plotH)) // what the plot does not take
	return true
}

// show selects the pair drawn: another pair's data is dropped, and the band says
// "reading…" until setData brings the pair's.
func (c *pairChart) show(pr mesh.Pair) {
	if pr == c.pair {
		return
	}
	c.pair, c.err, c.loading = pr, nil, true
	c.dirs = [2]chartDir{{src: pr.Src, dst: pr.Dst}, {src: pr.Dst, dst: pr.Src}}
	c.render()
}

// setData takes a read of the pair shown and derives route changes and timelines.
func (c *pairChart) setData(pr mesh.Pair, r pairRead, err error) {
	if pr != c.pair {
		return // the cursor moved on
	}
	c.loading, c.err = false, err
	c.dirs[0] = c.derive(pr.Src, pr.Dst, r.fwd, r.fwdTr)
	c.dirs[1] = c.derive(pr.Dst, pr.Src, r.rev, r.revTr)
	c.render()
}

func (c *pairChart) derive(src, dst string, samples []mesh.Sample, traces []mesh.TraceResult) chartDir {
	d := chartDir{src: src, dst: dst, samples: samples, traces: traces, changes: mesh.RouteChanges(traces)}
	var ss []mesh.Sample
	ss, d.bucketed = timelineSamples(samples)
	d.events = mesh.Timeline(mesh.TimelineInput{
		Samples: ss, Changes: d.changes, Agents: c.ui.agents.eventsOf(src), Thresholds: c.ui.cfg.Thresholds,
		Confirm: c.ui.cfg.Confirm, NoLossHysteresis: c.ui.cfg.NoLossHysteresis, Metrics: timelineMetrics,
	})
	return d
}

// render draws the band: the two blocks side by side or stacked.
func (c *pairChart) render() {
	if c.width <= 0 || c.plotH <= 0 {
		c.lines = nil
		return
	}
	w := c.colW()
	a, b := c.block(&c.dirs[0], w), c.block(&c.dirs[1], w)
	if !c.sideBySide {
		c.lines = append(append(a, ""), b...)
		return
	}
	sep := c.st.dim.Render(" │ ")
	c.lines = make([]string, len(a))
	for i := range a {
		c.lines[i] = pad(a[i], w) + sep + b[i]
	}
}

// block is one direction: exactly blockH lines of at most w columns.
func (c *pairChart) block(d *chartDir, w int) []string {
	st := c.st
	out := make([]string, 0, c.blockH())
	add := func(s string) { out = append(out, ansi.Truncate(s, w, "…")) }
	head := st.headerHi.Render(fmt.Sprintf("%s → %s", d.src, d.dst))
	for _, a := range c.ui.agents.downOf(d.src) {
		head += "  " + st.bad.Render(fmt.Sprintf("%s down since %s", a.name, a.since.Local().Format("15:04:05")))
		break
	}
	add(head)
	switch {
	case c.pair.Src == "" || (c.loading && len(d.samples) == 0 && c.err == nil):
		add(st.dim.Render("reading…"))
		return fill(out, c.blockH())
	case c.err != nil:
		add(st.bad.Render("could not read the pair: " + c.err.Error()))
		return fill(out, c.blockH())
	}
	sum := pingSummary(d.samples, c.ui.cells.Cell(d.src, d.dst), st, c.ui.cfg.Thresholds[mesh.Loss])
	for _, l := range fill(sum, 2) {
		add(l)
	}
	var chart []string
	if len(d.samples) > 0 {
		chart = renderChart(chartInput{samples: d.samples, traces: d.traces, changes: d.changes,
			width: w, height: c.plotH, lossTh: c.ui.cfg.Thresholds[mesh.Loss]}, st)
	}
	for _, l := range fill(chart, c.plotH+chartBlockFixed-3) {
		add(l)
	}
	for _, l := range c.timeline(d, w) {
		add(l)
	}
	return fill(out, c.blockH())
}

// timeline is the direction's timeline in exactly tlH lines; what does not fit is
// counted, and enter opens the drill-down that lists it all.
func (c *pairChart) timeline(d *chartDir, w int) []string {
	lines := renderTimeline(d.events, w, c.tlH, c.st, c.ui.cfg.Now())
	if note := bucketedNote(c.st, d.bucketed, w); note != "" {
		lines = slices.Insert(lines, 1, note)
	}
	if len(lines) > c.tlH {
		lines = append(lines[:c.tlH-1], c.st.dim.Render(ansi.Truncate("… more: enter opens the drill-down", w, "…")))
	}
	return fill(lines, c.tlH)
}

// fill pads lines with empty ones, or cuts them, to exactly n.
func fill(lines []string, n int) []string {
	if len(lines) >= n {
		return lines[:n]
	}
	return append(lines, make([]string, n-len(lines))...)
}

// rule is a horizontal rule w wide, joining the vertical rules above (up) and below
// (down) at those columns.
func rule(st *styles, w int, up, down []int) string {
	r := []rune(strings.Repeat("─", max(0, w)))
	set := func(at int, c rune) {
		if at < 0 || at >= len(r) {
			return
		}
		switch {
		case r[at] == '┴' && c == '┬', r[at] == '┬' && c == '┴':
			r[at] = '┼'
		default:
			r[at] = c
		}
	}
	for _, x := range up {
		set(x, '┴')
	}
	for _, x := range down {
		set(x, '┬')
	}
	return st.dim.Render(string(r))
}

// splitAt is the column of the rule between the two directions, -1 when stacked.
func (c *pairChart) splitAt() int {
	if !c.sideBySide {
		return -1
	}
	return c.colW() + 1
}

// Chart layout sizes.
const (
	chartSideLines = 7 // the pair's numbers beside the grid: title, latency, jitter, loss, age, error, back
	chartMinEvents = 4 // the events: a title and three
)

// chartLayout decides whether the grid leaves room for the pair's chart: the whole grid
// (its natural height: the grid keeps priority), a rule, the chart band, a rule and at
// least chartMinEvents lines of events. It sets the panel's chart sizes and returns the
// width the grid may take.
func (g *gridModel) chartLayout(naturalW, naturalH int) (int, bool) {
	p := &g.panel
	areaW, topH := g.width, naturalH
	side := g.width-naturalW >= sidePanelMin+3
	if side {
		areaW, topH = g.width-sidePanelMin-3, max(naturalH, chartSideLines)
	}
	room := g.height - topH - 1 - 1 - chartMinEvents
	if !p.pc.fit(g.width, room) {
		return 0, false
	}
	p.chart, p.visible, p.side, p.topH = true, true, false, topH
	p.sideW = 0
	if side {
		p.sideW = -1 // once the grid's width is known (placeChart)
	}
	p.evH = g.height - topH - 1 - p.pc.height() - 1
	return areaW, true
}

// placeChart finishes the chart layout once the grid's width is known.
func (g *gridModel) placeChart() {
	p := &g.panel
	if p.sideW != 0 {
		p.sideW = max(1, g.width-g.gridW-3)
	}
	p.SetSize(g.width, max(1, g.height-p.topH-1))
	p.pc.render()
}

// joinChart composes the chart layout: the grid with the pair's numbers beside it, a
// rule, then the panel (chart band, rule, events).
func (g *gridModel) joinChart() {
	grid := strings.Split(g.rendered, "\n")
	var b strings.Builder
	sep := g.seq.dim.pre + "│" + g.seq.dim.post
	for i := range g.panel.topH {
		if i > 0 {
			b.WriteByte('\n')
		}
		l := ""
		if i < len(grid) {
			l = grid[i]
		}
		if g.panel.sideW <= 0 {
			b.WriteString(l)
			continue
		}
		b.WriteString(pad(l, g.gridW))
		b.WriteString(" " + sep + " ")
		if i < len(g.panel.top) {
			b.WriteString(g.panel.top[i])
		}
	}
	up := -1
	if g.panel.sideW > 0 {
		up = g.gridW + 1
	}
	b.WriteByte('\n')
	b.WriteString(rule(g.st, g.width, []int{up}, []int{g.panel.pc.splitAt()}))
	b.WriteByte('\n')
	b.WriteString(g.panel.View())
	g.body = b.String()
}
