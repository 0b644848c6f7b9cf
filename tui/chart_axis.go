package tui

import (
	"math"
	"slices"
	"strings"
	"time"
)

// timeAxis maps the chart's span onto its columns: column c covers
// [from + c*per, from + (c+1)*per).
type timeAxis struct {
	from, to time.Time
	cols     int
	per      time.Duration
}

func newTimeAxis(from, to time.Time, cols int) timeAxis {
	cols = max(1, cols)
	span := max(to.Sub(from), time.Second)
	per := max((span+time.Duration(cols)-1)/time.Duration(cols), time.Nanosecond)
	return timeAxis{from: from, to: from.Add(per * time.Duration(cols)), cols: cols, per: per}
}

// col is the column of t, clamped to the chart.
func (a timeAxis) col(t time.Time) int {
	c := int(t.Sub(a.from) / a.per)
	return max(0, min(a.cols-1, c))
}

// crossesDay reports whether the span covers more than one local calendar day.
func (a timeAxis) crossesDay() bool {
	f, t := a.from.Local(), a.to.Add(-time.Nanosecond).Local()
	return f.YearDay() != t.YearDay() || f.Year() != t.Year()
}

// tickSteps are the round intervals ticks may fall on.
var tickSteps = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
	48 * time.Hour, 7 * 24 * time.Hour,
}

type tick struct {
	col   int
	label string
}

// ticks places labels at round times (whole minutes, hours, local midnights), as far
// apart as the labels need.
func (a timeAxis) ticks() []tick {
	dayLabels := a.crossesDay()
	labelW := 5 // 15:04
	step := tickSteps[len(tickSteps)-1]
	for _, s := range tickSteps {
		w := labelW
		if s < time.Minute {
			w = 8 // 15:04:05
		}
		if float64(s)/float64(a.per) >= float64(w+2) {
			step = s
			break
		}
	}
	f := a.from.Local()
	base := time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, f.Location())
	first := base.Add(time.Duration(math.Ceil(float64(a.from.Sub(base))/float64(step))) * step)
	var out []tick
	for t := first; t.Before(a.to); t = t.Add(step) {
		lt := t.Local()
		var label string
		switch {
		case step >= 24*time.Hour || (dayLabels && lt.Hour() == 0 && lt.Minute() == 0 && lt.Second() == 0):
			label = lt.Format("01-02")
		case step < time.Minute:
			label = lt.Format("15:04:05")
		default:
			label = lt.Format("15:04")
		}
		out = append(out, tick{col: int(t.Sub(a.from) / a.per), label: label})
		if len(out) > a.cols {
			break
		}
	}
	return out
}

// axisLines draws the axis under the plot: a line broken where no data was taken, ticks,
// route-change marks, then the tick labels. covered[c] says column c holds data.
func (a timeAxis) axisLines(covered, route []bool, st *styles, labelW int) []string {
	dim, bad := sgrOf(st.dim), sgrOf(st.bad)
	line := newCellRow(a.cols)
	for c := range a.cols {
		switch {
		case c < len(route) && route[c]:
			line.set(c, '◆', bad)
		case c < len(covered) && !covered[c]:
			line.set(c, ' ', sgr{})
		default:
			line.set(c, '─', dim)
		}
	}
	labels := []rune(strings.Repeat(" ", a.cols))
	lastEnd := -1
	for _, tk := range a.ticks() {
		if tk.col < 0 || tk.col >= a.cols {
			continue
		}
		if r := line.cells[tk.col].r; r == '─' || r == ' ' {
			line.set(tk.col, '┬', dim)
		}
		lr := []rune(tk.label)
		if tk.col <= lastEnd || tk.col+len(lr) > a.cols {
			continue
		}
		copy(labels[tk.col:], lr)
		lastEnd = tk.col + len(lr)
	}
	prefix := strings.Repeat(" ", labelW-1)
	return []string{
		st.dim.Render(prefix+"└") + line.String(),
		st.dim.Render(prefix + " " + strings.TrimRight(string(labels), " ")),
	}
}

// cellRow is one chart row of styled runes; String merges runs of one style, so a row
// costs a few escape sequences rather than one per column.
type cellRow struct{ cells []styledRune }

type styledRune struct {
	r  rune
	st sgr
}

func newCellRow(n int) cellRow {
	c := cellRow{cells: make([]styledRune, n)}
	for i := range c.cells {
		c.cells[i].r = ' '
	}
	return c
}

func (c cellRow) set(i int, r rune, st sgr) {
	if i >= 0 && i < len(c.cells) {
		c.cells[i] = styledRune{r, st}
	}
}

func (c cellRow) String() string {
	var b strings.Builder
	for i := 0; i < len(c.cells); {
		j := i
		for j < len(c.cells) && c.cells[j].st == c.cells[i].st {
			j++
		}
		b.WriteString(c.cells[i].st.pre)
		for _, x := range c.cells[i:j] {
			b.WriteRune(x.r)
		}
		b.WriteString(c.cells[i].st.post)
		i = j
	}
	return b.String()
}

// typicalInterval is the median gap between successive times: how long one sample
// stands for before the next. 0 for fewer than two.
func typicalInterval(ts []time.Time) time.Duration {
	if len(ts) < 2 {
		return 0
	}
	d := make([]time.Duration, 0, len(ts)-1)
	for i := 1; i < len(ts); i++ {
		if g := ts[i].Sub(ts[i-1]); g > 0 {
			d = append(d, g)
		}
	}
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[len(d)/2]
}
