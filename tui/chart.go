package tui

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/meshtop/meshtop/mesh"
)

// maxProbeRows is how many per-probe rows the chart offers: the dashboard's Packet 0-4.
const maxProbeRows = 5

// chartCol is one chart column: everything measured in its slice of time.
type chartCol struct {
	n, good               int // samples, answered samples
	lo, hi, avg           float64
	loss, jitter          float64
	probes                []float64 // answered probe RTTs, for the smoke
	probeSum              [maxProbeRows]float64
	probeN, probeLost     [maxProbeRows]int
	ttl                   int  // final hop ttl of the newest trace in the column, 0 = none
	ttlFailed, routeShift bool // that trace did not reach; a route change happened here
	// ttlLate: that trace's destination answered late (its reply at its true ttl, ttl,
	// was lost): one lost reply, not a path change.
	ttlLate bool
}

// chartInput is what one direction's chart is drawn from.
type chartInput struct {
	samples       []mesh.Sample
	traces        []mesh.TraceResult
	changes       []mesh.RouteChange
	width, height int // the whole chart's width; the RTT plot's height in rows
	probes        bool
	lossTh        mesh.Thresholds
}

const chartLabelW = 7

// chartColumns lays samples on a true time axis. A sample stands for the time until the
// next one, but no longer than 1.5 typical intervals: beyond that the columns stay
// empty, a gap where nothing was measured. Few samples stretch over many columns; many
// share one.
func chartColumns(in chartInput, cols int) (timeAxis, []chartCol, []bool) {
	ss := in.samples
	times := make([]time.Time, len(ss))
	for i, s := range ss {
		times[i] = s.Time
	}
	iv := typicalInterval(times)
	end := ss[len(ss)-1].Time.Add(iv)
	if iv == 0 {
		end = ss[0].Time.Add(time.Minute)
	}
	ax := newTimeAxis(ss[0].Time, end, cols)
	out := make([]chartCol, ax.cols)
	for i := range out {
		out[i].lo, out[i].hi = math.Inf(1), math.Inf(-1)
	}
	covered := make([]bool, ax.cols)
	for i, s := range ss {
		stop := end
		if i+1 < len(ss) {
			stop = ss[i+1].Time
		}
		if iv > 0 && stop.Sub(s.Time) > iv*3/2 {
			stop = s.Time.Add(iv)
		}
		first, last := ax.col(s.Time), ax.col(stop.Add(-time.Nanosecond))
		for c := first; c <= max(first, last); c++ {
			covered[c] = true
			addSample(&out[c], s)
		}
	}
	for i := range out {
		c := &out[i]
		if c.n > 0 {
			c.loss /= float64(c.n)
		}
		if c.good > 0 {
			c.avg /= float64(c.good)
			c.jitter /= float64(c.good)
		}
	}
	late := mesh.LateDestinations(in.traces)
	for i, t := range in.traces {
		if !t.Measured() || t.Time.Before(ax.from) || !t.Time.Before(ax.to) {
			continue
		}
		c := &out[ax.col(t.Time)]
		c.ttl, c.ttlFailed, c.ttlLate = t.FinalHopTTL, t.Failed, late[i] > 0
		if c.ttlLate {
			c.ttl = late[i]
		}
	}
	for _, rc := range in.changes {
		if !rc.Time.Before(ax.from) && rc.Time.Before(ax.to) {
			out[ax.col(rc.Time)].routeShift = true
		}
	}
	return ax, out, covered
}

func addSample(c *chartCol, s mesh.Sample) {
	c.n++
	c.loss += s.LossPct
	for _, r := range s.Results {
		for i, p := range r.Probes {
			if i < maxProbeRows {
				if p > 0 {
					c.probeSum[i] += p
					c.probeN[i]++
				} else {
					c.probeLost[i]++
				}
			}
			if p > 0 {
				c.probes = append(c.probes, p)
			}
		}
	}
	if s.Failed {
		return
	}
	c.good++
	c.lo, c.hi = math.Min(c.lo, s.MinRTT), math.Max(c.hi, s.MaxRTT)
	c.avg += s.AvgRTT
	c.jitter += s.JitterMs
}

