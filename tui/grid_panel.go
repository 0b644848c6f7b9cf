package tui

import (
	"fmt"
	"math"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/meshtop/meshtop/mesh"
)

// panelModel is the grid's panel: the selected pair (latency, jitter and loss together,
// how fresh, the reverse direction) and the newest mesh-wide events, each of which jumps
// to its pair (tab selects the list, enter jumps; or a click). The grid sizes and feeds
// it, in one of three layouts:
//
//   - chart: the grid leaves room under it: the pair's numbers beside the grid (when
//     there is room), the pair's chart and timeline, both directions, under it
//     (pairChart, grid_chart.go), and the events in what is left;
//   - side: beside the grid, the pair with a sparkline of its RTT, then the events;
//   - bottom: the same under the grid.
//
// The grid keeps priority: the chart only takes lines the whole grid leaves.
type panelModel struct {
	ui *uiContext
	st *styles

	enabled bool // p hides or shows it
	visible bool // the layout left room for it
	side    bool // beside the grid (else under it)
	chart   bool // the pair's chart under the grid
	width   int
	height  int
	// Chart layout: the lines of the band beside the grid (topH), the width of the
	// column there (sideW, 0 for none), the events' lines at the bottom (evH).
	topH, sideW, evH int

	src, dst string        // the pair shown
	pairText []string      // its lines, from the matrix
	hist     []mesh.Sample // its newest samples (sparkline), read in a Cmd
	histFor  readKey       // what hist (or the chart's data) was read for
	gen      int           // numbers history reads: only the newest answer counts
	pc       pairChart     // the chart layout's chart

	top []string // chart layout: the lines beside the grid

	events  []mesh.Event // newest first
	focus   bool         // the event list has the arrow keys
	sel     int          // selected event
	evTop   int          // first event shown
	evLine0 int          // body line of the first event shown
	evX0    int          // body column where the panel starts
	evShown int

	rendered string
}

// panelDelay is how long the cursor must rest on a pair before its history is read, so
// holding an arrow key does not queue a read per cell.
const panelDelay = 150 * time.Millisecond

// panelTickMsg asks for the selected pair's history if the cursor still rests there.
type panelTickMsg struct{ gen int }

// pairHistoryMsg carries what was read of the selected pair: its newest samples for the
// sparkline, or both directions with traces for the chart.
type pairHistoryMsg struct {
	gen  int
	key  readKey
	data pairRead
	err  error
}

// readKey is what a panel read is for: a pair, for the chart or the sparkline, and how
// many points.
type readKey struct {
	pair   mesh.Pair
	chart  bool
	points int
}

func newPanel(ui *uiContext) panelModel {
	return panelModel{ui: ui, st: ui.st, enabled: true, pc: pairChart{ui: ui, st: ui.st}}
}

// SetSize sizes the panel.
func (p *panelModel) SetSize(w, h int) { p.width, p.height = max(1, w), max(1, h) }

// View is the panel's cached rendering.
func (p *panelModel) View() string { return p.rendered }

// sparkW is how many samples the sparkline shows.
func (p *panelModel) sparkW() int { return max(8, min(120, p.pairWidth()-9)) }

func (p *panelModel) pairWidth() int {
	if !p.side && p.width >= 80 {
		return p.width / 2
	}
	return p.width
}

// wantKey is what the panel should have read for the selected pair in this layout.
func (p *panelModel) wantKey() readKey {
	k := readKey{pair: mesh.Pair{Src: p.src, Dst: p.dst}, chart: p.chart, points: p.sparkW()}
	if p.chart {
		k.points = p.pc.points()
	}
	return k
}

// follow returns the read of the selected pair when the pair or the layout changed (or
// always, with force: new data arrived).
func (p *panelModel) follow(force bool) tea.Cmd {
	if !p.visible || p.src == "" {
		return nil
	}
	k := p.wantKey()
	if k == p.histFor && !force {
		return nil
	}
	moved := k.pair != p.histFor.pair
	if moved {
		p.hist = nil
	}
	p.histFor = k
	p.gen++
	gen := p.gen
	// Only a moving cursor waits: new data for the same pair comes throttled already.
	if p.ui.panelDelay <= 0 || !moved {
		return p.read(gen)
	}
	return tea.Tick(p.ui.panelDelay, func(time.Time) tea.Msg { return panelTickMsg{gen: gen} })
}

