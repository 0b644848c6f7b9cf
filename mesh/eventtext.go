package mesh

import (
	"fmt"
	"strings"
	"time"
)

// Text is an event of the mesh's list in one line for people, without its time: the
// same words in the TUI's panel, serve's bottom line and the daemon's log lines.
func (e Event) Text() string {
	pair := e.Src + "→" + e.Dst
	switch e.Kind {
	case EventColour:
		return fmt.Sprintf("%s %s %s → %s (%s %s)", pair, strings.ToLower(e.Metric.Title()), e.From, e.To,
			FormatValue(e.Metric, e.Value, false), e.Metric.Unit())
	case EventOutage:
		if !e.End.IsZero() {
			return fmt.Sprintf("%s FAIL for %s (%d failed tests)", pair, FormatDuration(e.End.Sub(e.Time)), e.Tests)
		}
		return pair + " FAIL: nothing came back"
	case EventOutageEnd:
		return fmt.Sprintf("%s answers again after %s (%d failed %s)", pair, FormatDuration(e.Time.Sub(e.Since)),
			e.Tests, map[bool]string{true: "test", false: "tests"}[e.Tests == 1])
	case EventRoute:
		what := "changed"
		if e.Route != nil {
			switch n := len(e.Route.New.Hops); {
			case n > 0:
				what = fmt.Sprintf("changed (%d hops, was %d)", n, len(e.Route.Old.Hops))
			case e.Route.New.ASPath != "":
				what = "changed to AS " + e.Route.New.ASPath
			}
		}
		return fmt.Sprintf("%s route %s", pair, what)
	case EventAgentDown:
		if e.Agent == "" {
			return fmt.Sprintf("agents of %s down: %s", e.Src, e.Why)
		}
		return fmt.Sprintf("agent %s (%s) down: %s", e.Agent, e.Src, e.Why)
	case EventAgentUp:
		if e.Agent == "" {
			return fmt.Sprintf("agents of %s up again", e.Src)
		}
		return fmt.Sprintf("agent %s (%s) up again", e.Agent, e.Src)
	}
	return e.Why
}

// Bad reports whether the event tells of something going wrong (a worse colour, an
// outage, an agent down), for views that mark those.
func (e Event) Bad() bool {
	switch e.Kind {
	case EventColour:
		return e.To.Severity() > e.From.Severity()
	case EventOutage, EventAgentDown, EventNote:
		return true
	}
	return false
}

// Good reports whether the event tells of a recovery.
func (e Event) Good() bool {
	switch e.Kind {
	case EventColour:
		return e.To.Severity() < e.From.Severity()
	case EventOutageEnd, EventAgentUp:
		return true
	}
	return false
}

// FormatDuration is a short duration to the second: 45s, 12m30s, 3h05m, 2d4h.
func FormatDuration(d time.Duration) string {
	d = max(0, d).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		if s := int(d.Seconds()) % 60; s != 0 {
			return fmt.Sprintf("%dm%02ds", int(d.Minutes()), s)
		}
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}

// Age is how old a stale cell's newest test is, in at most three digits and a unit:
// 45s, 12m, 3h, 9d.
func Age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(max(0, d).Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 100*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", min(999, int(d.Hours()/24)))
}
