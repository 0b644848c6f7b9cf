//go:build linux

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dnsMesh is a network namespace of the test's own with a real dnsmasq on its
// loopback, named in /etc/netns/NAME/resolv.conf (which `ip netns exec` mounts over
// /etc/resolv.conf), and meshtop agents on other loopback addresses of it.
type dnsMesh struct {
	t      *testing.T
	ns     string
	dir    string
	hosts  string // dnsmasq's --addn-hosts file: A and PTR records
	dnsmsq *exec.Cmd
	secret string
	port   int
}

func newDNSMesh(t *testing.T, srv []string) *dnsMesh {
	t.Helper()
	needRoot(t)
	if _, err := exec.LookPath("dnsmasq"); err != nil {
		t.Fatalf("dnsmasq is not installed (scripts/test.sh installs dnsmasq-base): %v", err)
	}
	m := &dnsMesh{t: t, ns: fmt.Sprintf("mt-dns-%d-%04x", os.Getpid(), rand.IntN(1<<16)), dir: t.TempDir(),
		secret: fmt.Sprintf("dns-%x", rand.Uint64()), port: 8000}
	etc := filepath.Join("/etc/netns", m.ns)
	if _, err := os.Stat(etc); err == nil {
		t.Fatalf("%s exists already: not ours, not touched", etc)
	}
	if out, err := exec.Command("ip", "netns", "add", m.ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v %s", m.ns, err, out)
	}
	t.Cleanup(func() {
		_ = exec.Command("ip", "netns", "delete", m.ns).Run()
		_ = os.RemoveAll(etc) // ours alone: made below for this namespace
	})
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(etc, "resolv.conf"), []byte("nameserver 127.0.0.1\noptions timeout:1 attempts:2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m.exec(nil, "ip", "link", "set", "lo", "up")
	m.hosts = filepath.Join(m.dir, "hosts")
	if err := os.WriteFile(m.hosts, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"netns", "exec", m.ns, "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
		"--listen-address=127.0.0.1", "--bind-interfaces", "--port=53", "--user=root", "--pid-file",
		"--local=/mesh.test/", "--addn-hosts=" + m.hosts, "--log-facility=-", "--log-queries"}
	for _, s := range srv {
		args = append(args, "--srv-host="+s)
	}
	m.dnsmsq = exec.Command("ip", args...)
	var log bytes.Buffer
	m.dnsmsq.Stdout, m.dnsmsq.Stderr = &log, &log
	if err := m.dnsmsq.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = m.dnsmsq.Process.Kill()
		_ = m.dnsmsq.Wait()
		if t.Failed() {
			t.Logf("dnsmasq:\n%s", log.String())
		}
	})
	return m
}

// exec runs a command inside the namespace and returns its stdout.
func (m *dnsMesh) exec(env []string, args ...string) []byte {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", m.ns}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		m.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// records replaces the zone's A/PTR records (one "ADDR NAME..." per line; the first
// name is the address's PTR) and makes dnsmasq read them again.
func (m *dnsMesh) records(lines ...string) {
	m.t.Helper()
	if err := os.WriteFile(m.hosts, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		m.t.Fatal(err)
	}
	if err := m.dnsmsq.Process.Signal(syscall.SIGHUP); err != nil {
		m.t.Fatal(err)
	}
}

// agent starts `meshtop agent` on ADDR:port inside the namespace; pop "" is an agent
// that says no PoP (as upstream Scouter).
func (m *dnsMesh) agent(addr, pop string) {
	m.t.Helper()
	args := []string{"netns", "exec", m.ns, meshtopBin, "agent", "--listen", net.JoinHostPort(addr, fmt.Sprint(m.port)),
		"--rdns=false", "--probe-interval", "100ms"}
	if pop != "" {
		args = append(args, "--pop", pop, "--label", "site="+pop)
	}
	cmd := exec.Command("ip", args...)
	cmd.Env = append(os.Environ(), "SCOUTER_API_SECRET="+m.secret, "MESHTOP_CONFIG=", "XDG_CONFIG_HOME="+emptyConfigHome)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	m.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if m.t.Failed() {
			m.t.Logf("agent %s:\n%s", addr, log.String())
		}
	})
	// Ready when it says so on stderr (it listens before it says).
	waitFor(m.t, 20*time.Second, "agent "+addr+" listening", func() bool { return strings.Contains(log.String(), "listening on") })
}

// gridPops is the PoP header line of live's grid: the PoPs as columns.
func gridHas(screen string, pops ...string) bool {
	for _, l := range strings.Split(screen, "\n") {
		if !strings.Contains(l, "src\\dst") {
			continue
		}
		f := strings.Fields(l)
		for _, p := range pops {
			if !slices.Contains(f, p) {
				return false
			}
		}
		return true
	}
	return false
}

