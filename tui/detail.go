package tui

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/meshtop/meshtop/internal/textsafe"
	"github.com/meshtop/meshtop/mesh"
)

// detailModel is the drill-down into one pair: both directions side by side (stacked
// on narrow terminals), each with its chart on a time axis, summary, per-hop statistics
// and timeline. Everything is computed when data or size change (setData, setSize) and
// kept as one rendering in a viewport; a line under it says what is below the fold.
type detailModel struct {
	ui  *uiContext
	st  *styles
	cfg *Config // &ui.cfg
	// gen numbers the reads: only the answer to the newest one is shown.
	gen int

	src, dst string
	loading  bool
	err      error
	fwd, rev dirData

	agentIdx int  // which source agent's hop table is shown (a)
	probes   bool // per-probe rows under the chart (p)
	// hopsSince is when the hop statistics were reset (z, like mtr's r): they count
	// traces and pings from then on; zero for the whole window.
	hopsSince time.Time

	vp            viewport.Model
	width, height int
	sections      []section
	hint          string
}

// dirData is one direction of the pair with what is derived from it.
type dirData struct {
	src, dst string
	samples  []mesh.Sample
	traces   []mesh.TraceResult
	hops     []mesh.HopTable
	changes  []mesh.RouteChange
	events   []mesh.Event
	// bucketed: the timeline judged history buckets this wide, not each test.
	bucketed time.Duration
}

// section is a part of the rendering the hint line can name and tab can jump to.
type section struct {
	name string
	line int
}

func newDetail(ui *uiContext) detailModel {
	return detailModel{ui: ui, st: ui.st, cfg: &ui.cfg, vp: viewport.New()}
}

// Open starts a drill-down into src→dst and returns the read of its data.
func (d *detailModel) Open(src, dst string) tea.Cmd {
	d.open(src, dst)
	return d.Reload()
}

// Reload re-reads the pair shown (after a sweep or a refresh tick).
func (d *detailModel) Reload() tea.Cmd {
	d.gen++
	return fetchDetail(d.ui.ctx, d.ui.src, d.src, d.dst, d.chartPoints(), d.gen)
}

// Pair is the pair shown.
func (d *detailModel) Pair() (src, dst string) { return d.src, d.dst }

// open starts a drill-down into src→dst; data comes with setData.
func (d *detailModel) open(src, dst string) {
	d.src, d.dst = src, dst
	d.loading, d.err = true, nil
	d.hopsSince = time.Time{}
	d.fwd, d.rev = dirData{src: src, dst: dst}, dirData{src: dst, dst: src}
	d.vp.SetYOffset(0)
	d.render()
}

// setData takes a fetched pair and derives hop statistics, route changes and timelines
// (here, in Update, never in View).
func (d *detailModel) setData(msg detailMsg) {
	d.loading, d.err = false, msg.err
	d.fwd = d.derive(msg.src, msg.dst, msg.fwd, msg.fwdTr)
	d.rev = d.derive(msg.dst, msg.src, msg.rev, msg.revTr)
	d.render()
}

func (d *detailModel) derive(src, dst string, samples []mesh.Sample, traces []mesh.TraceResult) dirData {
	dd := dirData{src: src, dst: dst, samples: samples, traces: traces}
	d.hopStats(&dd)
	dd.changes = mesh.RouteChanges(traces)
	d.timeline(&dd)
	return dd
}

// hopStats derives a direction's hop tables: from the reset on (z), with the pings
// of the same time for the destination's row.
func (d *detailModel) hopStats(dd *dirData) {
	dd.hops = mesh.HopStatsOf(mesh.HopInput{Traces: dd.traces, Samples: dd.samples, Since: d.hopsSince})
}

// resetHops starts the hop statistics from now (z), as mtr's r does.
func (d *detailModel) resetHops() {
	d.hopsSince = d.cfg.Now()
	d.hopStats(&d.fwd)
	d.hopStats(&d.rev)
	d.render()
}

// timelineMetrics are the metrics whose colour changes the drill-down's timeline tells:
// latency, jitter in ms (the unit of the chart's jitter row) and loss, the three the
// dashboards stack.
var timelineMetrics = []mesh.Metric{mesh.Latency, mesh.JitterMs, mesh.Loss}

