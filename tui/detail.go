package tui

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/meshtop/meshtop/mesh"
)

// detailModel is the drill-down into one pair: both directions side by side (stacked
// on narrow terminals), each with its RTT chart, summary stats, latest hop path, AS path,
// route changes and per-agent figures. It scrolls in a viewport.
type detailModel struct {
	ui *uiContext
	st *styles
	// gen numbers the reads: only the answer to the newest one is shown.
	gen int

	src, dst     string
	loading      bool
	err          error
	fwd, rev     []mesh.Sample
	fwdTr, revTr []mesh.TraceResult

	vp            viewport.Model
	width, height int
}

func newDetail(ui *uiContext) detailModel {
	return detailModel{ui: ui, st: ui.st, vp: viewport.New()}
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
	d.fwd, d.rev, d.fwdTr, d.revTr = nil, nil, nil, nil
	d.vp.SetYOffset(0)
	d.render()
}

func (d *detailModel) setData(msg detailMsg) {
	d.loading, d.err = false, msg.err
	d.fwd, d.rev, d.fwdTr, d.revTr = msg.fwd, msg.rev, msg.fwdTr, msg.revTr
	d.render()
}

// SetSize implements component.
func (d *detailModel) SetSize(w, h int) {
	d.width, d.height = max(w, 10), max(h, 3)
	d.vp.SetWidth(d.width)
	d.vp.SetHeight(d.height)
	d.render()
}

// chartPoints is how many samples the chart can show at the current width.
func (d *detailModel) chartPoints() int { return max(20, d.colWidth()-8) }

func (d *detailModel) sideBySide() bool { return d.width >= 96 }

func (d *detailModel) colWidth() int {
	if d.sideBySide() {
		return (d.width - 3) / 2
	}
	return d.width
}

// View implements component.
func (d *detailModel) View() string { return d.vp.View() }

// Update implements component: the pair's data, and scrolling keys and the wheel.
func (d *detailModel) Update(msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(detailMsg); ok {
		if msg.requestedAtGen == d.gen {
			d.setData(msg)
		}
		return nil
	}
	var cmd tea.Cmd
	d.vp, cmd = d.vp.Update(msg)
	return cmd
}

func (d *detailModel) render() {
	var b strings.Builder
	title := fmt.Sprintf("%s ⇄ %s", d.src, d.dst)
	b.WriteString(d.st.title.Render(title))
	switch {
	case d.loading:
		b.WriteString(d.st.dim.Render("  loading…"))
	case d.err != nil:
		b.WriteString("\n" + d.st.bad.Render("could not read the pair: "+d.err.Error()))
	}
	b.WriteByte('\n')
	if !d.loading && d.err == nil {
		w := d.colWidth()
		left := d.direction(d.src, d.dst, d.fwd, d.fwdTr, w)
		right := d.direction(d.dst, d.src, d.rev, d.revTr, w)
		if d.sideBySide() {
			n := max(len(left), len(right))
			for i := range n {
				l, r := "", ""
				if i < len(left) {
					l = left[i]
				}
				if i < len(right) {
					r = right[i]
				}
				b.WriteString(pad(l, w) + d.st.dim.Render(" │ ") + r + "\n")
			}
		} else {
			b.WriteString(strings.Join(left, "\n") + "\n\n" + strings.Join(right, "\n") + "\n")
		}
	}
	d.vp.SetContent(b.String())
}

// direction renders one direction of the pair as lines of at most w columns.
func (d *detailModel) direction(src, dst string, samples []mesh.Sample, traces []mesh.TraceResult, w int) []string {
	st := d.st
	var lines []string
	add := func(s string) { lines = append(lines, ansi.Truncate(s, w, "…")) }
	add(st.headerHi.Render(fmt.Sprintf("%s → %s", src, dst)))
	for _, l := range strings.Split(d.summary(samples), "\n") {
		add(l)
	}
	chartH := max(4, min(10, d.height/3))
	for _, l := range renderChart(samples, w, chartH, st) {
		add(l)
	}
	if n := len(samples); n > 0 {
		last := samples[n-1]
		for _, r := range last.Results {
			probes := make([]string, len(r.Probes))
			for i, p := range r.Probes {
				if p == 0 {
					probes[i] = "lost"
				} else {
					probes[i] = fmtMs(p)
				}
			}
			add(st.dim.Render(fmt.Sprintf("%s → %s", r.Src, orDash(r.DstName, r.Dst))))
			line := fmt.Sprintf("  avg %s ms, loss %s%%, jitter %s ms; probes %s",
				fmtMs(r.AvgRTT), fmtPct(r.LossPct), fmtMs(r.JitterMs), strings.Join(probes, " "))
			if r.Failed {
				line = fmt.Sprintf("  no reply (%d sent)", r.Sent)
			}
			add(st.dim.Render(line))
		}
	}
	add("")
	lines = append(lines, d.traceLines(traces, w)...)
	return lines
}

