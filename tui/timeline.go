package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/meshtop/meshtop/internal/textsafe"
	"github.com/meshtop/meshtop/mesh"
)

// renderTimeline draws a pair's events newest first, at most limit of them (0: all),
// each line at most w wide.
func renderTimeline(evs []mesh.Event, w, limit int, st *styles, now time.Time) []string {
	var lines []string
	add := func(s string) { lines = append(lines, ansi.Truncate(s, w, "…")) }
	if len(evs) == 0 {
		add(st.dim.Render("timeline: nothing happened in the window (no colour change, outage, route change or agent down)"))
		return lines
	}
	add(st.header.Render(fmt.Sprintf("timeline · %s, newest first", plural(len(evs), "event"))))
	withDate := false
	if n := len(evs); n > 0 {
		a, b := evs[n-1].Time.Local(), evs[0].Time.Local()
		withDate = a.YearDay() != b.YearDay() || a.Year() != b.Year() || b.YearDay() != now.Local().YearDay()
	}
	when := func(t time.Time) string {
		if withDate {
			return t.Local().Format("01-02 15:04:05")
		}
		return t.Local().Format("15:04:05")
	}
	shown := evs
	if limit > 0 && len(shown) > limit {
		shown = shown[:limit]
	}
	for _, e := range shown {
		head := st.dim.Render(when(e.Time)) + "  "
		switch e.Kind {
		case mesh.EventOutage:
			text := fmt.Sprintf("✕ outage %s (%s failed)", fmtDur(e.Duration(now)), plural(e.Tests, "test"))
			if e.Ongoing() {
				text = fmt.Sprintf("✕ outage ongoing, %s so far (%s failed)", fmtDur(e.Duration(now)), plural(e.Tests, "test"))
			} else {
				text += ", until " + when(e.End)
			}
			add(head + st.bad.Render(text))
		case mesh.EventColour:
			unit := e.Metric.Unit()
			var cr []string
			for _, v := range e.Crossed {
				cr = append(cr, mesh.FormatValue(e.Metric, v, false))
			}
			add(head + fmt.Sprintf("%s %s → %s  %s %s (crossed %s %s)", strings.ToLower(e.Metric.Title()),
				st.swatch(e.From, e.From.String()), st.swatch(e.To, e.To.String()),
				mesh.FormatValue(e.Metric, e.Value, false), unit, strings.Join(cr, ", "), unit))
		case mesh.EventRoute:
			add(head + st.hint.Render("◆ route change") + " via " + textsafe.Name(e.Agent))
			if e.Route != nil {
				add(st.dim.Render("    old ") + pathText(e.Route.Old))
				add(st.dim.Render("    new ") + pathText(e.Route.New))
			}
		case mesh.EventAgentDown:
			text := "agent " + textsafe.Name(e.Agent) + " down"
			if e.Why != "" {
				text += ": " + e.Why
			}
			add(head + st.bad.Render(text))
		case mesh.EventAgentUp:
			add(head + st.good.Render("agent "+textsafe.Name(e.Agent)+" up again"))
		}
	}
	if n := len(evs) - len(shown); n > 0 {
		add(st.dim.Render(fmt.Sprintf("… %d older", n)))
	}
	return lines
}

func pathText(t mesh.TraceResult) string {
	if len(t.Hops) == 0 {
		return "AS " + textsafe.Name(t.ASPath)
	}
	return textsafe.String(t.PathKey(), 400)
}