func (d *detailModel) timeline(dd *dirData) {
	var ss []mesh.Sample
	ss, dd.bucketed = timelineSamples(dd.samples)
	dd.events = mesh.Timeline(mesh.TimelineInput{
		Samples: ss, Changes: dd.changes, Agents: d.ui.agents.eventsOf(dd.src), Thresholds: d.cfg.Thresholds, Confirm: d.cfg.Confirm,
		NoLossHysteresis: d.cfg.NoLossHysteresis, Metrics: timelineMetrics,
	})
}

// timelineSamples are what a timeline judges: every test, as live judges them. A
// history bucket's tests are its Results (each test's probes, read for the drill-down),
// folded per sweep as the live store folds a PoP's agents. When a bucket lacks some of
// its tests (their probes not kept, or beyond the read's bound) the buckets themselves
// are judged, and bucketed is their width: a colour change inside one is not seen.
func timelineSamples(samples []mesh.Sample) (out []mesh.Sample, bucketed time.Duration) {
	if !slices.ContainsFunc(samples, func(s mesh.Sample) bool { return s.Tests > 1 }) {
		return samples, 0 // live samples, or buckets of one test each
	}
	for _, s := range samples {
		if len(s.Results) < s.Tests {
			width := time.Duration(0)
			for j := 1; j < len(samples); j++ {
				if g := samples[j].Time.Sub(samples[j-1].Time); g > 0 && (width == 0 || g < width) {
					width = g
				}
			}
			return samples, max(width, time.Second)
		}
		rs := slices.Clone(s.Results)
		slices.SortStableFunc(rs, func(a, b mesh.PingResult) int { return a.Time.Compare(b.Time) })
		for j := 0; j < len(rs); {
			k := j
			for k < len(rs) && rs[k].Time.Equal(rs[j].Time) {
				k++
			}
			if smp, ok := mesh.FoldResults(rs[j].Time, rs[j:k]); ok {
				out = append(out, smp)
			}
			j = k
		}
	}
	return out, 0
}

// bucketedNote says that a timeline judged buckets, not tests ("" when it judged tests).
func bucketedNote(st *styles, bucketed time.Duration, w int) string {
	if bucketed <= 0 {
		return ""
	}
	return ansi.Truncate(st.dim.Render(fmt.Sprintf("  from %s buckets, not each test (their probes are not all kept): a change inside one is not seen",
		shortDuration(bucketed.Round(time.Second)))), w, "…")
}

// setCells takes the grid's matrix for the summaries (nil: none fits, a delta grid).
func (d *detailModel) setCells(m *mesh.Matrix) {
	if m == d.ui.cells {
		return
	}
	d.ui.cells = m
	if d.src != "" && !d.loading {
		d.render()
	}
}

// observe takes a new matrix's agent states; the drill-down re-renders when one of its
// agents changed.
func (d *detailModel) observe(m *mesh.Matrix, open bool) {
	if m == nil {
		return
	}
	t := m.Time
	if t.IsZero() {
		t = d.cfg.Now()
	}
	d.ui.cells = m
	if d.ui.agents.observe(t, m.Agents) && open && !d.loading {
		d.timeline(&d.fwd)
		d.timeline(&d.rev)
		d.render()
	}
}

// SetSize implements component.
func (d *detailModel) SetSize(w, h int) {
	d.width, d.height = max(w, 10), max(h, 2)
	d.vp.SetWidth(d.width)
	d.vp.SetHeight(d.height - 1) // the last line is the fold hint
	d.render()
}

// chartPoints is how many history buckets fill the chart at the current width.
func (d *detailModel) chartPoints() int { return max(20, d.colWidth()-chartLabelW) }

func (d *detailModel) sideBySide() bool { return d.width >= 96 }

func (d *detailModel) colWidth() int {
	if d.sideBySide() {
		return (d.width - 3) / 2
	}
	return d.width
}

