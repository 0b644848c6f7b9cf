//go:build linux

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/meshtop/meshtop/inventory"
	"github.com/meshtop/meshtop/lab"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
)

// testLab is a lab built by `meshtop lab up` for one test.
type testLab struct {
	t         *testing.T
	name      string
	inventory string
}

// meshtop runs the binary under test and returns its stdout; a failure ends the test
// with the command's stderr.
func meshtop(t *testing.T, args ...string) []byte {
	t.Helper()
	out, err := meshtopErr(args...)
	if err != nil {
		t.Fatalf("meshtop %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func meshtopErr(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, meshtopBin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	// The inventory carries the lab's secret by file, and the user's config file must
	// not change what the tests measure: neither comes from the caller's environment.
	cmd.Env = append(os.Environ(), "SCOUTER_SECRET=", "MESHTOP_CONFIG=", "XDG_CONFIG_HOME="+emptyConfigHome)
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// upLab writes config (YAML, without a name) and brings a lab up under a name unique to
// this test run. It is always torn down, and the test fails if anything named after
// it is left behind.
func upLab(t *testing.T, config string) *testLab {
	t.Helper()
	needRoot(t)
	name := fmt.Sprintf("e%d", rand.IntN(10_000_000))
	file := filepath.Join(t.TempDir(), "lab.yaml")
	if err := os.WriteFile(file, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	l := &testLab{t: t, name: name, inventory: filepath.Join(lab.DefaultStateDir, name, "inventory.yaml")}
	downAtEnd(t, name)
	meshtop(t, "lab", "up", "--config", file, "--name", name)
	return l
}

// downAtEnd takes lab name down when the test ends (its logs first, when the test
// failed) and fails the test if anything named after it is left behind.
func downAtEnd(t *testing.T, name string) {
	t.Cleanup(func() {
		if t.Failed() {
			logLab(t, name)
		}
		if _, err := meshtopErr("lab", "down", "--name", name); err != nil {
			t.Errorf("lab down: %v", err)
		}
		assertGone(t, name)
	})
}

// labConfig writes a lab config for a lab the test runs itself (in tmux) under a fresh
// name with prefix, and takes the lab down when the test ends (its logs first, when the
// test failed). It returns the name and the config file.
func labConfig(t *testing.T, prefix, cfg string) (name, file string) {
	t.Helper()
	name = fmt.Sprintf("%s%d", prefix, rand.IntN(10_000_000))
	file = filepath.Join(t.TempDir(), "lab.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			logLab(t, name)
		}
		_, _ = meshtopErr("lab", "down", "--name", name)
	})
	return name, file
}

// logLab puts the lab's status and logs into the test output, for a failure in CI.
func logLab(t *testing.T, name string) {
	out, err := meshtopErr("lab", "status", "--name", name)
	t.Logf("lab status (err %v):\n%s", err, out)
	logs, _ := filepath.Glob(filepath.Join(lab.DefaultStateDir, name, "*.log"))
	for _, f := range logs {
		b, _ := os.ReadFile(f)
		t.Logf("%s:\n%s", f, b)
	}
}

// assertGone fails the test if any namespace or link of lab name remains.
func assertGone(t *testing.T, name string) {
	t.Helper()
	prefix := lab.NetnsPrefix(name)
	if ents, err := os.ReadDir("/run/netns"); err == nil {
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), prefix) {
				t.Errorf("network namespace %s is left after lab down", e.Name())
			}
		}
	}
	out, err := exec.Command("ip", "-o", "link", "show").Output()
	if err != nil {
		t.Errorf("ip link: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(strings.TrimSuffix(f[1], ":"), prefix) {
			t.Errorf("link %s is left after lab down", f[1])
		}
	}
	if _, err := os.Stat(filepath.Join(lab.DefaultStateDir, name)); err == nil {
		t.Errorf("state directory of lab %s is left after lab down", name)
	}
}

func (l *testLab) status() lab.Status {
	l.t.Helper()
	var st lab.Status
	if err := json.Unmarshal(meshtop(l.t, "lab", "status", "--name", l.name, "--json"), &st); err != nil {
		l.t.Fatalf("lab status --json: %v", err)
	}
	return st
}

// snapshot is the part of `meshtop snapshot --format json` the tests read.
type snapshot struct {
	Agents []struct {
		Name, Pop, Address, State, Error string
	} `json:"agents"`
	Cells []snapCell `json:"cells"`
}

