//go:build linux

package lab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// UpOptions say where the lab keeps its state and which binary runs its parts.
type UpOptions struct {
	StateDir string    // default DefaultStateDir
	Exe      string    // the meshtop binary (agent and `lab run`); default os.Executable()
	Log      io.Writer // progress lines; nil for none
	// ReadyTimeout bounds the wait for the forwarder and each agent (default 20s).
	ReadyTimeout time.Duration
	// Owner is the process that will tear the lab down (`meshtop lab`); 0 for a lab
	// left running (`lab up`).
	Owner int
	// AgentArgs are extra flags for every agent (e.g. --reply-wait).
	AgentArgs []string
	// Self is how the user runs meshtop ("meshtop", "go run ./cmd/meshtop"), for the
	// commands that messages tell them to run; default "meshtop".
	Self string
}

func (o *UpOptions) defaults() error {
	if o.StateDir == "" {
		o.StateDir = DefaultStateDir
	}
	if o.Exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find the meshtop binary: %w", err)
		}
		o.Exe = exe
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 20 * time.Second
	}
	if o.Self == "" {
		o.Self = "meshtop"
	}
	return nil
}

// Up builds the lab cfg: namespaces, links, TUN devices, the ASN database, the
// forwarder (detached `meshtop lab run`) and one agent per PoP, then writes the
// inventory. The forwarder and agents keep running after Up returns; Down removes them.
// On failure Up removes whatever it made.
func Up(ctx context.Context, cfg Config, o UpOptions) (*State, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("lab config: %w", err)
	}
	if err := o.defaults(); err != nil {
		return nil, err
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("meshtop lab needs root (network namespaces, TUN devices): run it with sudo")
	}
	unlock, err := lockStateDir(o.StateDir)
	if err != nil {
		return nil, err
	}
	s, err := prepare(ctx, cfg, o)
	unlock()
	if err != nil {
		return nil, err
	}
	if err := build(ctx, s, o); err != nil {
		derr := Down(context.WithoutCancel(ctx), o.StateDir, cfg.Name, nil)
		return nil, errors.Join(fmt.Errorf("build lab %s: %w", cfg.Name, err), derr)
	}
	return s, nil
}

// prepare claims the lab's name and addresses (under the state directory lock) and
// records them, so that a crash from here on leaves a state `lab down` can follow.
func prepare(ctx context.Context, cfg Config, o UpOptions) (*State, error) {
	dir := filepath.Join(o.StateDir, cfg.Name)
	if _, err := os.Stat(filepath.Join(dir, stateFile)); err == nil {
		return nil, fmt.Errorf("lab %s already exists (%s); remove it with `%s lab down --name %s` or pick another name", cfg.Name, dir, o.Self, cfg.Name)
	}
	nss, err := listNetns()
	if err != nil {
		return nil, err
	}
	for _, n := range nss {
		if strings.HasPrefix(n, NetnsPrefix(cfg.Name)) {
			return nil, fmt.Errorf("network namespace %s is left over from an earlier lab %s; remove it with `%s lab down --name %s`", n, cfg.Name, o.Self, cfg.Name)
		}
	}
	use, err := readRootUse(ctx)
	if err != nil {
		return nil, err
	}
	taken := map[int]bool{}
	names, err := Labs(o.StateDir)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if other, err := LoadState(o.StateDir, n); err == nil {
			taken[other.Layout.Slot] = true
		}
	}
	slot, err := pickSlot(use, taken)
	if err != nil {
		return nil, err
	}
	layout, err := NewLayout(cfg, slot)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create lab state directory: %w", err)
	}
	s := &State{Dir: dir, Created: time.Now().UTC(), Config: cfg, Layout: layout, AgentPIDs: map[string]int{}, Owner: o.Owner}
	return s, s.save()
}