// Update implements component: the pair's data, the drill-down's keys, scrolling and
// the wheel. Moving to another pair is asked of the root (detailMoveMsg), whose grid
// cursor follows.
func (d *detailModel) Update(msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(detailMsg); ok {
		if msg.requestedAtGen == d.gen {
			d.setData(msg)
		}
		return nil
	}
	if k, ok := msg.(tea.KeyPressMsg); ok {
		dk := detailKeys
		switch {
		case key.Matches(k, dk.PrevCol):
			return d.move(0, -1, false)
		case key.Matches(k, dk.NextCol):
			return d.move(0, 1, false)
		case key.Matches(k, dk.PrevRow):
			return d.move(-1, 0, false)
		case key.Matches(k, dk.NextRow):
			return d.move(1, 0, false)
		case key.Matches(k, dk.Reverse):
			return d.move(0, 0, true)
		case key.Matches(k, dk.Agent):
			d.agentIdx++
			d.render()
			return nil
		case key.Matches(k, dk.Probes):
			d.probes = !d.probes
			d.render()
			return nil
		case key.Matches(k, dk.ResetHops):
			d.resetHops()
			return nil
		case key.Matches(k, dk.NextSection):
			d.jump(1)
			return nil
		case key.Matches(k, dk.PrevSection):
			d.jump(-1)
			return nil
		}
	}
	var cmd tea.Cmd
	d.vp, cmd = d.vp.Update(msg)
	d.updateHint()
	return cmd
}

// jump scrolls to the next (dir 1) or previous (-1) section start.
func (d *detailModel) jump(dir int) {
	y := d.vp.YOffset()
	target := -1
	for _, s := range d.sections {
		if dir > 0 && s.line > y {
			target = s.line
			break
		}
		if dir < 0 && s.line < y {
			target = s.line
		}
	}
	if target < 0 {
		if dir < 0 {
			target = 0
		} else {
			return
		}
	}
	d.vp.SetYOffset(target)
	d.updateHint()
}

// View implements component: the viewport and the fold hint under it.
func (d *detailModel) View() string { return d.vp.View() + "\n" + d.hint }

// updateHint names the sections below the visible part, so nothing is silently cut.
func (d *detailModel) updateHint() {
	top, bottom := d.vp.YOffset(), d.vp.YOffset()+d.vp.Height()
	total := d.vp.TotalLineCount()
	var below []string
	for _, s := range d.sections {
		if s.line >= bottom {
			below = append(below, s.name)
		}
	}
	var h string
	switch {
	case len(below) > 0:
		h = fmt.Sprintf("▼ below: %s  (tab, pgdn)", strings.Join(below, " · "))
	case bottom < total:
		h = fmt.Sprintf("▼ %d more lines (↓, pgdn)", total-bottom)
	case top > 0:
		h = "▲ top: ⇧tab, pgup"
	}
	d.hint = d.st.hint.Render(ansi.Truncate(h, d.width, "…"))
}

func (d *detailModel) render() {
	var lines []string
	title := d.st.title.Render(fmt.Sprintf("%s ⇄ %s", d.src, d.dst))
	switch {
	case d.loading:
		title += d.st.dim.Render("  loading…")
	case d.err != nil:
		title += "  " + d.st.bad.Render("could not read the pair: "+d.err.Error())
	}
	lines = append(lines, ansi.Truncate(title, d.width, "…"))
	d.sections = d.sections[:0]
	if !d.loading && d.err == nil {
		w := d.colWidth()
		left, right := d.blocks(&d.fwd, w), d.blocks(&d.rev, w)
		if d.sideBySide() {
			sep := d.st.dim.Render(" │ ")
			for i := range left {
				d.sections = append(d.sections, section{left[i].name, d.sectionLine(len(lines))})
				n := max(len(left[i].lines), len(right[i].lines))
				for j := range n {
					l, r := "", ""
					if j < len(left[i].lines) {
						l = left[i].lines[j]
					}
					if j < len(right[i].lines) {
						r = right[i].lines[j]
					}
					lines = append(lines, pad(l, w)+sep+r)
				}
			}
		} else {
			for k, bs := range [][]block{left, right} {
				dir := &d.fwd
				if k == 1 {
					dir = &d.rev
					lines = append(lines, "")
				}
				for _, b := range bs {
					name := b.name + " " + dir.src + " → " + dir.dst
					if b.name == "pings" {
						name = dir.src + " → " + dir.dst
					}
					d.sections = append(d.sections, section{name, d.sectionLine(len(lines))})
					lines = append(lines, b.lines...)
				}
			}
		}
	}
	d.vp.SetContent(strings.Join(lines, "\n"))
	d.updateHint()
}