func (p *panelModel) read(gen int) tea.Cmd {
	ctx, src, k := p.ui.ctx, p.ui.src, p.histFor
	return func() tea.Msg {
		ctx, cancel := contextWithReadTimeout(ctx)
		defer cancel()
		msg := pairHistoryMsg{gen: gen, key: k}
		if k.chart {
			msg.data, msg.err = readPair(ctx, src, k.pair.Src, k.pair.Dst, k.points, false)
		} else {
			msg.data.fwd, msg.err = src.PairHistory(ctx, k.pair.Src, k.pair.Dst, k.points)
		}
		return msg
	}
}

// update takes the panel's own messages.
func (p *panelModel) update(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case panelTickMsg:
		if msg.gen == p.gen {
			return p.read(msg.gen), false
		}
	case pairHistoryMsg:
		if msg.gen != p.gen {
			return nil, false
		}
		if msg.key.chart {
			p.pc.setData(msg.key.pair, msg.data, msg.err)
			return nil, true
		}
		if msg.err == nil {
			p.hist = msg.data.fwd
			return nil, true
		}
	}
	return nil, false
}

// setSelection recomputes the pair's lines and renders.
func (p *panelModel) setSelection(g *gridModel) {
	if !p.visible {
		p.rendered = ""
		return
	}
	p.events = g.events.list
	p.sel = max(0, min(p.sel, len(p.events)-1))
	p.pairText = nil
	if s, d, ok := g.Selected(); ok && g.m != nil {
		p.src, p.dst = s, d
		p.pairText = p.pairLines(g, s, d)
		if p.chart {
			p.pc.show(mesh.Pair{Src: s, Dst: d})
		}
	}
	p.render()
}

// pairLines: title, health, latency, jitter, loss, age, sparkline, reverse direction.
// A stale pair's lines keep their numbers but lose their colours: they say nothing of
// now.
func (p *panelModel) pairLines(g *gridModel, s, d string) []string {
	st := p.st
	th := g.ths()
	title := st.title.Render(fmt.Sprintf("%s → %s", s, d))
	if rs, rd := g.regionOf(s), g.regionOf(d); rs != "" || rd != "" {
		title += st.dim.Render(fmt.Sprintf("  %s→%s", orDash(rs, "-"), orDash(rd, "-")))
	}
	lines := []string{title}
	if why, down := g.m.SourceDown(s); down {
		return append(lines, st.bad.Render("agents of "+s+" down: "+why))
	}
	cell := g.m.Cell(s, d)
	if cell == nil || cell.Samples == 0 {
		if s == d {
			return append(lines, st.dim.Render("the same PoP: no pair"))
		}
		return append(lines, st.dim.Render("no data for this pair"))
	}
	stat := g.stat
	age, stale := g.staleness(cell)
	sw := func(v mesh.View, stat mesh.Stat) string {
		vd := cell.Verdict(v, stat, th)
		t := mesh.FormatVerdict(vd, v)
		switch {
		case t == "-":
			return st.dim.Render("-")
		case stale:
			return st.swatch(mesh.Stale, t)
		}
		return st.swatch(vd.Class, t)
	}
	val := func(m mesh.Metric, stat mesh.Stat) string {
		return mesh.FormatVerdict(cell.Verdict(mesh.MetricView(m), stat, th), mesh.MetricView(m))
	}
	health := "health  " + sw(mesh.Health, stat)
	switch vd := cell.Verdict(mesh.Health, stat, th); {
	case stale:
		health = "health  " + st.swatch(mesh.Stale, "unknown now") + st.dim.Render(" no test for "+fmtDur(age))
	case vd.Failed:
		health += st.dim.Render(" nothing came back")
	case vd.Class.Colour():
		health += st.dim.Render(" " + healthWhy(vd))
	}
	// Loss under last is over the probes since its rate last changed (mesh/lossjudge.go).
	loss := fmt.Sprintf("loss    %s %%  ", sw(mesh.MetricView(mesh.Loss), stat))
	if stat == mesh.Last && cell.Judged && cell.Now.LossProbes > 0 {
		loss += st.dim.Render(fmt.Sprintf("%d probes, %s", cell.Now.LossProbes, plural(cell.Samples, "sample")))
	} else {
		loss += st.dim.Render(fmt.Sprintf("%s (%s)", plural(cell.Samples, "sample"), stat))
	}
	lines = append(lines, health,
		fmt.Sprintf("latency %s ms  mean %s p95 %s max %s", sw(mesh.MetricView(mesh.Latency), stat),
			val(mesh.Latency, mesh.Mean), val(mesh.Latency, mesh.P95), val(mesh.Latency, mesh.Max)),
		fmt.Sprintf("jitter  %s ms  %s %%", sw(mesh.MetricView(mesh.JitterMs), stat), sw(mesh.MetricView(mesh.JitterPct), stat)),
		loss,
		p.ageLine(cell.Last.Time),
	)
	if !p.chart {
		lines = append(lines, p.sparkline(cell)) // the chart under the grid says more
	}
	if cell.Err != "" {
		lines = append(lines, st.bad.Render("error: "+cell.Err))
	}
	if rev := g.m.Cell(d, s); rev != nil && rev.Samples > 0 {
		lines = append(lines, st.dim.Render(fmt.Sprintf("back %s → %s %s ms, loss %s %%", d, s,
			mesh.FormatVerdict(rev.Verdict(mesh.MetricView(mesh.Latency), stat, th), mesh.MetricView(mesh.Latency)),
			mesh.FormatVerdict(rev.Verdict(mesh.MetricView(mesh.Loss), stat, th), mesh.MetricView(mesh.Loss)))))
	}
	return lines
}

