//go:build linux

package lab

import (
	"context"
	"fmt"
	"time"
)

// Status is a running lab as `meshtop lab status` reports it.
type Status struct {
	State          *State         `json:"state"`
	Inventory      string         `json:"inventory"`
	ForwarderAlive bool           `json:"forwarder_alive"`
	Agents         []AgentAlive   `json:"agents"`
	Paths          []PathStatus   `json:"paths,omitempty"` // from the forwarder; empty when it is down
	PathsError     string         `json:"paths_error,omitempty"`
	Routers        []RouterStatus `json:"routers,omitempty"`
	Lateness       Lateness       `json:"lateness"` // of the forwarder's releases so far
}

// AgentAlive says whether a PoP's agent process runs.
type AgentAlive struct {
	Pop   string `json:"pop"`
	PID   int    `json:"pid"`
	URL   string `json:"url"`
	Alive bool   `json:"alive"`
}

// GetStatus reads the named lab's state and asks its processes how they are.
func GetStatus(ctx context.Context, stateDir, name string) (*Status, error) {
	if stateDir == "" {
		stateDir = DefaultStateDir
	}
	s, err := LoadState(stateDir, name)
	if err != nil {
		return nil, err
	}
	st := &Status{State: s, Inventory: s.Inventory(),
		ForwarderAlive: processAlive(s.ForwarderPID, "lab\x00run\x00", "\x00"+name+"\x00")}
	for _, p := range s.Layout.Pops {
		pid := s.AgentPIDs[p.Name]
		st.Agents = append(st.Agents, AgentAlive{Pop: p.Name, PID: pid, URL: p.URL,
			Alive: processAlive(pid, "agent", p.APIAddr.String())})
	}
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if resp, err := control(cctx, s.Control(), controlRequest{Op: "paths"}); err != nil {
		st.PathsError = fmt.Errorf("lab %s: %w", s.Layout.Name, err).Error()
	} else {
		st.Paths, st.Lateness, st.Routers = resp.Paths, resp.Lateness, resp.Routers
	}
	return st, nil
}
