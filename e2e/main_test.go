//go:build linux

// Package e2e runs meshtop end to end on a lab: real network namespaces, real agents,
// the Go WAN emulator, and the meshtop binary as a user runs it. The tests need root;
// they skip without it unless CI is set, where they must run.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// meshtopBin is the binary under test, built once by TestMain.
var meshtopBin string

// emptyConfigHome is an empty XDG_CONFIG_HOME for the binary under test.
var emptyConfigHome string

// canRun says whether this process may build labs (root).
var canRun = os.Geteuid() == 0

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if !canRun && os.Getenv("CI") == "" {
		return m.Run() // every test skips
	}
	dir, err := os.MkdirTemp("", "meshtop-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	meshtopBin = filepath.Join(dir, "meshtop")
	emptyConfigHome = filepath.Join(dir, "config")
	if err := os.Mkdir(emptyConfigHome, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	build := exec.Command("go", "build", "-o", meshtopBin, "../cmd/meshtop")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build meshtop:", err)
		return 1
	}
	return m.Run()
}

// needRoot skips a test that needs root, except under CI where it must run (and fails
// if it cannot).
func needRoot(t *testing.T) {
	t.Helper()
	if canRun {
		return
	}
	if os.Getenv("CI") == "" {
		t.Skip("needs root (network namespaces, TUN devices, raw ICMP); runs in CI")
	}
	t.Fatal("CI is set but the e2e tests do not run as root: they need root to build labs")
}
