package tui

import (
	"fmt"
	"math"
	"strings"

	"github.com/meshtop/meshtop/mesh"
)

// bucket is one chart column: the samples that fall into it, reduced.
type bucket struct {
	lo, hi, avg, loss, jitter float64
	failed                    bool // every sample in it failed
	n                         int
}

// bucketize spreads samples over at most width columns, in time order.
func bucketize(samples []mesh.Sample, width int) []bucket {
	if len(samples) == 0 || width <= 0 {
		return nil
	}
	n := min(width, len(samples))
	out := make([]bucket, n)
	for i := range out {
		out[i] = bucket{lo: math.Inf(1), hi: math.Inf(-1), failed: true}
	}
	good := make([]int, n)
	for i, s := range samples {
		b := &out[i*n/len(samples)]
		b.n++
		b.loss += s.LossPct
		if s.Failed {
			continue
		}
		b.failed = false
		good[i*n/len(samples)]++
		b.lo = math.Min(b.lo, s.MinRTT)
		b.hi = math.Max(b.hi, s.MaxRTT)
		b.avg += s.AvgRTT
		b.jitter += s.JitterMs
	}
	for i := range out {
		out[i].loss /= float64(out[i].n)
		if g := good[i]; g > 0 {
			out[i].avg /= float64(g)
			out[i].jitter /= float64(g)
		}
	}
	return out
}

// renderChart draws RTT over time: the min–max spread as a band, the mean as a line,
// failed sweeps as ✕ on the bottom row; then a loss and a jitter sparkline and the time
// span. width and height are the plot's (labels come on top of width).
func renderChart(samples []mesh.Sample, width, height int, st *styles) []string {
	const labelW = 7
	plotW := max(4, width-labelW)
	height = max(3, height)
	bs := bucketize(samples, plotW)
	if len(bs) == 0 {
		return []string{st.dim.Render("no samples in the window")}
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	var maxJit float64
	for _, b := range bs {
		if !b.failed {
			lo, hi = math.Min(lo, b.lo), math.Max(hi, b.hi)
			maxJit = math.Max(maxJit, b.jitter)
		}
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
	grid := make([][]string, height)
	for r := range grid {
		grid[r] = make([]string, len(bs))
		for c := range grid[r] {
			grid[r][c] = " "
		}
	}
	for c, b := range bs {
		if b.failed {
			grid[height-1][c] = st.bad.Render("✕")
			continue
		}
		top, bot := rowOf(b.hi), rowOf(b.lo)
		for r := top; r <= bot; r++ {
			grid[r][c] = st.band.Render("░")
		}
		grid[rowOf(b.avg)][c] = st.line.Render("█")
	}
	lines := make([]string, 0, height+3)
	for r := range grid {
		label := ""
		switch r {
		case 0:
			label = fmtMs(hi)
		case height - 1:
			label = fmtMs(lo)
		case (height - 1) / 2:
			label = fmtMs((hi + lo) / 2)
		}
		lines = append(lines, st.dim.Render(padLeft(label, labelW-1)+"┤")+strings.Join(grid[r], ""))
	}
	loss, jit := make([]string, len(bs)), make([]string, len(bs))
	for c, b := range bs {
		loss[c] = spark(b.loss, 100, st, b.loss > 0)
		if b.failed {
			jit[c] = " "
		} else {
			jit[c] = spark(b.jitter, maxJit, st, false)
		}
	}
	lines = append(lines,
		st.dim.Render(padLeft("loss", labelW-1)+"┤")+strings.Join(loss, ""),
		st.dim.Render(padLeft("jitter", labelW-1)+"┤")+strings.Join(jit, ""))
	first, last := samples[0].Time, samples[len(samples)-1].Time
	span := fmt.Sprintf("%s … %s  (%s, band = min–max, █ = mean", first.Local().Format("15:04:05"), last.Local().Format("15:04:05"), plural(len(samples), "sample"))
	if maxJit > 0 {
		span += fmt.Sprintf(", jitter max %s ms", fmtMs(maxJit))
	}
	lines = append(lines, st.dim.Render(strings.Repeat(" ", labelW)+span+")"))
	return lines
}

var sparkRunes = []rune(" ▁▂▃▄▅▆▇█")

// spark maps v in [0, top] to a block; any non-zero value shows at least ▁ so a little
// loss is never invisible.
func spark(v, top float64, st *styles, alarm bool) string {
	if v <= 0 || top <= 0 {
		return " "
	}
	i := int(math.Ceil(v / top * float64(len(sparkRunes)-1)))
	i = max(1, min(len(sparkRunes)-1, i))
	s := string(sparkRunes[i])
	if alarm {
		return st.bad.Render(s)
	}
	return st.band.Render(s)
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
