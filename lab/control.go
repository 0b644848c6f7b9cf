//go:build linux

package lab

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// The running forwarder (`meshtop lab run`) takes changes through a unix socket in the
// lab's state directory: one JSON request per connection, one JSON answer. A socket
// rather than a watched state file gives the caller an answer (and an error such as an
// unknown router) the moment the change is in effect.

type controlRequest struct {
	Op     string       `json:"op"` // "set", "router" or "paths"
	Src    string       `json:"src,omitempty"`
	Dst    string       `json:"dst,omitempty"`
	Update PathUpdate   `json:"update"`
	Router string       `json:"router,omitempty"`
	RUp    RouterUpdate `json:"router_update"`
}

type controlResponse struct {
	Error    string         `json:"error,omitempty"`
	Paths    []PathStatus   `json:"paths,omitempty"`
	Routers  []RouterStatus `json:"routers,omitempty"`
	Lateness Lateness       `json:"lateness"`
}

// ServeControl answers control requests for f on the unix socket at path until ctx ends.
// Only root may connect (mode 0600).
func ServeControl(ctx context.Context, path string, f *Forwarder) error {
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("listen on control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("control socket: %w", err)
	}
	go func() { <-ctx.Done(); ln.Close() }()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("control socket: %w", err)
		}
		go serveConn(c, f)
	}
}

func serveConn(c net.Conn, f *Forwarder) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	var req controlRequest
	var resp controlResponse
	if err := json.NewDecoder(bufio.NewReader(c)).Decode(&req); err != nil {
		resp.Error = "bad control request: " + err.Error()
	} else {
		switch req.Op {
		case "set":
			if err := f.SetPath(req.Src, req.Dst, req.Update); err != nil {
				resp.Error = err.Error()
			}
			resp.Paths = f.Paths()
		case "router":
			if err := f.SetRouter(req.Router, req.RUp); err != nil {
				resp.Error = err.Error()
			}
		case "paths":
			resp.Paths = f.Paths()
		default:
			resp.Error = fmt.Sprintf("unknown control operation %q", req.Op)
		}
	}
	resp.Routers = f.Routers()
	resp.Lateness = f.Lateness()
	_ = json.NewEncoder(c).Encode(resp)
}

func control(ctx context.Context, socket string, req controlRequest) (controlResponse, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return controlResponse{}, fmt.Errorf("reach the lab's forwarder at %s (is the lab up? see `meshtop lab status`): %w", socket, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	} else {
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	}
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return controlResponse{}, fmt.Errorf("send to the lab's forwarder: %w", err)
	}
	var resp controlResponse
	if err := json.NewDecoder(c).Decode(&resp); err != nil {
		return controlResponse{}, fmt.Errorf("read the lab's forwarder's answer: %w", err)
	}
	if resp.Error != "" {
		return resp, errors.New(resp.Error)
	}
	return resp, nil
}

// Set changes the path from PoP src to PoP dst of the running lab s.
func Set(ctx context.Context, s *State, src, dst string, u PathUpdate) error {
	_, err := control(ctx, s.Control(), controlRequest{Op: "set", Src: src, Dst: dst, Update: u})
	if err != nil {
		return fmt.Errorf("lab %s: set %s to %s: %w", s.Layout.Name, src, dst, err)
	}
	return nil
}

// SetRouter changes the loss settings of a router of the running lab s.
func SetRouter(ctx context.Context, s *State, router string, u RouterUpdate) error {
	_, err := control(ctx, s.Control(), controlRequest{Op: "router", Router: router, RUp: u})
	if err != nil {
		return fmt.Errorf("lab %s: router %s: %w", s.Layout.Name, router, err)
	}
	return nil
}

// CurrentRouters asks the running lab s for its routers' loss settings and counters.
func CurrentRouters(ctx context.Context, s *State) ([]RouterStatus, error) {
	resp, err := control(ctx, s.Control(), controlRequest{Op: "paths"})
	if err != nil {
		return nil, fmt.Errorf("lab %s: %w", s.Layout.Name, err)
	}
	return resp.Routers, nil
}

// CurrentPaths asks the running lab s for every direction's path and counters, and how
// late its forwarder has released packets so far.
func CurrentPaths(ctx context.Context, s *State) ([]PathStatus, Lateness, error) {
	resp, err := control(ctx, s.Control(), controlRequest{Op: "paths"})
	if err != nil {
		return nil, Lateness{}, fmt.Errorf("lab %s: %w", s.Layout.Name, err)
	}
	return resp.Paths, resp.Lateness, nil
}