type snapCell struct {
	Src     string   `json:"src_pop"`
	Dst     string   `json:"dst_pop"`
	Avg     *float64 `json:"avg_rtt_ms"`
	Min     *float64 `json:"min_rtt_ms"`
	Max     *float64 `json:"max_rtt_ms"`
	Loss    *float64 `json:"loss_pct"`
	Failed  bool     `json:"failed"`
	Samples int      `json:"samples"`
	Error   string   `json:"error"`
}

func (l *testLab) snapshot(args ...string) snapshot {
	l.t.Helper()
	out := meshtop(l.t, append([]string{"snapshot", "--inventory", l.inventory, "--format", "json", "--count", "5"}, args...)...)
	var s snapshot
	if err := json.Unmarshal(out, &s); err != nil {
		l.t.Fatalf("snapshot JSON: %v\n%s", err, out)
	}
	return s
}

func (s snapshot) cell(src, dst string) (snapCell, bool) {
	for _, c := range s.Cells {
		if c.Src == src && c.Dst == dst {
			return c, true
		}
	}
	return snapCell{}, false
}

// sweep runs one sweep through the probe package, as live mode does, for the traces.
func (l *testLab) sweep(kinds probe.Kind) probe.Sweep {
	l.t.Helper()
	agents, err := inventory.Load(l.inventory, 8000)
	if err != nil {
		l.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return probe.Run(ctx, agents, probe.Options{Kinds: kinds, Count: 1}, nil)
}

// fourPops is the RTT lab of the acceptance criteria: pairs at 20, 40, 80 and 160 ms.
const fourPops = `
pops: [a, b, c, d]
links:
  - {pops: [a, b], rtt: 20ms}
  - {pops: [a, c], rtt: 40ms}
  - {pops: [a, d], rtt: 80ms}
  - {pops: [b, c], rtt: 160ms}
  - {pops: [b, d], rtt: 40ms}
  - {pops: [c, d], rtt: 80ms}
`

var fourPopRTT = map[[2]string]float64{
	{"a", "b"}: 20, {"a", "c"}: 40, {"a", "d"}: 80, {"b", "c"}: 160, {"b", "d"}: 40, {"c", "d"}: 80,
}

func rttOf(a, b string) float64 {
	if v, ok := fourPopRTT[[2]string{a, b}]; ok {
		return v
	}
	return fourPopRTT[[2]string{b, a}]
}

func TestSnapshotMeasuresEmulatedRTT(t *testing.T) {
	l := upLab(t, fourPops)
	s := l.snapshot()
	for _, a := range s.Agents {
		if a.State != string(mesh.StateOK) {
			t.Errorf("agent %s: state %q (%s), want ok", a.Name, a.State, a.Error)
		}
	}
	if len(s.Cells) != 12 {
		t.Fatalf("got %d cells, want 12 (4 pops, every ordered pair)", len(s.Cells))
	}
	// The agents' RTTs end at the kernel's receive time, not when a reader on this busy
	// machine got to the reply: their startup lines say so.
	logs, _ := filepath.Glob(filepath.Join(lab.DefaultStateDir, l.name, "agent-*.log"))
	if len(logs) != 4 {
		t.Errorf("agent logs: %v, want 4", logs)
	}
	for _, f := range logs {
		if b, _ := os.ReadFile(f); !strings.Contains(string(b), "ping: raw socket, kernel receive times (SO_TIMESTAMPNS)") {
			t.Errorf("%s does not say the agent pings with kernel receive times:\n%s", f, b)
		}
	}
	for _, c := range s.Cells {
		want := rttOf(c.Src, c.Dst)
		if c.Avg == nil || c.Error != "" || c.Failed {
			t.Errorf("%s->%s: no measurement (error %q, failed %v)", c.Src, c.Dst, c.Error, c.Failed)
			continue
		}
		tol := 1 + 0.02*want
		// The error of every pair, for docs/benchmarks.md (go test -v): what the agents'
		// clocks add to the lab's emulated RTT.
		t.Logf("%s->%s: avg RTT %.3f ms, emulated %.0f ms, error %+.3f ms", c.Src, c.Dst, *c.Avg, want, *c.Avg-want)
		if d := *c.Avg - want; d < -tol || d > tol {
			t.Errorf("%s->%s: avg RTT %.3f ms, want %.0f ms +/- %.2f ms", c.Src, c.Dst, *c.Avg, want, tol)
		}
		if c.Loss == nil || *c.Loss != 0 {
			t.Errorf("%s->%s: loss %v, want 0", c.Src, c.Dst, c.Loss)
		}
	}
}

func TestLabSetLossShowsAsLoss(t *testing.T) {
	l := upLab(t, `
pops: [a, b, c]
default: {rtt: 10ms}
`)
	meshtop(t, "lab", "set", "a", "b", "--name", l.name, "--loss", "10%")
	s := l.snapshot()
	// 10% per direction, spread evenly: each direction of a-b loses its 5th packet, which
	// is a probe or a reply of one of the two pings of the pair.
	var pairLoss float64
	for _, c := range s.Cells {
		if c.Loss == nil {
			t.Fatalf("%s->%s: no loss value (error %q)", c.Src, c.Dst, c.Error)
		}
		inPair := (c.Src == "a" && c.Dst == "b") || (c.Src == "b" && c.Dst == "a")
		if inPair {
			pairLoss += *c.Loss
		} else if *c.Loss != 0 {
			t.Errorf("%s->%s: loss %.1f%%, want 0 (only a-b is lossy)", c.Src, c.Dst, *c.Loss)
		}
	}
	if pairLoss == 0 {
		t.Errorf("a-b has 10%% loss each way but neither a->b nor b->a shows loss")
	}
	// The forwarder counted the drops too.
	var dropped uint64
	for _, p := range l.status().Paths {
		if (p.Src == "a" && p.Dst == "b") || (p.Src == "b" && p.Dst == "a") {
			dropped += p.Dropped
		} else if p.Dropped != 0 {
			t.Errorf("%s->%s dropped %d packets without loss configured", p.Src, p.Dst, p.Dropped)
		}
	}
	if dropped == 0 {
		t.Error("lab status shows no dropped packet on a-b")
	}
}

func TestTracerouteHopsAndRouteChange(t *testing.T) {
	l := upLab(t, `
pops: [a, b]
routers:
  - {name: r1, asn: 64700, org: "Transit One"}
  - {name: r2, asn: 64701, org: "Transit Two"}
  - {name: r3, asn: 64702, org: "Transit Three"}
default: {rtt: 10ms}
links:
  - {pops: [a, b], rtt: 20ms, via: [r1, r2]}
`)
	st := l.status()
	layout := st.State.Layout
	addr := map[string]string{}
	asn := map[string]int{}
	for _, r := range layout.Routers {
		addr[r.Name], asn[r.Name] = r.Addr.String(), int(r.ASN)
	}
	for _, p := range layout.Pops {
		addr[p.Name], asn[p.Name] = p.MeshAddr.String(), int(p.ASN)
	}

	first := l.sweep(probe.KindTraceroute)
	tr := findTrace(t, first, "a", "b")
	want := []string{"r1", "r2", "b"}
	if len(tr.Hops) != len(want) {
		t.Fatalf("trace a->b: %d hops %+v, want 3 (r1, r2, b)", len(tr.Hops), tr.Hops)
	}
	for i, w := range want {
		h := tr.Hops[i]
		if h.NoResponse || h.Addr != addr[w] || h.ASN != asn[w] {
			t.Errorf("trace a->b hop %d: %+v, want %s (%s, AS%d)", i+1, h, w, addr[w], asn[w])
		}
	}
	if wantPath := fmt.Sprintf("%d %d %d", asn["r1"], asn["r2"], asn["b"]); tr.ASPath != wantPath {
		t.Errorf("trace a->b AS path %q, want %q", tr.ASPath, wantPath)
	}

	meshtop(t, "lab", "set", "a", "b", "--name", l.name, "--via", "r3")
	second := l.sweep(probe.KindTraceroute)
	// A new path counts once a second trace confirms it (loss must not read as a change).
	third := l.sweep(probe.KindTraceroute)
	changes := mesh.RouteChanges(slices.Concat(first.Traces, second.Traces, third.Traces))
	var ab []mesh.RouteChange
	for _, c := range changes {
		if c.Src == tr.Src && c.Dst == tr.Dst {
			ab = append(ab, c)
		}
	}
	if len(ab) != 1 {
		t.Fatalf("route changes a->b: %d (%+v), want 1", len(ab), changes)
	}
	if got, want := ab[0].New.PathKey(), addr["r3"]+" "+addr["b"]; got != want {
		t.Errorf("new path a->b %q, want %q", got, want)
	}
	// Both directions were changed by lab set (the way back runs via r3 as well) and
	// nothing else was.
	if len(changes) != 2 {
		t.Errorf("route changes: %d, want 2 (a->b and b->a): %+v", len(changes), changes)
	}
}

func findTrace(t *testing.T, s probe.Sweep, srcPop, dstPop string) mesh.TraceResult {
	t.Helper()
	for _, tr := range s.Traces {
		if tr.SrcPop == srcPop && tr.DstPop == dstPop {
			if tr.Err != "" {
				t.Fatalf("trace %s->%s: %s", srcPop, dstPop, tr.Err)
			}
			return tr
		}
	}
	t.Fatalf("no trace %s->%s in the sweep (%d traces)", srcPop, dstPop, len(s.Traces))
	return mesh.TraceResult{}
}

func TestDeadAgentMarksOnlyItsRow(t *testing.T) {
	l := upLab(t, `
pops: [a, b, c]
default: {rtt: 10ms}
`)
	var pid int
	for _, a := range l.status().Agents {
		if a.Pop == "c" {
			pid = a.PID
		}
	}
	p, err := os.FindProcess(pid)
	if err != nil || pid == 0 {
		t.Fatalf("agent of c: pid %d: %v", pid, err)
	}
	if err := p.Kill(); err != nil {
		t.Fatalf("kill agent of c: %v", err)
	}
	waitDead(t, pid)

	s := l.snapshot()
	for _, a := range s.Agents {
		want := string(mesh.StateOK)
		if a.Pop == "c" {
			want = string(mesh.StateUnreachable)
		}
		if a.State != want {
			t.Errorf("agent %s: state %q, want %q", a.Name, a.State, want)
		}
	}
	// Rows a and b are intact: c's host still answers pings, only its agent is gone.
	for _, src := range []string{"a", "b"} {
		for _, dst := range []string{"a", "b", "c"} {
			if src == dst {
				continue
			}
			c, ok := s.cell(src, dst)
			if !ok || c.Avg == nil || c.Error != "" || c.Failed || *c.Avg < 10 {
				t.Errorf("%s->%s: %+v, want a measured ~10 ms cell", src, dst, c)
			}
		}
	}
	for _, dst := range []string{"a", "b"} {
		if c, ok := s.cell("c", dst); ok && c.Avg != nil {
			t.Errorf("c->%s: shows avg %.3f ms although c's agent is dead", dst, *c.Avg)
		}
	}
}

func waitDead(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		if i := bytes.LastIndexByte(b, ')'); i > 0 && i+2 < len(b) && b[i+2] == 'Z' {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("process %d still runs 10 s after SIGKILL", pid)
}

func TestLabDownAfterCrash(t *testing.T) {
	l := upLab(t, `pops: [a, b]`)
	st := l.status()
	// Crash: everything killed hard and the state lost. Down must still find the lab
	// by its names (the cleanup of upLab runs it and checks nothing is left).
	for _, a := range st.Agents {
		if p, err := os.FindProcess(a.PID); err == nil {
			_ = p.Kill()
		}
	}
	if p, err := os.FindProcess(st.State.ForwarderPID); err == nil {
		_ = p.Kill()
	}
	if err := os.RemoveAll(st.State.Dir); err != nil {
		t.Fatal(err)
	}
	if _, err := meshtopErr("lab", "status", "--name", l.name); err == nil {
		t.Error("lab status succeeded for a lab whose state is gone")
	}
}

// TestLabCommandTearsDownAfterLive runs `meshtop lab` as a user would, without a
// terminal: whether live ends by itself (no TTY) or is stopped with SIGTERM, the lab
// it ran on must be gone afterwards.
func TestLabCommandTearsDownAfterLive(t *testing.T) {
	needRoot(t)
	name := fmt.Sprintf("e%d", rand.IntN(10_000_000))
	file := filepath.Join(t.TempDir(), "lab.yaml")
	if err := os.WriteFile(file, []byte("pops: [a, b]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := meshtopErr("lab", "down", "--name", name); err != nil {
			t.Errorf("lab down: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, meshtopBin, "lab", "--config", file, "--name", name)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	// A session of its own has no controlling terminal, so live cannot take over the
	// terminal of whoever runs the tests (it fails to open /dev/tty, or runs headless).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.WaitDelay = 20 * time.Second
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+emptyConfigHome, "MESHTOP_CONFIG=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	_ = cmd.Run() // live without a terminal may fail; what matters is the teardown
	log := stderr.String()
	if !strings.Contains(log, "building lab "+name) || !strings.Contains(log, "removing lab "+name) {
		t.Errorf("meshtop lab did not build and remove lab %s; stderr:\n%s", name, log)
	}
	assertGone(t, name)
}
