//go:build linux

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestOutageShowsWithinAnInterval is issue 18's lab test: 4 PoPs, `--count 5
// --interval 10s --traceroute-interval 10s`, and `lab set a b --loss 100%`. The a→b
// cell reads FAIL within interval + test + reply wait (10 s + 5 s + 3 s) of the set;
// meanwhile no other pair of a's or b's rows goes stale, and the status bar never says
// the sweeps are behind. (The traceroutes a→b and b→a find no destination: a few seconds
// each with meshtop's agent; upstream's half minute of silent TTLs is emulated by the
// live package's tests, TestDeadTraceHoldsBackOnlyItself.)
func TestOutageShowsWithinAnInterval(t *testing.T) {
	needRoot(t)
	const (
		interval  = 10 * time.Second
		test      = 5 * time.Second // --count 5, a probe a second
		replyWait = 3 * time.Second // the lab agents' default --reply-wait
		// The screen is read every 200 ms and redraws within 100 ms of a result.
		slack = 2 * time.Second
		// Five ping and trace sweeps of the outage.
		watch = 50 * time.Second
	)
	name, file := labConfig(t, "o", "pops: [a, b, c, d]\ndefault: {rtt: 20ms}\n")
	p := newTmuxPane(t, fmt.Sprintf("exec env NO_COLOR=1 XDG_CONFIG_HOME=%s MESHTOP_CONFIG= %s lab --config %s --name %s --no-scenario --count 5 --interval %s --traceroute-interval %s",
		emptyConfigHome, meshtopBin, file, name, interval, interval))
	var last string
	t.Cleanup(func() {
		if t.Failed() && last != "" {
			t.Logf("last screen:\n%s", last)
		}
	})
	read := func() grid {
		last = p.tmux("capture-pane", "-p", "-t", "mt")
		if strings.Contains(last, "Pane is dead") {
			t.Fatalf("meshtop lab exited:\n%s", last)
		}
		return parseGrid(last)
	}
	pops := []string{"a", "b", "c", "d"}
	measured := func(g grid) bool {
		for _, s := range pops {
			for _, d := range pops {
				if s != d && !g.cell(s, d).number() {
					return false
				}
			}
		}
		return true
	}
	waitFor(t, 90*time.Second, "every pair measured", func() bool { return measured(read()) })

	from := time.Now()
	meshtop(t, "lab", "set", "a", "b", "--loss", "100%", "--name", name)
	to := time.Now()
	var failAt time.Time
	for time.Since(to) < watch || failAt.IsZero() {
		if time.Since(to) > watch+interval {
			t.Fatalf("a→b never read FAIL after its path lost every packet (set at %s)", from.Format("15:04:05.0"))
		}
		g := read()
		now := time.Now()
		if c := g.cell("a", "b"); failAt.IsZero() && strings.HasPrefix(c.text, "FAIL") {
			failAt = now
		}
		if strings.Contains(g.screen, "behind: ") {
			t.Fatalf("%s after the set the status bar says the sweeps are behind", now.Sub(to).Round(time.Second))
		}
		for _, s := range pops {
			for _, d := range pops {
				if s == d || (s == "a" && d == "b") || (s == "b" && d == "a") {
					continue
				}
				if c := g.cell(s, d); !c.number() || c.stale() {
					t.Fatalf("%s after the set %s→%s reads %q: a healthy pair is not fresh", now.Sub(to).Round(time.Second), s, d, c.text)
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	took := failAt.Sub(to)
	t.Logf("a→b read FAIL %s after the loss was set (bound %s); no other pair went stale, no behind, for %s", took.Round(100*time.Millisecond),
		interval+test+replyWait, watch)
	if took > interval+test+replyWait+slack {
		t.Errorf("a→b read FAIL %s after the loss was set: want within interval + test + reply wait (%s)", took.Round(100*time.Millisecond), interval+test+replyWait)
	}
	p.tmux("send-keys", "-t", "mt", "q")
	waitFor(t, 30*time.Second, "meshtop lab gone", p.dead)
}

// grid is the live grid as read from the screen: its cells by row and column label,
// and the whole screen.
type grid struct {
	cells  map[[2]string]gridCell
	screen string
}

// gridCell is one cell's text (value and mark) as shown.
type gridCell struct{ text string }

func (g grid) cell(src, dst string) gridCell { return g.cells[[2]string{src, dst}] }

// number: the cell shows a measured value (FAIL included), not "no data".
func (c gridCell) number() bool {
	f := strings.Fields(c.text)
	return len(f) > 0 && f[0] != "·" && f[0] != "-"
}

// stale: the cell carries the grid's mark for a value older than two intervals.
func (c gridCell) stale() bool { return strings.Contains(c.text, "?") }

// parseGrid reads the grid from a screen: column labels are right-aligned over their
// cells, a cell's text ends under its label's last letter, and its mark follows.
func parseGrid(screen string) grid {
	g := grid{cells: map[[2]string]gridCell{}, screen: screen}
	lines := strings.Split(screen, "\n")
	hdr := -1
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), `src\dst`) {
			hdr = i
			break
		}
	}
	if hdr < 0 {
		return g
	}
	head := []rune(strings.Split(lines[hdr], "│")[0])
	type col struct {
		name string
		end  int // just after the label's last rune
	}
	var cols []col
	for i := len(`src\dst`); i < len(head); i++ {
		if head[i] != ' ' && (i == 0 || head[i-1] == ' ') {
			j := i
			for j < len(head) && head[j] != ' ' {
				j++
			}
			cols = append(cols, col{string(head[i:j]), j})
			i = j
		}
	}
	if len(cols) < 2 {
		return g
	}
	cellW := cols[1].end - cols[0].end
	for _, l := range lines[hdr+1:] {
		row := []rune(strings.Split(l, "│")[0])
		name := strings.Fields(string(row))
		if len(name) == 0 {
			break
		}
		for _, c := range cols {
			lo, hi := max(c.end-cellW+1, 0), min(c.end+1, len(row))
			if lo < hi {
				g.cells[[2]string{name[0], c.name}] = gridCell{strings.TrimSpace(string(row[lo:hi]))}
			}
		}
	}
	return g
}
