//go:build linux

package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDetailTimelineInLab is the rest of issue 12's "done means": in the lab, a route
// change (`lab set --via`) and a short outage (`lab set --loss 100%`, then back) appear
// in the drill-down's timeline at the times the test made them, within a sweep. Short
// intervals and a short --reply-wait keep a failing ping (and so the journey) short.
func TestDetailTimelineInLab(t *testing.T) {
	needRoot(t)
	const iv = 3 * time.Second // --interval and --traceroute-interval
	// A sweep's pass on a path that went silent: a ping of 3 probes a second apart plus
	// the --reply-wait, then a traceroute through 30 silent ttls of --hop-timeout each.
	// An event is told by the first test after it, at most an interval and such a pass
	// later.
	const ping = 2*time.Second + 500*time.Millisecond
	const pass = ping + 30*100*time.Millisecond + 500*time.Millisecond
	cfg := "pops: [a, b]\nrouters:\n  - {name: r1, asn: 64701}\n  - {name: r2, asn: 64702}\n" +
		"links:\n  - {pops: [a, b], rtt: 20ms, via: [r1]}\n"
	name, file := labConfig(t, "t", cfg)
	p := newTmuxPane(t, fmt.Sprintf("exec env TZ=UTC NO_COLOR=1 XDG_CONFIG_HOME=%s MESHTOP_CONFIG= %s lab --config %s --name %s --no-scenario --interval %s --traceroute-interval %s --count 3 --reply-wait 500ms --hop-timeout 100ms",
		emptyConfigHome, meshtopBin, file, name, iv, iv))
	// Tall enough that the timeline is on the screen under the charts and hops.
	p.tmux("resize-window", "-t", "mt", "-x", "160", "-y", "90")
	screen := func() string { return p.tmux("capture-pane", "-p", "-t", "mt") }
	var last string
	t.Cleanup(func() {
		if t.Failed() && last != "" {
			t.Logf("last screen:\n%s", last)
		}
	})
	waitScreen := func(d time.Duration, what string, ok func(string) bool) string {
		t.Helper()
		waitFor(t, d, what, func() bool {
			last = screen()
			if strings.Contains(last, "Pane is dead") {
				t.Fatalf("meshtop lab exited while waiting for %s", what)
			}
			return ok(last)
		})
		return last
	}
	has := func(want ...string) func(string) bool {
		return func(s string) bool {
			for _, w := range want {
				if !strings.Contains(s, w) {
					return false
				}
			}
			return true
		}
	}
	// clock reads a timeline time (UTC, today: the test made it seconds ago).
	clock := func(hms string) time.Time {
		c, err := time.Parse("15:04:05", hms)
		if err != nil {
			t.Fatalf("timeline time %q: %v", hms, err)
		}
		n := time.Now().UTC()
		at := time.Date(n.Year(), n.Month(), n.Day(), c.Hour(), c.Minute(), c.Second(), 0, time.UTC)
		if at.After(n.Add(time.Hour)) { // across midnight
			at = at.AddDate(0, 0, -1)
		}
		return at
	}
	// within checks that the screen's time falls between the change (made between from
	// and to) and sweeps later. Seconds on the screen are truncated: a second of slack
	// before, and early more for a test that began before the change (a test's time is
	// its start): the first answered test after an outage may have lost only its first
	// probes, so it can start up to a ping's length before the path came back.
	within := func(what, hms string, from, to time.Time, early time.Duration, sweeps int) {
		t.Helper()
		at := clock(hms)
		lo, hi := from.Add(-time.Second-early), to.Add(time.Duration(sweeps)*(iv+pass))
		if at.Before(lo) || at.After(hi) {
			t.Errorf("%s at %s, want between %s and %s (the change was made %s–%s)", what, hms,
				lo.Format("15:04:05"), hi.Format("15:04:05"), from.Format("15:04:05.0"), to.Format("15:04:05.0"))
		}
	}
	set := func(args ...string) (from, to time.Time) {
		from = time.Now()
		meshtop(t, append(append([]string{"lab", "set", "a", "b"}, args...), "--name", name)...)
		return from, time.Now()
	}

	waitScreen(60*time.Second, "the grid", has("src\\dst"))
	p.tmux("send-keys", "-t", "mt", "Enter") // the cursor starts on a real pair: a→b or b→a
	if s := waitScreen(30*time.Second, "the drill-down with a trace", has("⇄", "reached", "route changes: none")); strings.Contains(s, "b ⇄ a") {
		p.tmux("send-keys", "-t", "mt", "x") // the reverse direction: a→b on the left
	}
	waitScreen(30*time.Second, "a→b's drill-down", has("a ⇄ b", "reached"))

	// 1. The route changes: r2 instead of r1. A route change is confirmed by the trace
	// after the first one on the new path, so allow two trace sweeps.
	from, to := set("--via", "r2")
	routeRe := regexp.MustCompile(`(?m)^(\d\d:\d\d:\d\d)  ◆ route change via \S+`)
	s := waitScreen(40*time.Second, "the route change in the timeline", routeRe.MatchString)
	within("route change", routeRe.FindStringSubmatch(s)[1], from, to, time.Second, 2)

	// 2. An outage: everything a→b is lost, for at least two failed tests, then back.
	outFrom, outTo := set("--loss", "100%")
	ongoing := regexp.MustCompile(`(?m)^(\d\d:\d\d:\d\d)  ✕ outage ongoing, \S+ so far \((\d+) tests failed\)`)
	s = waitScreen(40*time.Second, "an ongoing outage of two tests or more", ongoing.MatchString)
	within("outage start (ongoing)", ongoing.FindStringSubmatch(s)[1], outFrom, outTo, 0, 1)
	backFrom, backTo := set("--loss", "0%")
	over := regexp.MustCompile(`(?m)^(\d\d:\d\d:\d\d)  ✕ outage (\S+) \((\d+) tests failed\), until (\d\d:\d\d:\d\d)`)
	s = waitScreen(40*time.Second, "the outage over, with its end", over.MatchString)
	m := over.FindStringSubmatch(s)
	within("outage start", m[1], outFrom, outTo, 0, 1)
	within("outage end", m[4], backFrom, backTo, ping, 1)
	if n, _ := strconv.Atoi(m[3]); n < 2 {
		t.Errorf("outage of %d tests, want 2 or more", n)
	}
	if d, err := time.ParseDuration(m[2]); err == nil && (d < 2*time.Second || d > backTo.Sub(outFrom)+iv+pass) {
		t.Errorf("outage lasted %s on the screen; the test made it last %s", d, backFrom.Sub(outTo).Round(time.Second))
	}
	t.Log("\n" + s) // shown with -v or on failure
	p.tmux("send-keys", "-t", "mt", "q")
	waitFor(t, 30*time.Second, "meshtop lab gone", p.dead)
}