// renderChart draws one direction on a true time axis: the RTT plot (min–max band, the
// smoke of the probes' percentiles where probes are known, the mean), loss and jitter
// rows, the final hop's ttl, the axis with route changes, and the legend. Lines are at
// most in.width wide.
func renderChart(in chartInput, st *styles) []string {
	if len(in.samples) == 0 {
		return []string{st.dim.Render("no samples in the window")}
	}
	plotW := max(4, in.width-chartLabelW)
	height := max(3, in.height)
	ax, cols, covered := chartColumns(in, plotW)

	lo, hi := math.Inf(1), math.Inf(-1)
	var maxJit float64
	anyProbes := false
	for _, c := range cols {
		if c.good > 0 {
			lo, hi = math.Min(lo, c.lo), math.Max(hi, c.hi)
			maxJit = math.Max(maxJit, c.jitter)
		}
		anyProbes = anyProbes || len(c.probes) > 0
	}
	if math.IsInf(lo, 0) {
		lo, hi = 0, 1
	}
	if hi-lo < 1e-9 {
		lo, hi = lo-0.5, hi+0.5
	}
	rowOf := func(v float64) int { // 0 = top
		r := int(math.Round((hi - v) / (hi - lo) * float64(height-1)))
		return max(0, min(height-1, r))
	}
	band, smoke1, smoke2, line, bad, dim := sgrOf(st.band), sgrOf(st.band), sgrOf(st.band), sgrOf(st.line), sgrOf(st.bad), sgrOf(st.dim)
	smoke := false // some column has enough probes for percentiles
	rows := make([]cellRow, height)
	for r := range rows {
		rows[r] = newCellRow(ax.cols)
	}
	for x, c := range cols {
		switch {
		case c.n == 0:
			continue
		case c.good == 0:
			rows[height-1].set(x, '✕', bad)
			continue
		}
		for r := rowOf(c.hi); r <= rowOf(c.lo); r++ {
			rows[r].set(x, '░', band)
		}
		if len(c.probes) >= 3 {
			smoke = true
			ps := slices.Clone(c.probes)
			slices.Sort(ps)
			q := func(p float64) float64 { return ps[min(len(ps)-1, int(p*float64(len(ps)-1)+0.5))] }
			for r := rowOf(q(0.9)); r <= rowOf(q(0.1)); r++ {
				rows[r].set(x, '▒', smoke1)
			}
			for r := rowOf(q(0.75)); r <= rowOf(q(0.25)); r++ {
				rows[r].set(x, '▓', smoke2)
			}
		}
		rows[rowOf(c.avg)].set(x, '█', line)
	}
	lines := make([]string, 0, height+12)
	label := func(s string) string { return st.dim.Render(padLeft(s, chartLabelW-1) + "┤") }
	for r := range rows {
		l := ""
		switch r {
		case 0:
			l = fmtMs(hi)
		case height - 1:
			l = fmtMs(lo)
		case (height - 1) / 2:
			l = fmtMs(hi - (hi-lo)*float64(r)/float64(height-1))
		}
		lines = append(lines, label(l)+rows[r].String())
	}

	loss, jit := newCellRow(ax.cols), newCellRow(ax.cols)
	for x, c := range cols {
		if c.n == 0 {
			continue
		}
		if c.loss > 0 {
			cls := in.lossTh.Classify(c.loss, false)
			s := band
			if cls > mesh.Green {
				s = sgrOf(st.class[cls])
			}
			loss.set(x, sparkRune(c.loss, 100), s)
		}
		if c.good > 0 && c.jitter > 0 {
			jit.set(x, sparkRune(c.jitter, maxJit), band)
		}
	}
	lines = append(lines, label("loss")+loss.String(), label("jitter")+jit.String())

	if in.probes {
		if !anyProbes {
			lines = append(lines, st.dim.Render(strings.Repeat(" ", chartLabelW)+"per-probe RTTs: kept by live samples only"))
		}
		for i := range maxProbeRows {
			if !anyProbes {
				break
			}
			row := newCellRow(ax.cols)
			for x, c := range cols {
				switch {
				case c.probeN[i] > 0:
					s := band
					if c.probeLost[i] > 0 {
						s = bad
					}
					row.set(x, sparkRune(c.probeSum[i]/float64(c.probeN[i])-lo+(hi-lo)/8, hi-lo+(hi-lo)/8), s)
				case c.probeLost[i] > 0:
					row.set(x, '✕', bad)
				}
			}
			lines = append(lines, label(fmt.Sprintf("pkt%d", i))+row.String())
		}
	}

	ttl, lateReply := ttlRow(cols, dim, bad, sgrOf(st.hint))
	if ttl != nil {
		lines = append(lines, label("ttl")+ttl.String())
	}
	route := make([]bool, len(cols))
	nRoute := 0
	for i, c := range cols {
		route[i] = c.routeShift
		if c.routeShift {
			nRoute++
		}
	}
	lines = append(lines, ax.axisLines(covered, route, st, chartLabelW)...)

	legend := []string{fmt.Sprintf("%s–%s", fmtWhen(ax.from, ax), fmtWhen(in.samples[len(in.samples)-1].Time, ax)), "░ min–max"}
	if smoke {
		legend = append(legend, "▒ p10–90", "▓ p25–75")
	}
	legend = append(legend, "█ mean")
	if nRoute > 0 {
		legend = append(legend, "◆ route change")
	}
	if lateReply {
		legend = append(legend, string(markLateReply)+" destination reply lost")
	}
	if maxJit > 0 {
		legend = append(legend, fmt.Sprintf("jitter max %s ms", fmtMs(maxJit)))
	}
	for _, l := range packLines(legend, "  ", in.width-chartLabelW) {
		lines = append(lines, st.dim.Render(strings.Repeat(" ", chartLabelW)+l))
	}
	return lines
}