func build(ctx context.Context, s *State, o UpOptions) error {
	logf := func(format string, args ...any) { fmt.Fprintf(o.Log, format+"\n", args...) }
	secret, err := newSecret()
	if err != nil {
		return err
	}
	if err := os.WriteFile(s.SecretFile(), []byte(secret+"\n"), 0o600); err != nil {
		return fmt.Errorf("write agent secret: %w", err)
	}
	if err := WriteMMDB(s.MMDB(), s.Layout); err != nil {
		return err
	}
	for _, p := range s.Layout.Pops {
		logf("pop %-8s netns %s  mesh %s  api %s", p.Name, p.Netns, p.MeshAddr, p.URL)
		if err := buildPop(ctx, s.Layout, p); err != nil {
			return fmt.Errorf("pop %s: %w", p.Name, err)
		}
	}

	pid, fwdExited, err := spawn(o.Exe, []string{"lab", "run", "--name", s.Layout.Name, "--state-dir", filepath.Dir(s.Dir)},
		nil, s.ForwarderLog(), nil)
	if err != nil {
		return fmt.Errorf("start forwarder: %w", err)
	}
	s.ForwarderPID = pid
	if err := s.save(); err != nil {
		return err
	}
	if err := waitForwarder(ctx, s, fwdExited, o.ReadyTimeout); err != nil {
		return err
	}
	logf("forwarder running (pid %d)", pid)

	agentExited := map[string]<-chan struct{}{}
	for _, p := range s.Layout.Pops {
		// Agents run at nice -10: their own wake-up delay on a busy machine lands in
		// every RTT they measure.
		args := []string{"netns", "exec", p.Netns, "nice", "-n", "-10", o.Exe, "agent",
			"--listen", p.APIAddr.String() + ":" + strconv.Itoa(apiPort),
			"--asn-db", s.MMDB(), "--rdns=false",
			// Agents probe only the lab's mesh: no test can send a packet elsewhere.
			"--allow", s.Layout.MeshNet.String(), "--allow", s.Layout.RtrNet.String()}
		args = append(args, o.AgentArgs...)
		env := []string{"SCOUTER_API_SECRET=" + secret, "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
		pid, exited, err := spawn("ip", args, env, s.AgentLog(p.Name), nil)
		if err != nil {
			return fmt.Errorf("start agent of %s: %w", p.Name, err)
		}
		s.AgentPIDs[p.Name] = pid
		agentExited[p.Name] = exited
		if err := s.save(); err != nil {
			return err
		}
	}
	for _, p := range s.Layout.Pops {
		if err := waitAgent(ctx, s, p, secret, agentExited[p.Name], o.ReadyTimeout); err != nil {
			return err
		}
	}
	logf("%d agents answering", len(s.Layout.Pops))
	if err := writeInventory(s); err != nil {
		return err
	}
	logf("inventory %s", s.Inventory())
	return nil
}

// buildPop makes one PoP: its namespace, the veth pair that carries the agent's API,
// and the TUN device the forwarder serves.
func buildPop(ctx context.Context, l Layout, p PopLayout) error {
	hostCIDR := p.HostAddr.String() + "/30"
	apiCIDR := p.APIAddr.String() + "/30"
	meshCIDR := p.MeshAddr.String() + "/" + strconv.Itoa(l.MeshNet.Bits())
	if err := ipCmd(ctx, "netns", "add", p.Netns); err != nil {
		return err
	}
	// No IPv6 anywhere in the lab: it would add router solicitations and MLD reports
	// that the IPv4-only WAN has no use for. rp_filter off: time-exceeded answers come
	// from router addresses the PoP has no better route to than mesh0 anyway.
	if err := sysctlIn(p.Netns, map[string]string{
		"net/ipv6/conf/all/disable_ipv6":     "1",
		"net/ipv6/conf/default/disable_ipv6": "1",
		"net/ipv4/conf/all/rp_filter":        "0",
		"net/ipv4/conf/default/rp_filter":    "0",
	}); err != nil {
		return err
	}
	steps := [][]string{
		{"link", "add", p.HostIf, "type", "veth", "peer", "name", apiIf, "netns", p.Netns},
	}
	for _, st := range steps {
		if err := ipCmd(ctx, st...); err != nil {
			return err
		}
	}
	// The root side of the veth gets no IPv6 either: nothing but the agent's API (IPv4)
	// crosses it.
	_ = os.WriteFile("/proc/sys/net/ipv6/conf/"+p.HostIf+"/disable_ipv6", []byte("1"), 0o644)
	steps = [][]string{
		{"addr", "add", hostCIDR, "dev", p.HostIf},
		{"link", "set", p.HostIf, "up"},
		{"-n", p.Netns, "link", "set", "lo", "up"},
		{"-n", p.Netns, "addr", "add", apiCIDR, "dev", apiIf},
		{"-n", p.Netns, "link", "set", apiIf, "up"},
		{"-n", p.Netns, "tuntap", "add", "dev", tunName, "mode", "tun"},
		{"-n", p.Netns, "addr", "add", meshCIDR, "dev", tunName},
		{"-n", p.Netns, "link", "set", tunName, "up"},
		{"-n", p.Netns, "route", "add", l.RtrNet.String(), "dev", tunName},
	}
	for _, st := range steps {
		if err := ipCmd(ctx, st...); err != nil {
			return err
		}
	}
	return nil
}

// spawn starts a detached process (own session, so it outlives `lab up` and ignores
// the terminal's signals) with output to logPath. exited is closed when it ends while we
// still run: a reliable "it died" for the readiness waits, where reading /proc could race
// with the exec chain (ip netns exec, nice) of a starting agent.
func spawn(exe string, args, env []string, logPath string, stdin io.Reader) (pid int, exited <-chan struct{}, err error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, nil, fmt.Errorf("open log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr, cmd.Stdin = logf, logf, stdin
	if env != nil {
		cmd.Env = env
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, nil, err
	}
	done := make(chan struct{})
	// Reaping it also keeps it from lingering as a zombie that looks alive.
	go func() { _ = cmd.Wait(); close(done) }()
	return cmd.Process.Pid, done, nil
}

func waitForwarder(ctx context.Context, s *State, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		_, _, err := CurrentPaths(cctx, s)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("the forwarder exited: %s", logTail(s.ForwarderLog()))
		default:
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("the forwarder did not answer within %s: %w (log %s)", timeout, err, s.ForwarderLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitAgent(ctx context.Context, s *State, p PopLayout, secret string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/api/v1.0/status", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", secret)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status answered HTTP %d", resp.StatusCode)
		}
		select {
		case <-exited:
			return fmt.Errorf("the agent of %s exited: %s", p.Name, logTail(s.AgentLog(p.Name)))
		default:
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("the agent of %s did not answer at %s within %s: %w (log %s)", p.Name, p.URL, timeout, err, s.AgentLog(p.Name))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logTail is the last lines of a log, for an error message.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(strings.TrimSpace(string(b))) == 0 {
		return "no output (log " + path + ")"
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	lines = lines[max(0, len(lines)-5):]
	return strings.Join(lines, " | ") + " (log " + path + ")"
}

func newSecret() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make agent secret: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// writeInventory writes the lab's agents as a meshtop inventory. The secret is referred
// to by file (relative to the inventory), never written into it.
func writeInventory(s *State) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# meshtop lab %s (made by `meshtop lab up`; removed by `meshtop lab down --name %s`)\n", s.Layout.Name, s.Layout.Name)
	b.WriteString("agents:\n")
	for _, p := range s.Layout.Pops {
		fmt.Fprintf(&b, "  - name: %s-%s\n    pop: %s\n    address: %s\n    url: %s\n    secret_file: %s\n",
			s.Layout.Name, p.Name, p.Name, p.MeshAddr, p.URL, secretFile)
	}
	if err := os.WriteFile(s.Inventory(), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write lab inventory: %w", err)
	}
	return nil
}
