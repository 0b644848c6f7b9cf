//go:build linux

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// podman runs Debian's podman against a storage of the test's own (a temp dir, vfs
// driver), so nothing is left in the machine's image store and parallel runs cannot
// meet. On these machines podman needs runc and explicit ulimits.
type podman struct {
	t    *testing.T
	root string
}

func newPodman(t *testing.T) *podman {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but the image test does not run as root (podman, --network host, raw ICMP)")
		}
		t.Skip("needs root (podman with --network host and NET_RAW); runs in CI")
	}
	if _, err := exec.LookPath("podman"); err != nil {
		t.Fatalf("podman is not installed (scripts/test.sh installs it): %v", err)
	}
	root, err := os.MkdirTemp("", "mt-podman-")
	if err != nil {
		t.Fatal(err)
	}
	p := &podman{t: t, root: root}
	t.Cleanup(func() {
		// Containers first (they hold the run dir), then the whole store.
		_, _ = p.run("rm", "--all", "--force", "--time", "1")
		// conmon runs `podman container cleanup` against this store after a container
		// ends: wait for those (ours: they name the store) before removing it.
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && usersOf(root) > 0; {
			time.Sleep(100 * time.Millisecond)
		}
		_ = os.RemoveAll(root)
	})
	return p
}

// usersOf counts processes whose command line names dir.
func usersOf(dir string) int {
	n := 0
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && bytes.Contains(b, []byte(dir)) {
			n++
		}
	}
	return n
}

