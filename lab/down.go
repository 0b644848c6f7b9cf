//go:build linux

package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Down removes the named lab: its agents, its forwarder, its namespaces and links and
// its state directory. It works from the names alone (prefix mt-NAME-) when the state
// is missing or damaged, as after a crash, and is a no-op for a lab that is not there.
func Down(ctx context.Context, stateDir, name string, log io.Writer) error {
	if stateDir == "" {
		stateDir = DefaultStateDir
	}
	if log == nil {
		log = io.Discard
	}
	if !labNameRe.MatchString(name) {
		return fmt.Errorf("lab name %q: want 1-8 characters of a-z and 0-9", name)
	}
	unlock, err := lockStateDir(stateDir)
	if err != nil {
		return err
	}
	defer unlock()
	return down(ctx, stateDir, name, NetnsPrefix(name), log)
}

// DownAll removes every lab in stateDir and everything else named with the prefix mt-
// (namespaces and root links), whoever made it.
func DownAll(ctx context.Context, stateDir string, log io.Writer) error {
	if stateDir == "" {
		stateDir = DefaultStateDir
	}
	if log == nil {
		log = io.Discard
	}
	unlock, err := lockStateDir(stateDir)
	if err != nil {
		return err
	}
	defer unlock()
	names, err := Labs(stateDir)
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range names {
		errs = append(errs, down(ctx, stateDir, n, NetnsPrefix(n), log))
	}
	errs = append(errs, down(ctx, stateDir, "", Prefix, log))
	return errors.Join(errs...)
}

func down(ctx context.Context, stateDir, name, prefix string, log io.Writer) error {
	var errs []error
	if name != "" {
		if s, err := LoadState(stateDir, name); err == nil {
			for pop, pid := range s.AgentPIDs {
				if p, ok := s.Layout.Pop(pop); ok {
					killAndWait(pid, 3*time.Second, "agent", p.APIAddr.String())
				}
			}
			killAndWait(s.ForwarderPID, 3*time.Second, "lab\x00run\x00", "\x00"+name+"\x00")
		}
	}
	nss, err := listNetns()
	if err != nil {
		errs = append(errs, err)
	}
	for _, ns := range nss {
		if !strings.HasPrefix(ns, prefix) {
			continue
		}
		// Whatever still runs inside a lab namespace is a lab agent (the state may be
		// lost); it must go before the namespace can.
		killNetnsProcs(ctx, ns)
		if err := ipCmd(ctx, "netns", "del", ns); err != nil {
			errs = append(errs, err)
		} else {
			fmt.Fprintf(log, "removed netns %s\n", ns)
		}
	}
	links, err := rootLinks(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	for _, l := range links {
		if strings.HasPrefix(l, prefix) {
			// Deleting a namespace usually takes its veth peer along; a link that is
			// already gone is fine.
			err := ipCmd(ctx, "link", "del", l)
			switch {
			case err == nil:
				fmt.Fprintf(log, "removed link %s\n", l)
			case linkExists(ctx, l):
				errs = append(errs, err)
			}
		}
	}
	if name != "" {
		if err := os.RemoveAll(filepath.Join(stateDir, name)); err != nil {
			errs = append(errs, fmt.Errorf("remove lab state: %w", err))
		}
	}
	return errors.Join(errs...)
}

func killNetnsProcs(ctx context.Context, ns string) {
	for range 3 {
		out, err := ipOut(ctx, "netns", "pids", ns)
		if err != nil || len(bytes.TrimSpace(out)) == 0 {
			return
		}
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
				killAndWait(pid, 3*time.Second)
			}
		}
	}
}

func rootLinks(ctx context.Context) ([]string, error) {
	out, err := ipOut(ctx, "-j", "link", "show")
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	var links []struct {
		IfName string `json:"ifname"`
	}
	if err := json.Unmarshal(out, &links); err != nil {
		return nil, fmt.Errorf("list links: read `ip -j link`: %w", err)
	}
	var names []string
	for _, l := range links {
		names = append(names, l.IfName)
	}
	return names, nil
}

func linkExists(ctx context.Context, name string) bool {
	return ipCmd(ctx, "link", "show", "dev", name) == nil
}
