//go:build linux

package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/meshtop/meshtop/lab"
)

// tmuxPane runs one command in a detached tmux server of its own (unique -L socket),
// as a terminal would.
type tmuxPane struct {
	t      *testing.T
	socket string
}

func newTmuxPane(t *testing.T, command string) *tmuxPane {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tmux is not installed (scripts/test.sh installs it)")
		}
		t.Skip("tmux is not installed")
	}
	p := &tmuxPane{t: t, socket: fmt.Sprintf("mt-e2e-%d-%d", os.Getpid(), time.Now().UnixNano())}
	p.tmux("new-session", "-d", "-s", "mt", "-x", "160", "-y", "48", command)
	p.tmux("set-option", "-t", "mt", "remain-on-exit", "on")
	t.Cleanup(func() {
		_ = exec.Command("tmux", "-L", p.socket, "kill-server").Run()
		_ = os.Remove(filepath.Join(os.TempDir(), fmt.Sprintf("tmux-%d", os.Getuid()), p.socket))
	})
	return p
}

func (p *tmuxPane) tmux(args ...string) string {
	p.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", p.socket}, args...)...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (p *tmuxPane) pid() int {
	n, err := strconv.Atoi(p.tmux("display-message", "-p", "-t", "mt", "#{pane_pid}"))
	if err != nil {
		p.t.Fatal(err)
	}
	return n
}

func (p *tmuxPane) dead() bool {
	return p.tmux("display-message", "-p", "-t", "mt", "#{pane_dead}") == "1"
}

// waitFor polls cond for up to d (a bound, not a measurement).
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// labOwnedBy reports whether lab name is up, made by the `meshtop lab` process pid,
// with its forwarder and agents running.
func labOwnedBy(name string, pid int) bool {
	s, err := lab.LoadState(lab.DefaultStateDir, name)
	if err != nil || s.Owner != pid {
		return false
	}
	if _, err := os.Stat(s.Inventory()); err != nil {
		return false // inventory is written last, once every agent answers
	}
	return true
}

// TestLabCleansUpAfterCrashAndSIGHUP is issue 10 item 3, as a user meets it: a
// `meshtop lab` killed hard leaves its lab behind; the next `meshtop lab` of that name
// removes the leftover and builds afresh; SIGHUP (an SSH drop, a closed window, tmux
// kill-session) tears it down like q does, and nothing named mt-NAME- remains.
func TestLabCleansUpAfterCrashAndSIGHUP(t *testing.T) {
	needRoot(t)
	name := fmt.Sprintf("h%d", rand.IntN(10_000_000))
	file := filepath.Join(t.TempDir(), "lab.yaml")
	if err := os.WriteFile(file, []byte("pops: [a, b]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			logLab(t, name)
		}
		if _, err := meshtopErr("lab", "down", "--name", name); err != nil {
			t.Errorf("lab down: %v", err)
		}
	})
	command := fmt.Sprintf("exec env XDG_CONFIG_HOME=%s MESHTOP_CONFIG= %s lab --config %s --name %s --no-scenario",
		emptyConfigHome, meshtopBin, file, name)

	// 1. A crash: SIGKILL leaves namespaces, forwarder and agents up.
	first := newTmuxPane(t, command)
	pid1 := first.pid()
	waitFor(t, 30*time.Second, "first lab up", func() bool { return labOwnedBy(name, pid1) })
	if err := syscall.Kill(pid1, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "first meshtop lab gone", first.dead)
	if lo, err := lab.FindLeftover(lab.DefaultStateDir, name); err != nil || lo == nil || lo.Running || len(lo.Netns) != 2 {
		t.Fatalf("after SIGKILL: leftover %+v, %v; want a stale lab with 2 namespaces", lo, err)
	}

	// 2. The next meshtop lab removes the leftover itself and builds the lab again.
	second := newTmuxPane(t, command)
	pid2 := second.pid()
	waitFor(t, 40*time.Second, "second lab up over the leftover", func() bool { return labOwnedBy(name, pid2) })
	if second.dead() {
		t.Fatalf("second meshtop lab exited: %s", second.tmux("capture-pane", "-p", "-t", "mt"))
	}

	// 3. SIGHUP: torn down, nothing left.
	if err := syscall.Kill(pid2, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "meshtop lab exits after SIGHUP", second.dead)
	assertGone(t, name)
	if n, _ := processesOf(name); n > 0 {
		t.Errorf("%d processes of lab %s still run after SIGHUP", n, name)
	}
}

// processesOf counts running processes whose command line names lab name's state
// directory or namespaces (its forwarder and agents).
func processesOf(name string) (int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		cl := string(b)
		if strings.Contains(cl, "meshtop") && (strings.Contains(cl, "\x00"+name+"\x00") || strings.Contains(cl, "/"+name+"/") || strings.Contains(cl, lab.NetnsPrefix(name))) &&
			!strings.Contains(cl, "tmux") {
			n++
		}
	}
	return n, nil
}