// summary is the stats line of a direction: min, mean, p95, max, loss, jitter, samples.
func (d *detailModel) summary(samples []mesh.Sample) string {
	if len(samples) == 0 {
		return d.st.dim.Render("no samples")
	}
	var avgs, jit []float64
	mn, mx, loss := math.Inf(1), math.Inf(-1), 0.0
	failed := 0
	for _, s := range samples {
		loss += s.LossPct
		if s.Failed {
			failed++
			continue
		}
		avgs = append(avgs, s.AvgRTT)
		jit = append(jit, s.JitterMs)
		mn, mx = math.Min(mn, s.MinRTT), math.Max(mx, s.MaxRTT)
	}
	loss /= float64(len(samples))
	lossText := fmtPct(loss) + "%"
	if loss > 0 {
		lossText = d.st.bad.Render(lossText)
	}
	out := fmt.Sprintf("RTT min %s  mean %s  p95 %s  max %s ms\nloss %s  jitter %s ms  samples %d",
		fmtMs(mn), fmtMs(mesh.Mean.Reduce(avgs)), fmtMs(mesh.Percentile(avgs, 95)), fmtMs(mx), lossText, fmtMs(mesh.Mean.Reduce(jit)), len(samples))
	if failed > 0 {
		out += d.st.bad.Render(fmt.Sprintf("  failed %d", failed))
	}
	return out
}

// traceLines: the latest hop path, its AS path and the route changes in the window.
func (d *detailModel) traceLines(traces []mesh.TraceResult, w int) []string {
	st := d.st
	var lines []string
	add := func(s string) { lines = append(lines, ansi.Truncate(s, w, "…")) }
	var latest *mesh.TraceResult
	for i := len(traces) - 1; i >= 0; i-- {
		if traces[i].Measured() {
			latest = &traces[i]
			break
		}
	}
	if latest == nil {
		msg := "no traceroute in the window (live: --traceroute-interval)"
		if n := len(traces); n > 0 {
			msg = "traceroute failed: " + traces[n-1].Err
		}
		add(st.dim.Render(msg))
		return lines
	}
	reached := "reached"
	if latest.Failed {
		reached = st.bad.Render("did not reach the destination")
	}
	add(fmt.Sprintf("traceroute %s from %s at %s", latest.Proto, latest.Src, latest.Time.Local().Format("15:04:05")))
	add(fmt.Sprintf("  %s; final hop ttl %d, %s ms", reached, latest.FinalHopTTL, fmtMs(latest.FinalHopRTT)))
	if len(latest.Hops) > 0 {
		// The name column goes first when the column is narrow: address and ASN matter more.
		nameW := min(24, max(0, w-46))
		row := func(ttl, addr, name, asn, rtt string) string {
			if nameW == 0 {
				return fmt.Sprintf("%3s  %-15s  %9s  %8s", ttl, addr, asn, rtt)
			}
			return fmt.Sprintf("%3s  %-15s  %-*s  %9s  %8s", ttl, addr, nameW, ansi.Truncate(name, nameW, "…"), asn, rtt)
		}
		add(st.header.Render(row("ttl", "address", "name", "ASN", "rtt ms")))
		for _, h := range latest.Hops {
			if h.NoResponse {
				add(st.dim.Render(row(fmt.Sprint(h.TTL), "* no response", "", "", "")))
				continue
			}
			asn := ""
			if h.ASN != 0 {
				asn = fmt.Sprintf("AS%d", h.ASN)
			}
			add(row(fmt.Sprint(h.TTL), h.Addr, h.Name, asn, fmtMs(h.RTT)))
		}
	}
	add("AS path: " + orDash(latest.ASPath, "-"))
	changes := mesh.RouteChanges(traces)
	if len(changes) == 0 {
		add(st.dim.Render(fmt.Sprintf("route changes: none in %d traces", len(traces))))
		return lines
	}
	add(st.bad.Render(fmt.Sprintf("route changes: %d", len(changes))))
	shown := changes[max(0, len(changes)-5):]
	for _, c := range slices.Backward(shown) {
		add(fmt.Sprintf("  %s %s:", c.Time.Local().Format("01-02 15:04:05"), c.Src))
		add(st.dim.Render("    old ") + pathText(c.Old))
		add(st.dim.Render("    new ") + pathText(c.New))
	}
	return lines
}

func pathText(t mesh.TraceResult) string {
	if len(t.Hops) == 0 {
		return "AS " + t.ASPath
	}
	return t.PathKey()
}

func orDash(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

func fmtPct(v float64) string {
	if v == 0 || v >= 10 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}