// Three agents found by DNS (A records of one name) in a running `meshtop live`, their
// PoPs from /status (or, for the one that says none, from its reverse name); a fourth
// record shows as a fourth PoP within two intervals, and a removed one leaves; SRV
// records feed a snapshot. Real dnsmasq, real agents, raw ICMP, all in a namespace
// of the test's own.
func TestDNSDiscoveryFollowsRecords(t *testing.T) {
	m := newDNSMesh(t, []string{"_scouter._tcp.mesh.test,fra.mesh.test,8000", "_scouter._tcp.mesh.test,ams.mesh.test,8000",
		"_scouter._tcp.mesh.test,lon1.mesh.test,8000"})
	m.agent("127.0.0.2", "fra")
	m.agent("127.0.0.3", "ams")
	m.agent("127.0.0.4", "") // says no PoP: placed by its reverse name, lon1
	m.agent("127.0.0.5", "sin")
	base := []string{
		"127.0.0.2 fra.mesh.test agents.mesh.test",
		"127.0.0.3 ams.mesh.test agents.mesh.test",
		"127.0.0.4 lon1.mesh.test agents.mesh.test",
	}
	m.records(base...)

	// SRV: one snapshot, every pair measured by raw ICMP inside the namespace.
	var snap struct {
		Cells []struct {
			Src   string   `json:"src_pop"`
			Dst   string   `json:"dst_pop"`
			Avg   *float64 `json:"avg_rtt_ms"`
			Error string   `json:"error"`
		} `json:"cells"`
	}
	env := []string{"SCOUTER_SECRET=" + m.secret, "MESHTOP_CONFIG=", "XDG_CONFIG_HOME=" + emptyConfigHome}
	out := m.exec(env, meshtopBin, "snapshot", "--discover", "dnssrv://_scouter._tcp.mesh.test", "--format", "json", "--count", "2")
	if err := json.Unmarshal(out, &snap); err != nil {
		t.Fatalf("snapshot JSON: %v\n%s", err, out)
	}
	measured := 0
	for _, c := range snap.Cells {
		if c.Src != c.Dst && c.Error == "" && c.Avg != nil && *c.Avg > 0 {
			measured++
		}
	}
	if measured != 6 {
		t.Fatalf("snapshot by SRV measured %d of 6 pairs:\n%s", measured, out)
	}

	// live, following the A records of agents.mesh.test.
	const interval = 5 * time.Second
	cmd := fmt.Sprintf("ip netns exec %s env SCOUTER_SECRET=%s MESHTOP_CONFIG= XDG_CONFIG_HOME=%s %s live --discover dns://agents.mesh.test:%d --interval %s --traceroute-interval 0 --count 1",
		m.ns, m.secret, emptyConfigHome, meshtopBin, m.port, interval)
	p := newTmuxPane(t, cmd)
	screen := func() string { return p.tmux("capture-pane", "-p", "-t", "mt") }
	waitFor(t, 30*time.Second, "live shows fra, ams, lon1", func() bool { return gridHas(screen(), "ams", "fra", "lon1") })
	if gridHas(screen(), "sin") {
		t.Fatalf("sin shown before its record:\n%s", screen())
	}

	// A fourth record: the agent is in the grid within two intervals, no restart.
	m.records(append(base, "127.0.0.5 sin.mesh.test agents.mesh.test")...)
	added := time.Now()
	waitFor(t, 2*interval, "sin in the grid within two intervals of its record", func() bool { return gridHas(screen(), "ams", "fra", "lon1", "sin") })
	t.Logf("sin shown %s after its record (interval %s)", time.Since(added).Round(100*time.Millisecond), interval)
	// The status bar counts it too (it said 3 agents). The discovery notice about lon1
	// may fill the bar now, so read the bar's parts whole in the help.
	p.tmux("send-keys", "-t", "mt", "?")
	waitFor(t, interval, "the status bar counts 4 agents", func() bool { return strings.Contains(screen(), "4 agents,") })
	p.tmux("send-keys", "-t", "mt", "?")

	// A record removed: its PoP leaves the grid.
	m.records(base[0], base[2], "127.0.0.5 sin.mesh.test agents.mesh.test")
	waitFor(t, 3*interval, "ams gone from the grid", func() bool {
		s := screen()
		return gridHas(s, "fra", "lon1", "sin") && !gridHas(s, "ams")
	})
	p.tmux("send-keys", "-t", "mt", "?")
	waitFor(t, interval, "the status bar counts 3 agents", func() bool { return strings.Contains(screen(), "3 agents,") })
	p.tmux("send-keys", "-t", "mt", "?")
	p.tmux("send-keys", "-t", "mt", "q")
	waitFor(t, 15*time.Second, "live quits", p.dead)
}
