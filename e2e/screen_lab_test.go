//go:build linux

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestPairChartUnderTheGridInLab is issue 22's journey on the real binary in the lab, at
// 160x48: the grid leaves room, so the selected pair's chart (both directions: RTT band,
// loss, jitter, the final hop's ttl) and timeline sit under it; loss made on the link
// (`lab set --loss`) shows on the chart's loss row; the chart follows the cursor.
func TestPairChartUnderTheGridInLab(t *testing.T) {
	needRoot(t)
	cfg := "pops: [a, b, c]\ndefault: {rtt: 10ms}\nrouters:\n  - {name: r1, asn: 64701}\n" +
		"links:\n  - {pops: [a, b], rtt: 20ms, via: [r1]}\n"
	name, file := labConfig(t, "s", cfg)
	p := newTmuxPane(t, fmt.Sprintf("exec env NO_COLOR=1 XDG_CONFIG_HOME=%s MESHTOP_CONFIG= %s lab --config %s --name %s --no-scenario --interval 2s --traceroute-interval 2s --count 3 --reply-wait 500ms --hop-timeout 100ms",
		emptyConfigHome, meshtopBin, file, name))
	var last string
	t.Cleanup(func() {
		if t.Failed() && last != "" {
			t.Logf("last screen:\n%s", last)
		}
	})
	wait := func(d time.Duration, what string, ok func(s string) bool) string {
		t.Helper()
		waitFor(t, d, what, func() bool {
			last = p.tmux("capture-pane", "-p", "-t", "mt")
			if strings.Contains(last, "Pane is dead") {
				t.Fatalf("meshtop lab exited while waiting for %s", what)
			}
			return ok(last)
		})
		return last
	}
	// band splits the screen at the rule under the grid: what is above, the chart band
	// below (up to the rule over the events), each line cut into its two directions.
	band := func(s string) (above []string, left, right []string) {
		in := 0
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, "────") {
				in++
				continue
			}
			switch in {
			case 0:
				above = append(above, l)
			case 1:
				lr := strings.SplitN(l, " │ ", 2)
				left = append(left, lr[0])
				if len(lr) == 2 {
					right = append(right, lr[1])
				}
			}
		}
		return above, left, right
	}
	line := func(lines []string, prefix string) string {
		for _, l := range lines {
			if strings.HasPrefix(strings.TrimSpace(l), prefix) {
				return l
			}
		}
		return ""
	}
	chartOf := func(src, dst string) func(string) bool {
		return func(s string) bool {
			above, left, right := band(s)
			grid := strings.Join(above, "\n")
			return strings.Contains(grid, "\na ") && strings.Contains(grid, "\nc ") &&
				len(left) > 10 && strings.HasPrefix(strings.TrimSpace(left[0]), src+" → "+dst) &&
				len(right) > 10 && strings.HasPrefix(strings.TrimSpace(right[0]), dst+" → "+src) &&
				strings.Contains(line(left, "RTT min"), "ms") && line(left, "ttl┤") != "" && line(right, "ttl┤") != ""
		}
	}

	// The cursor starts on a→b; its chart and its reverse's are under the grid, with the
	// path's ttl (r1, then b: 2).
	s := wait(90*time.Second, "a→b's chart under the grid", chartOf("a", "b"))
	if _, left, _ := band(s); !strings.Contains(line(left, "ttl┤"), "2") || line(left, "timeline") == "" {
		t.Fatalf("a→b: no ttl 2 or no timeline in the chart:\n%s", s)
	}

	// Loss on a-b shows on the chart's loss row, within a few sweeps.
	if out, err := meshtopErr("lab", "set", "a", "b", "--name", name, "--loss", "30%"); err != nil {
		t.Fatalf("lab set: %v\n%s", err, out)
	}
	wait(90*time.Second, "loss on a→b's loss row", func(s string) bool {
		_, left, _ := band(s)
		row := line(left, "loss┤")
		_, marks, _ := strings.Cut(row, "┤")
		return strings.ContainsAny(marks, "▁▂▃▄▅▆▇█")
	})

	// The chart follows the cursor: right to a→c, down to b→c.
	p.tmux("send-keys", "-t", "mt", "Right")
	wait(30*time.Second, "a→c's chart", chartOf("a", "c"))
	p.tmux("send-keys", "-t", "mt", "Down")
	s = wait(30*time.Second, "b→c's chart", chartOf("b", "c"))
	t.Log("\n" + s) // shown with -v or on failure
	p.tmux("send-keys", "-t", "mt", "q")
	waitFor(t, 30*time.Second, "meshtop lab gone", p.dead)
}