// sectionLine is where a section starts; the first one includes the title above it.
func (d *detailModel) sectionLine(line int) int {
	if len(d.sections) == 0 {
		return 0
	}
	return line
}

// block is one section of a direction: pings (chart and summary), hops, timeline.
type block struct {
	name  string
	lines []string
}

func (d *detailModel) blocks(dir *dirData, w int) []block {
	return []block{
		{"pings", d.pingLines(dir, w)},
		{"hops", d.hopLines(dir, w)},
		{"timeline", d.timelineLines(dir, w)},
	}
}

func (d *detailModel) chartHeight() int { return max(3, min(10, (d.height-1)/4)) }

// pingLines: the direction's header, agents down, summary, chart and latest tests.
func (d *detailModel) pingLines(dir *dirData, w int) []string {
	st := d.st
	var lines []string
	add := func(s string) { lines = append(lines, ansi.Truncate(s, w, "…")) }
	add(st.headerHi.Render(fmt.Sprintf("%s → %s", dir.src, dir.dst)))
	for _, a := range d.ui.agents.downOf(dir.src) {
		text := fmt.Sprintf("agent %s down since %s", textsafe.Name(a.name), fmtWhen(a.since, newTimeAxis(a.since, d.cfg.Now(), 1)))
		if n := len(dir.samples); n > 0 {
			text += "; data below ends " + dir.samples[n-1].Time.Local().Format("15:04:05")
		}
		add(st.bad.Render(text))
		if a.why != "" {
			add(st.dim.Render("  " + a.why))
		}
	}
	for _, l := range pingSummary(dir.samples, d.ui.cells.Cell(dir.src, dir.dst), d.st, d.cfg.Thresholds[mesh.Loss]) {
		add(l)
	}
	if len(dir.samples) == 0 {
		return lines // the summary said so
	}
	lines = append(lines, renderChart(chartInput{
		samples: dir.samples, traces: dir.traces, changes: dir.changes,
		width: w, height: d.chartHeight(), probes: d.probes, lossTh: d.cfg.Thresholds[mesh.Loss],
	}, st)...)
	if n := len(dir.samples); n > 0 {
		// The newest test of each agent: a history bucket may hold several per agent.
		newest := map[string]int{}
		for i, r := range dir.samples[n-1].Results {
			newest[r.Src] = i
		}
		for i, r := range dir.samples[n-1].Results {
			if newest[r.Src] != i {
				continue
			}
			probes := make([]string, len(r.Probes))
			for i, p := range r.Probes {
				if p == 0 {
					probes[i] = "lost"
				} else {
					probes[i] = fmtMs(p)
				}
			}
			line := fmt.Sprintf("%s: avg %s ms, loss %s%%, jitter %s ms; probes %s", textsafe.Name(r.Src),
				fmtMs(r.AvgRTT), fmtPct(r.LossPct), fmtMs(r.JitterMs), strings.Join(probes, " "))
			if r.Failed {
				line = fmt.Sprintf("%s: no reply (%d sent)", textsafe.Name(r.Src), r.Sent)
			}
			add(st.dim.Render(line))
		}
	}
	return lines
}