// healthWhy names what decided a health verdict: "loss", "latency", "jitter", and
// whether the colour still waits for evidence.
func healthWhy(vd mesh.Verdict) string {
	why := map[mesh.Metric]string{mesh.Loss: "loss", mesh.Latency: "latency", mesh.JitterMs: "jitter"}[vd.Metric]
	if vd.Class == mesh.Green {
		why = "all well"
	}
	if vd.Pending {
		why += ", " + markPending + " not yet sure"
	}
	return why
}

// ageLine tells how fresh the pair is: time since its newest test. A large mesh is swept
// continuously, so pairs differ in age; past two intervals the line says stale, as the
// cell's mark does.
func (p *panelModel) ageLine(newest time.Time) string {
	if newest.IsZero() {
		return p.st.dim.Render("age     -")
	}
	d := max(0, p.ui.cfg.Now().Sub(newest))
	text := "age     " + fmtDur(d) + p.st.dim.Render(" (newest "+newest.Local().Format("15:04:05")+")")
	if iv := p.ui.cfg.Interval; iv > 0 && d > 2*iv {
		return text + " " + p.st.swatch(mesh.Stale, "stale: over "+shortDur(2*iv))
	}
	return text
}

// sparkline draws the pair's newest RTTs, min to max; x marks a failed test.
func (p *panelModel) sparkline(cell *mesh.Cell) string {
	const blocks = "▁▂▃▄▅▆▇█"
	h := p.hist
	if (mesh.Pair{Src: p.src, Dst: p.dst}) != p.histFor.pair || len(h) == 0 {
		return p.st.dim.Render("rtt     reading…")
	}
	if n := p.sparkW(); len(h) > n {
		h = h[len(h)-n:]
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range h {
		if !s.Failed {
			lo, hi = math.Min(lo, s.AvgRTT), math.Max(hi, s.AvgRTT)
		}
	}
	var b strings.Builder
	runes := []rune(blocks)
	for _, s := range h {
		if s.Failed {
			b.WriteString(p.st.bad.Render("x"))
			continue
		}
		i := 0
		// Older samples are kept as float32: a flat line must not read as a step.
		if hi-lo > 1e-4*max(1, math.Abs(hi)) {
			i = int((s.AvgRTT - lo) / (hi - lo) * float64(len(runes)-1))
		}
		b.WriteRune(runes[max(0, min(len(runes)-1, i))])
	}
	rng := ""
	if !math.IsInf(lo, 1) {
		rng = p.st.dim.Render(fmt.Sprintf(" %s–%s", mesh.FormatValue(mesh.Latency, lo, false), mesh.FormatValue(mesh.Latency, hi, false)))
	}
	return "rtt     " + p.st.band.Render(b.String()) + rng
}

// eventLines is the event list in at most n lines of width w.
func (p *panelModel) eventLines(n, w int) []string {
	head := "events"
	if len(p.events) > 0 {
		head += p.st.dim.Render(" (tab selects, enter jumps)")
	}
	lines := []string{p.st.title.Render(head)}
	if len(p.events) == 0 {
		p.evShown = 0
		return append(lines, p.st.dim.Render("none yet: colour changes, FAILs, routes, agents"))
	}
	room := max(0, n-1)
	if p.sel < p.evTop {
		p.evTop = p.sel
	}
	if p.sel >= p.evTop+room {
		p.evTop = p.sel - room + 1
	}
	p.evTop = max(0, min(p.evTop, len(p.events)-room))
	last := min(len(p.events), p.evTop+room)
	for i := p.evTop; i < last; i++ {
		e := p.events[i]
		t := ansi.Truncate(EventLine(e), w, "…")
		switch {
		case p.focus && i == p.sel:
			t = p.st.cursor.Render(pad(t, w))
		case e.Bad():
			t = p.st.bad.Render(t)
		case e.Good():
			t = p.st.good.Render(t)
		case e.Kind == mesh.EventRoute:
			t = p.st.hint.Render(t)
		}
		lines = append(lines, t)
	}
	p.evShown = last - p.evTop
	switch {
	case last < len(p.events) && len(lines) > 2:
		lines[len(lines)-1] = p.st.dim.Render(fmt.Sprintf("↓ %d more", len(p.events)-last+1))
		p.evShown--
	case last < len(p.events):
		// One line for events: it shows one, the title counts the rest.
		lines[0] += p.st.dim.Render(fmt.Sprintf(" ↓ %d more", len(p.events)-last))
	}
	return lines
}

// render lays the pair and the events out in the panel's box.
func (p *panelModel) render() {
	w, h := p.width, p.height
	var out []string
	if p.chart {
		p.renderChartLayout()
		return
	}
	if !p.side && w >= 80 {
		// Under the grid on a wide terminal: pair on the left, events on the right.
		lw := w / 2
		ev := p.eventLines(h, w-lw-3)
		for i := range h {
			l, r := "", ""
			if i < len(p.pairText) {
				l = p.pairText[i]
			}
			if i < len(ev) {
				r = ev[i]
			}
			out = append(out, pad(ansi.Truncate(l, lw, "…"), lw)+p.st.dim.Render(" │ ")+r)
		}
		p.evLine0, p.evX0 = 1, lw+3
	} else {
		for _, l := range p.pairText {
			out = append(out, ansi.Truncate(l, w, "…"))
		}
		if len(out) < h {
			out = append(out, "")
		}
		p.evLine0, p.evX0 = len(out)+1, 0
		out = append(out, p.eventLines(h-len(out), w)...)
	}
	if len(out) > h {
		out = out[:h]
	}
	p.rendered = strings.Join(out, "\n")
}

// Chart layout: the band beside the grid (p.side: the pair's numbers), then under the
// grid the chart band, a rule, and the events in the lines left. rendered holds the
// part under the grid; top the lines beside it.
func (p *panelModel) renderChartLayout() {
	p.top = p.top[:0]
	if p.sideW > 0 {
		for _, l := range p.pairText {
			p.top = append(p.top, ansi.Truncate(l, p.sideW, "…"))
		}
		p.top = fill(p.top, p.topH)
	}
	out := append([]string(nil), p.pc.lines...)
	if p.evH > 0 {
		out = append(out, rule(p.st, p.width, []int{p.pc.splitAt()}, nil))
		p.evLine0, p.evX0 = len(out)+1, 0
		out = append(out, p.eventLines(p.evH, p.width)...)
	} else {
		p.evShown = 0
	}
	p.rendered = strings.Join(out, "\n")
}

// eventAt maps a line and column of the panel to an event.
func (p *panelModel) eventAt(x, y int) (int, bool) {
	i := y - p.evLine0
	if x < p.evX0 || i < 0 || i >= p.evShown {
		return 0, false
	}
	return p.evTop + i, true
}
