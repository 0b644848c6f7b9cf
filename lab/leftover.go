//go:build linux

package lab

import (
	"fmt"
	"strings"
)

// Leftover is what an earlier lab of one name left on this machine: its state, its
// namespaces, and whether something still runs it.
type Leftover struct {
	Name  string
	State *State   // nil when the state directory is gone or damaged
	Netns []string // namespaces named after the lab
	// Running is true when the lab is in use: the `meshtop lab` that made it is alive,
	// or, for a lab made by `lab up` (no owner), its forwarder still runs.
	Running bool
}

// FindLeftover looks for the named lab in stateDir and among the namespaces. It returns
// nil when nothing of it is there.
func FindLeftover(stateDir, name string) (*Leftover, error) {
	if stateDir == "" {
		stateDir = DefaultStateDir
	}
	lo := &Leftover{Name: name}
	if s, err := LoadState(stateDir, name); err == nil {
		lo.State = s
	}
	nss, err := listNetns()
	if err != nil {
		return nil, err
	}
	for _, n := range nss {
		if strings.HasPrefix(n, NetnsPrefix(name)) {
			lo.Netns = append(lo.Netns, n)
		}
	}
	if lo.State == nil && len(lo.Netns) == 0 {
		return nil, nil
	}
	if s := lo.State; s != nil {
		if s.Owner > 0 {
			lo.Running = processAlive(s.Owner, "lab")
		} else {
			lo.Running = processAlive(s.ForwarderPID, "lab\x00run\x00", "\x00"+name+"\x00")
		}
	}
	return lo, nil
}

// String says what is left, for a log line.
func (lo *Leftover) String() string {
	var parts []string
	if lo.State != nil {
		parts = append(parts, "state "+lo.State.Dir)
		if lo.State.Owner > 0 {
			parts = append(parts, fmt.Sprintf("made by meshtop lab pid %d, which is gone", lo.State.Owner))
		}
	}
	if len(lo.Netns) > 0 {
		parts = append(parts, fmt.Sprintf("%d namespaces %s*", len(lo.Netns), NetnsPrefix(lo.Name)))
	}
	return strings.Join(parts, ", ")
}