// pingSummary: min, mean, p95, max; loss coloured by the loss thresholds; jitter; how
// many tests over how long (the drill-down's and the grid's pair chart's). cell is the
// grid's for the pair (nil: none): its mean and p95 are shown.
func pingSummary(samples []mesh.Sample, cell *mesh.Cell, st *styles, lossTh mesh.Thresholds) []string {
	if len(samples) == 0 {
		return []string{st.dim.Render("no samples in the window")}
	}
	var avgs, jit []float64
	mn, mx := 0.0, 0.0
	first := true
	tests, failed := 0, 0
	var lossSum float64
	for _, s := range samples {
		n := s.TestCount()
		tests += n
		lossSum += s.LossPct * float64(n)
		if s.Failed {
			failed += n
			continue
		}
		avgs = append(avgs, s.AvgRTT)
		jit = append(jit, s.JitterMs)
		if first || s.MinRTT < mn {
			mn = s.MinRTT
		}
		if first || s.MaxRTT > mx {
			mx = s.MaxRTT
		}
		first = false
	}
	loss := lossSum / float64(tests)
	lossText := classText(st, lossTh.Classify(loss, false), fmtPct(loss)+"%")
	rtt := "RTT: no answer in the window"
	if len(avgs) > 0 {
		// Mean and p95 of the tests' RTTs are the grid's (its cell reduces every test of
		// the window; history's samples are buckets, whose p95 is no test's); min and max
		// are the chart's band, the extremes of the probes.
		mean, p95 := mesh.Mean.Reduce(avgs), mesh.Percentile(avgs, 95)
		if c := cell; c != nil && c.Samples > 0 && !c.Failed[mesh.Mean] {
			if v := c.Values[mesh.Latency][mesh.Mean]; !math.IsNaN(v) {
				mean = v
			}
			if v := c.Values[mesh.Latency][mesh.P95]; !math.IsNaN(v) {
				p95 = v
			} else if samples[0].TestCount() > 1 || len(samples[0].Results) > 1 {
				p95 = math.NaN() // not read yet (p95 not on screen): no p95 of buckets
			}
		}
		rtt = fmt.Sprintf("RTT min %s  mean %s  p95 %s  max %s ms", fmtMs(mn), fmtMs(mean), fmtMs(p95), fmtMs(mx))
	}
	span := samples[len(samples)-1].Time.Sub(samples[0].Time)
	second := fmt.Sprintf("loss %s  jitter %s ms  · %s", lossText, fmtMs(mesh.Mean.Reduce(jit)), plural(tests, "test"))
	if span > 0 {
		second += " over " + fmtDur(span)
	}
	if failed > 0 {
		second += "  " + st.bad.Render(fmt.Sprintf("%d failed", failed))
	}
	return []string{rtt, second}
}

// hopLines: the per-hop table of the selected agent, its AS path and the route changes.
func (d *detailModel) hopLines(dir *dirData, w int) []string {
	st := d.st
	var lines []string
	add := func(s string) { lines = append(lines, ansi.Truncate(s, w, "…")) }
	if len(dir.hops) == 0 {
		msg := "no traceroute in the window (live: --traceroute-interval)"
		switch n := len(dir.traces); {
		case n > 0 && dir.traces[n-1].Err != "":
			msg = "traceroute failed: " + dir.traces[n-1].Err
		case n > 0 && !d.hopsSince.IsZero():
			msg = "no traceroute since " + d.hopsSince.Local().Format("15:04:05") + " (z: reset): waiting for the next"
		}
		add(st.dim.Render(msg))
		return lines
	}
	agents := hopAgents(dir.hops)
	i := d.agentIdx % len(agents)
	paths := agentPaths(dir.hops, agents[i])
	tb := paths[0]
	add(st.header.Render(hopsTitle(tb, i, len(agents))))
	if s := hopsSince(tb, len(paths)); s != "" {
		add(st.dim.Render(s))
	}
	lines = append(lines, renderHops(tb, w, st, d.cfg.Thresholds[mesh.Loss])...)
	for _, p := range paths[1:] {
		for _, l := range pathLines(p) {
			add(st.dim.Render(l))
		}
	}
	for j := len(dir.traces) - 1; j >= 0; j-- {
		if t := dir.traces[j]; t.Measured() && t.Src == tb.Src && t.Dst == tb.Dst {
			add("AS path: " + orDash(textsafe.Name(t.ASPath), "-") + st.dim.Render(" (latest, "+t.Time.Local().Format("15:04:05")+")"))
			break
		}
	}
	if n := len(dir.changes); n == 0 {
		add(st.dim.Render(fmt.Sprintf("route changes: none in %s", plural(len(dir.traces), "trace"))))
	} else {
		add(st.hint.Render(fmt.Sprintf("route changes: %d (in the timeline, ◆ on the time axis)", n)))
	}
	return lines
}

func (d *detailModel) timelineLines(dir *dirData, w int) []string {
	lines := renderTimeline(dir.events, w, timelineLimit, d.st, d.cfg.Now())
	if note := bucketedNote(d.st, dir.bucketed, w); note != "" {
		lines = slices.Insert(lines, 1, note)
	}
	return lines
}

// timelineLimit is how many events a direction lists; older ones are counted.
const timelineLimit = 30

func orDash(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
