//go:build linux

package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultStateDir holds one directory per running lab (tmpfs: gone after a reboot, as
// are the namespaces it describes).
const DefaultStateDir = "/run/meshtop-lab"

// Files in a lab's state directory.
const (
	stateFile     = "state.json"
	inventoryFile = "inventory.yaml"
	mmdbFile      = "asn.mmdb"
	secretFile    = "secret"
	controlFile   = "control.sock"
	forwarderLog  = "forwarder.log"
)

// State is what a lab's state directory records about it: enough for `lab down` to
// remove everything and for `lab run`, `lab set` and `lab status` to find their parts.
type State struct {
	Dir          string    `json:"dir"`
	Created      time.Time `json:"created"`
	Config       Config    `json:"config"`
	Layout       Layout    `json:"layout"`
	ForwarderPID int       `json:"forwarder_pid,omitempty"`
	// Owner is the `meshtop lab` process that runs the lab and tears it down when it
	// ends (0 for `lab up`): while it lives the lab is in use; once it is gone without
	// tearing down (a crash, SIGKILL), the lab is stale and the next `meshtop lab`
	// removes it.
	Owner     int            `json:"owner_pid,omitempty"`
	AgentPIDs map[string]int `json:"agent_pids,omitempty"` // by PoP
}

// Inventory is the path of the lab's meshtop inventory file.
func (s *State) Inventory() string { return filepath.Join(s.Dir, inventoryFile) }

// MMDB is the path of the lab's ASN database.
func (s *State) MMDB() string { return filepath.Join(s.Dir, mmdbFile) }

// Control is the path of the forwarder's control socket.
func (s *State) Control() string { return filepath.Join(s.Dir, controlFile) }

// SecretFile holds the agents' shared secret (mode 0600).
func (s *State) SecretFile() string { return filepath.Join(s.Dir, secretFile) }

// AgentLog is the log file of PoP pop's agent.
func (s *State) AgentLog(pop string) string { return filepath.Join(s.Dir, "agent-"+pop+".log") }

// ForwarderLog is the forwarder's log file.
func (s *State) ForwarderLog() string { return filepath.Join(s.Dir, forwarderLog) }

func (s *State) save() error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(s.Dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write lab state: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(s.Dir, stateFile)); err != nil {
		return fmt.Errorf("write lab state: %w", err)
	}
	return nil
}

// LoadState reads the state of the named lab from stateDir.
func LoadState(stateDir, name string) (*State, error) {
	dir := filepath.Join(stateDir, name)
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no lab %q is running (no %s); start one with `meshtop lab up`", name, filepath.Join(dir, stateFile))
	}
	if err != nil {
		return nil, fmt.Errorf("read state of lab %s: %w", name, err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("read state of lab %s: %s is damaged (%v); remove the lab with `meshtop lab down --name %s`", name, filepath.Join(dir, stateFile), err, name)
	}
	s.Dir = dir
	return &s, nil
}

// Labs lists the names of labs that have a state directory.
func Labs(stateDir string) ([]string, error) {
	ents, err := os.ReadDir(stateDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list labs: %w", err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && labNameRe.MatchString(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// lockStateDir serialises lab up and down across processes, so two labs started at once
// never pick the same addresses.
func lockStateDir(stateDir string) (unlock func(), err error) {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, fmt.Errorf("create lab state directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(stateDir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock lab state directory: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock lab state directory: %w", err)
	}
	return func() { unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
}

// processAlive reports whether pid runs and is a meshtop process (its command line
// holds every string of want), so that a pid reused by an unrelated process after a crash is
// never signalled.
func processAlive(pid int, want ...string) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	if st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
		// A zombie (state Z) has exited; only its parent has not reaped it yet.
		if i := strings.LastIndexByte(string(st), ')'); i > 0 && i+2 < len(st) && st[i+2] == 'Z' {
			return false
		}
	}
	for _, w := range want {
		if !strings.Contains(string(b), w) {
			return false
		}
	}
	return true
}

// killAndWait sends SIGTERM, then SIGKILL after grace, until the process is gone.
func killAndWait(pid int, grace time.Duration, want ...string) {
	if !processAlive(pid, want...) {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(grace)
	for processAlive(pid, want...) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			deadline = time.Now().Add(time.Hour)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
