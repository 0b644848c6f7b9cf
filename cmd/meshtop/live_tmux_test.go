package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/meshtop/meshtop/probe/scoutertest"
)

// tmuxSession drives the built meshtop binary in a detached tmux server of its own, the
// way a person at a terminal would: keys in, screen out.
type tmuxSession struct {
	t      *testing.T
	socket string
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "meshtop")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build meshtop: %v\n%s", err, out)
	}
	return bin
}

func newTmux(t *testing.T, w, h int, command string) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tmux is not installed (scripts/test.sh installs it)")
		}
		t.Skip("tmux is not installed")
	}
	s := &tmuxSession{t: t, socket: fmt.Sprintf("mt-test-%d-%d", os.Getpid(), time.Now().UnixNano())}
	s.run("new-session", "-d", "-s", "mt", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), command)
	s.run("set-option", "-t", "mt", "remain-on-exit", "on")
	t.Cleanup(func() {
		_ = exec.Command("tmux", "-L", s.socket, "kill-server").Run()
		// A server that died leaves its socket behind.
		_ = os.Remove(filepath.Join(os.TempDir(), fmt.Sprintf("tmux-%d", os.Getuid()), s.socket))
	})
	return s
}

func (s *tmuxSession) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (s *tmuxSession) screen() string { return s.run("capture-pane", "-p", "-t", "mt") }

func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	for _, k := range keys {
		s.run("send-keys", "-t", "mt", k)
		// Esc followed at once by a key reads as Alt+key; a person types slower.
		time.Sleep(50 * time.Millisecond)
	}
}

// waitFor polls the screen until it contains every string, for at most 20 s.
func (s *tmuxSession) waitFor(want ...string) string {
	s.t.Helper()
	return s.waitForWithout("", want...)
}

// waitForWithout waits for a screen that shows every want and not without ("" for no
// such condition): a screen passing through a state, e.g. "loading", must leave it.
func (s *tmuxSession) waitForWithout(without string, want ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var scr string
	for time.Now().Before(deadline) {
		scr = s.screen()
		ok := without == "" || !strings.Contains(scr, without)
		for _, w := range want {
			ok = ok && strings.Contains(scr, w)
		}
		if ok {
			return scr
		}
		time.Sleep(50 * time.Millisecond)
	}
	if without != "" {
		s.t.Fatalf("screen never showed %q without %q; last screen:\n%s", want, without, scr)
	}
	s.t.Fatalf("screen never showed %q; last screen:\n%s", want, scr)
	return ""
}