// markLateReply marks, on the ttl row, a trace whose destination's reply was lost at
// its ttl (it answered a later probe): loss, not a path change, so the ttl stays.
const markLateReply = '•'

// ttlRow shows the final hop's ttl over time: the number where it changes, a line while
// it stays, ✕ after a trace that did not reach the destination, • where the
// destination's reply was lost and it answered a later ttl (the ttl does not change:
// `3─3•3`, never `3─4─3`). nil without traces; late says whether a • is shown.
func ttlRow(cols []chartCol, dim, bad, warn sgr) (row *cellRow, late bool) {
	r := newCellRow(len(cols))
	prev, have := -1, false
	for x := 0; x < len(cols); x++ {
		c := cols[x]
		if c.ttl == 0 {
			if have {
				r.set(x, '─', dim)
			}
			continue
		}
		have = true
		switch {
		case c.ttlFailed:
			r.set(x, '✕', bad)
			prev = -1
		case c.ttlLate:
			r.set(x, markLateReply, warn)
			late = true
		case c.ttl != prev:
			digits := fmt.Sprint(c.ttl)
			for i, d := range digits {
				r.set(x+i, d, sgr{})
			}
			// The digits cover the next columns; a trace there shows on its own column
			// after them.
			x += len(digits) - 1
			prev = c.ttl
		default:
			r.set(x, '─', dim)
		}
	}
	if !have {
		return nil, false
	}
	return &r, late
}

var sparkRunes = []rune(" ▁▂▃▄▅▆▇█")

// sparkRune maps v in [0, top] to a block; any non-zero value shows at least ▁ so a
// little loss is never invisible.
func sparkRune(v, top float64) rune {
	if v <= 0 || top <= 0 || math.IsNaN(v) {
		return ' '
	}
	i := int(math.Ceil(v / top * float64(len(sparkRunes)-1)))
	return sparkRunes[max(1, min(len(sparkRunes)-1, i))]
}

// fmtWhen formats a time for the chart's span: with the date when the span crosses a day.
func fmtWhen(t time.Time, ax timeAxis) string {
	if ax.crossesDay() {
		return t.Local().Format("01-02 15:04:05")
	}
	return t.Local().Format("15:04:05")
}

func fmtMs(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "-"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// fmtDur is a short duration: 45s, 12m30s, 3h05m, 2d4h (the words of the mesh's events).
func fmtDur(d time.Duration) string { return mesh.FormatDuration(d) }

// packLines joins items with sep into lines of at most w columns, never splitting an
// item (one longer than w is cut).
func packLines(items []string, sep string, w int) []string {
	var out []string
	cur := ""
	for _, it := range items {
		switch {
		case cur == "":
			cur = it
		case ansi.StringWidth(cur+sep+it) <= w:
			cur += sep + it
		default:
			out = append(out, cur)
			cur = it
		}
	}
	if cur != "" {
		out = append(out, cur)
	}
	for i, l := range out {
		out[i] = ansi.Truncate(l, max(1, w), "…")
	}
	return out
}
