//go:build linux

package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDetailHopLossInLab is issue 12's journey in the lab: a router that rate-limits its
// ICMP answers (r1, ttl 1) and, later, a router that loses packets on the way in (r2,
// ttl 2). The drill-down's per-hop table puts the rate limit on ttl 1 only ("~") and the
// path loss from ttl 2 on ("!"). (Outages in the timeline: tui's model tests.)
func TestDetailHopLossInLab(t *testing.T) {
	needRoot(t)
	cfg := "pops: [a, b]\nrouters:\n  - {name: r1, asn: 64701, icmp_loss: 90%}\n  - {name: r2, asn: 64702}\n" +
		"links:\n  - {pops: [a, b], rtt: 20ms, via: [r1, r2]}\n"
	name, file := labConfig(t, "d", cfg)
	p := newTmuxPane(t, fmt.Sprintf("exec env NO_COLOR=1 XDG_CONFIG_HOME=%s MESHTOP_CONFIG= %s lab --config %s --name %s --no-scenario --interval 2s --traceroute-interval 2s --count 3",
		emptyConfigHome, meshtopBin, file, name))
	screen := func() string { return p.tmux("capture-pane", "-p", "-t", "mt") }
	waitScreen := func(d time.Duration, what string, ok func(string) bool) string {
		t.Helper()
		var s string
		t.Cleanup(func() {
			if t.Failed() && s != "" {
				t.Logf("last screen while waiting for %s:\n%s", what, s)
			}
		})
		waitFor(t, d, what, func() bool { s = screen(); return ok(s) })
		return s
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
	waitScreen(60*time.Second, "the grid", has("src\\dst"))
	p.tmux("send-keys", "-t", "mt", "Enter") // the cursor starts on a→b
	waitScreen(20*time.Second, "the drill-down", has("a ⇄ b", "hops "))

	// 1. r1 rate-limits: ttl 1 loses, nothing after it does.
	ttl1 := regexp.MustCompile(`(?m)^\s+1 \S+\s+\d+% [▲]?~`)
	waitScreen(90*time.Second, "rate limiting on ttl 1", func(s string) bool {
		return ttl1.MatchString(s) && strings.Contains(s, "~ ICMP rate limit, not path loss") && !strings.Contains(s, "! path loss")
	})
	// 2. r2 loses 30% of what enters it: path loss from ttl 2 on, ttl 1 still a rate limit.
	meshtop(t, "lab", "router", "r2", "--loss", "30%", "--name", name)
	ttl2 := regexp.MustCompile(`(?m)^\s+2 \S+\s+\d+% [▲]?!`)
	s := waitScreen(120*time.Second, "path loss from ttl 2", func(s string) bool {
		return ttl2.MatchString(s) && ttl1.MatchString(s) && strings.Contains(s, "! path loss from ttl 2")
	})
	t.Log("\n" + s) // shown with -v or on failure
	p.tmux("send-keys", "-t", "mt", "q")
	waitFor(t, 30*time.Second, "meshtop lab gone", p.dead)
}