// waitQuit checks that meshtop quit cleanly after q: the wrapper shell prints its exit
// status and exits with it, which tmux reports as "Pane is dead (status N, …)". tmux 3.3a (Debian 12's) sometimes dies itself while a Bubble Tea v2 program
// restores the terminal, taking the pane's shell with it; the status is lost then, and
// all that can be checked is that no meshtop process is left.
func (s *tmuxSession) waitQuit(bin string) {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		out, err := exec.Command("tmux", "-L", s.socket, "capture-pane", "-p", "-t", "mt").CombinedOutput()
		scr := string(out)
		switch {
		case err == nil && (strings.Contains(scr, "meshtop-exit=0") || strings.Contains(scr, "Pane is dead (status 0,")):
			return
		case err == nil && (strings.Contains(scr, "meshtop-exit=") || strings.Contains(scr, "Pane is dead")):
			s.t.Fatalf("meshtop did not exit cleanly:\n%s", scr)
		case err != nil && exec.Command("tmux", "-L", s.socket, "has-session").Run() != nil:
			if exec.Command("pgrep", "-f", "^"+bin+" ").Run() == nil {
				s.t.Fatal("the tmux server died and meshtop is still running")
			}
			s.t.Log("the tmux server exited as meshtop quit (tmux 3.3a); meshtop is gone, its status unknown")
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("meshtop did not quit on q:\n%s", s.screen())
}

func liveFleet(t *testing.T) string {
	inv := writeInventory(t,
		fakeAgent{"ams", scoutertest.Config{RTT: fixedRTT(20)}},
		fakeAgent{"jfk", scoutertest.Config{RTT: fixedRTT(95)}},
		fakeAgent{"sjc", scoutertest.Config{RTT: fixedRTT(140)}},
		fakeAgent{"syd", scoutertest.Config{RTT: fixedRTT(420)}},
	)
	return inv
}

func TestLiveInTmux(t *testing.T) {
	bin := buildBinary(t)
	inv := liveFleet(t)
	cmd := fmt.Sprintf("env SCOUTER_SECRET=%s XDG_CONFIG_HOME=%s %s live --inventory %s --interval 2s --traceroute-interval 2s --count 1; e=$?; echo meshtop-exit=$e; exit $e",
		testSecret, t.TempDir(), bin, inv)
	s := newTmux(t, 100, 30, cmd)

	scr := s.waitFor("src\\dst", "syd", "420", "last sweep")
	if !strings.Contains(scr, "Health (last)") {
		t.Fatalf("no legend (health is the default view):\n%s", scr)
	}
	// The cursor starts on the first real pair, ams→jfk; drill down: chart and hop
	// table of both directions.
	s.keys("Enter")
	s.waitFor("ams ⇄ jfk", "ams → jfk", "jfk → ams", "RTT min", "┤", "ttl address", "AS path")
	s.keys("Escape")
	s.waitFor("src\\dst")
	s.keys("m")
	s.waitFor("Latency (ms, last)")
	s.keys("m")
	s.waitFor("Jitter % (%, last)")

	// A small terminal, then back: nothing wider than the screen, the grid still there.
	s.run("resize-window", "-t", "mt", "-x", "40", "-y", "12")
	scr = s.waitFor("src\\dst")
	for i, l := range strings.Split(scr, "\n") {
		if w := ansi.StringWidth(l); w > 40 {
			t.Errorf("40x12: line %d is %d wide: %q", i, w, l)
		}
	}
	s.run("resize-window", "-t", "mt", "-x", "100", "-y", "30")
	s.waitFor("src\\dst", "syd")

	// q quits cleanly: the shell prints meshtop's exit status once the UI is gone.
	s.keys("q")
	s.waitQuit(bin)
}

func TestLiveInTmuxNoColor(t *testing.T) {
	bin := buildBinary(t)
	inv := liveFleet(t)
	cmd := fmt.Sprintf("env NO_COLOR=1 SCOUTER_SECRET=%s XDG_CONFIG_HOME=%s %s live --inventory %s --interval 2s --count 1; e=$?; echo meshtop-exit=$e; exit $e",
		testSecret, t.TempDir(), bin, inv)
	s := newTmux(t, 80, 24, cmd)
	s.waitFor("src\\dst", "420+")
	raw := s.run("capture-pane", "-p", "-e", "-t", "mt")
	for _, sgr := range []string{"38;2;", "48;2;", "38;5;", "48;5;", "[31m", "[41m", "[42m"} {
		if strings.Contains(raw, sgr) {
			t.Fatalf("NO_COLOR screen carries colour %q:\n%q", sgr, raw)
		}
	}
	// Classes readable without colour: syd's 420 ms is yellow, shown as "+".
	s.keys("q")
	s.waitQuit(bin)
}

// labelInventory adds a region label to each agent of an inventory written by
// writeInventory.
func labelInventory(t *testing.T, path string, region map[string]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	pop := ""
	for _, l := range strings.SplitAfter(string(b), "\n") {
		out.WriteString(l)
		if p, ok := strings.CutPrefix(strings.TrimSpace(l), "pop: "); ok {
			pop = p
		}
		if strings.HasPrefix(strings.TrimSpace(l), "url: ") {
			fmt.Fprintf(&out, "    labels: {region: %s}\n", region[pop])
		}
	}
	if err := os.WriteFile(path, []byte(out.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// The grid uses the space: the selected pair beside the grid and its chart under it at
// 160x48, a side panel at 80x24, a bottom one at 60x30; regions group the grid and
// filter it.
func TestLiveInTmuxPanelAndRegions(t *testing.T) {
	bin := buildBinary(t)
	inv := liveFleet(t)
	labelInventory(t, inv, map[string]string{"ams": "eu", "jfk": "na", "sjc": "na", "syd": "ap"})
	cmd := fmt.Sprintf("env SCOUTER_SECRET=%s XDG_CONFIG_HOME=%s %s live --inventory %s --interval 2s --count 1; e=$?; echo meshtop-exit=$e; exit $e",
		testSecret, t.TempDir(), bin, inv)
	s := newTmux(t, 160, 48, cmd)

	// Regions in the order ap, eu, na, each led by its summary row; the cursor on the
	// first real pair, syd→ams, shown beside the grid with latency, jitter and loss.
	scr := s.waitFor("── ap", "── eu", "── na", "[na]", "│ syd → ams  ap→eu", "latency", "jitter", "loss", "events")
	if strings.Index(scr, "── ap") > strings.Index(scr, "── na") {
		t.Fatalf("regions out of order:\n%s", scr)
	}
	// The grid leaves room: the pair's chart under it, both directions, with its
	// timeline (issue 22; the e2e lab journey looks at it closer).
	s.waitFor("ams → syd", "RTT min", "┤", "timeline")

	// /region=na keeps jfk and sjc.
	s.keys("/")
	s.waitFor("filter: ")
	s.run("send-keys", "-t", "mt", "-l", "region=na")
	s.keys("Enter")
	scr = s.waitFor("filter:\"region=na\"", "2×2")
	if strings.Contains(scr, "\nams ") || strings.Contains(scr, "\nsyd ") {
		t.Fatalf("region filter kept other PoPs:\n%s", scr)
	}
	s.keys("Escape")
	s.waitFor("4×4")
	// R turns grouping off.
	s.keys("R")
	deadline := time.Now().Add(10 * time.Second)
	for strings.Contains(s.screen(), "── eu") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if strings.Contains(s.screen(), "── eu") {
		t.Fatalf("R left regions on:\n%s", s.screen())
	}

	// 80x24: four PoPs still leave room for the panel beside the grid; 60x30 puts it
	// under the grid.
	s.run("resize-window", "-t", "mt", "-x", "80", "-y", "24")
	scr = s.waitFor("src\\dst", "│ events")
	for i, l := range strings.Split(scr, "\n") {
		if w := ansi.StringWidth(l); w > 80 {
			t.Errorf("80x24: line %d is %d wide: %q", i, w, l)
		}
	}
	s.run("resize-window", "-t", "mt", "-x", "60", "-y", "30")
	scr = s.waitFor("src\\dst", "────────", "events")
	for i, l := range strings.Split(scr, "\n") {
		if w := ansi.StringWidth(l); w > 60 {
			t.Errorf("60x30: line %d is %d wide: %q", i, w, l)
		}
	}
	s.keys("q")
	s.waitQuit(bin)
}