func (p *podman) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{
		"--root", filepath.Join(p.root, "root"), "--runroot", filepath.Join(p.root, "run"),
		"--tmpdir", filepath.Join(p.root, "tmp"), "--storage-driver", "vfs",
		"--cgroup-manager", "cgroupfs", "--events-backend", "file",
	}
	cmd := exec.CommandContext(ctx, "podman", append(base, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("podman %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

func (p *podman) must(args ...string) string {
	p.t.Helper()
	out, err := p.run(args...)
	if err != nil {
		p.t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// runFlags are what `podman run` needs on these machines.
var runFlags = []string{"--runtime", "runc", "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"}

// buildStatic builds meshtop as the release does (no cgo) into dir.
func buildStatic(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "meshtop")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "../../cmd/meshtop")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build meshtop: %v\n%s", err, out)
	}
	return bin
}

// freeAddr finds a free TCP port on a loopback address.
func freeAddr(t *testing.T, ip string) string {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// status reads an agent's /status until it answers.
func status(t *testing.T, addr, secret string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1.0/status", nil)
		req.Header.Set("Authorization", secret)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			var m map[string]any
			err = json.NewDecoder(resp.Body).Decode(&m)
			resp.Body.Close()
			if err == nil {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent at %s never answered /status: %v", addr, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// procStatus reads a line of /proc/PID/status, e.g. "Uid" or "CapEff".
func procStatus(t *testing.T, pid, key string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && k == key {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("/proc/%s/status has no %s", pid, key)
	return ""
}

// The image as a user runs it: two agents from it with `podman run --network host
// --cap-add NET_RAW IMAGE agent` (not privileged), as its non-root user, probing with
// raw ICMP; one snapshot from the host measures both directions and traces them.
func TestImageAgentsUnderPodman(t *testing.T) {
	p := newPodman(t)
	dir := t.TempDir()
	bin := buildStatic(t, dir)
	archive := filepath.Join(dir, "meshtop.image.tar")
	version := "0.0.0-mt" + randHex(4)
	if err := WriteArchive(archive, Options{Binary: bin, OS: "linux", Arch: "amd64", Version: version, CACerts: DefaultCACerts}); err != nil {
		t.Fatal(err)
	}
	if out := p.must("load", "--input", archive); !strings.Contains(out, "meshtop:"+version) {
		t.Fatalf("podman load: %s", out)
	}
	image := "localhost/meshtop:" + version

	// Without NET_RAW the binary still runs (the file capability is permitted-only):
	// `version`, `serve` and the rest need no capability.
	if out := p.must(append(append([]string{"run", "--rm", "--network", "none"}, runFlags...), image, "version")...); !strings.HasPrefix(out, "meshtop ") {
		t.Fatalf("podman run IMAGE version without NET_RAW: %q", out)
	}

	secret := randHex(16)
	type agent struct{ name, pop, addr, pid string }
	agents := []*agent{{name: "c-a", pop: "pa", addr: freeAddr(t, "127.0.0.2")}, {name: "c-b", pop: "pb", addr: freeAddr(t, "127.0.0.3")}}
	for _, a := range agents {
		args := append([]string{"run", "--detach", "--name", "mt-" + a.name + "-" + randHex(4)}, runFlags...)
		args = append(args, "--network", "host", "--cap-add", "NET_RAW",
			"--env", "SCOUTER_API_SECRET="+secret, "--env", "MESHTOP_POP="+a.pop,
			image, "agent", "--listen", a.addr, "--rdns=false", "--probe-interval", "200ms")
		id := p.must(args...)
		a.pid = p.must("inspect", "--format", "{{.State.Pid}}", id)
	}
	for _, a := range agents {
		st := status(t, a.addr, secret)
		if st["ping_method"] != "raw socket" || st["traceroute"] != true || st["pop"] != a.pop {
			t.Fatalf("agent %s: ping_method %v, traceroute %v, pop %v; want raw socket, true, %s", a.name, st["ping_method"], st["traceroute"], st["pop"], a.pop)
		}
		// The image's user, not root, with CAP_NET_RAW and nothing else effective.
		if uid := procStatus(t, a.pid, "Uid"); strings.Fields(uid)[1] != strconv.Itoa(UID) {
			t.Errorf("agent %s runs as uid %s, want %d", a.name, uid, UID)
		}
		if eff := procStatus(t, a.pid, "CapEff"); eff != "0000000000002000" {
			t.Errorf("agent %s: effective capabilities %s, want CAP_NET_RAW only", a.name, eff)
		}
	}

	inv := filepath.Join(dir, "agents.yaml")
	var b strings.Builder
	b.WriteString("agents:\n")
	for _, a := range agents {
		host, _, _ := net.SplitHostPort(a.addr)
		fmt.Fprintf(&b, "  - {name: %s, pop: %s, address: %s, url: \"http://%s\"}\n", a.name, a.pop, host, a.addr)
	}
	if err := os.WriteFile(inv, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "snapshot", "--inventory", inv, "--format", "json", "--count", "3", "--traceroute")
	cmd.Env = append(os.Environ(), "SCOUTER_SECRET="+secret, "MESHTOP_CONFIG=", "XDG_CONFIG_HOME="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("snapshot: %v\n%s", err, stderr.String())
	}
	var snap struct {
		Cells []struct {
			Src     string   `json:"src_pop"`
			Dst     string   `json:"dst_pop"`
			Avg     *float64 `json:"avg_rtt_ms"`
			Loss    *float64 `json:"loss_pct"`
			Samples int      `json:"samples"`
			Error   string   `json:"error"`
		} `json:"cells"`
		Traces []struct {
			SrcPop string `json:"src_pop"`
			DstPop string `json:"dst_pop"`
			Failed bool   `json:"failed"`
			Error  string `json:"error"`
		} `json:"traces"`
	}
	if err := json.Unmarshal(out, &snap); err != nil {
		t.Fatalf("snapshot JSON: %v\n%s", err, out)
	}
	measured := map[string]bool{}
	for _, c := range snap.Cells {
		if c.Src == c.Dst {
			continue
		}
		if c.Error != "" || c.Avg == nil || *c.Avg <= 0 || c.Loss == nil || *c.Loss != 0 || c.Samples < 1 {
			t.Errorf("cell %s→%s: %+v (error %q)", c.Src, c.Dst, c, c.Error)
			continue
		}
		measured[c.Src+">"+c.Dst] = true
	}
	traced := map[string]bool{}
	for _, tr := range snap.Traces {
		if tr.Error == "" && !tr.Failed {
			traced[tr.SrcPop+">"+tr.DstPop] = true
		}
	}
	for _, pair := range []string{"pa>pb", "pb>pa"} {
		if !measured[pair] {
			t.Errorf("pair %s not measured by ping: %s", pair, out)
		}
		if !traced[pair] {
			t.Errorf("pair %s not traced: %s", pair, out)
		}
	}
}
