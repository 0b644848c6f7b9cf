package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshtop/meshtop/probe/scoutertest"
)

// syncBuffer collects a process's stderr while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func needTool(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed (scripts/test.sh installs it)", n)
			}
			t.Skipf("%s is not installed", n)
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// sshKey makes an ed25519 key pair with ssh-keygen and returns the private key's path.
func sshKey(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	return path
}

func readServeFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeServeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// serveFixture is a running `meshtop serve` with keys for an operator, a viewer and a
// stranger, and fake agents that count the ping tests they are given.
type serveFixture struct {
	t                                 *testing.T
	bin, addr, metricsAddr, dir       string
	operator, viewer, stranger, known string
	pings                             atomic.Int64
	log                               *syncBuffer
	cmd                               *exec.Cmd
}

const servePerSweep = 12 // 4 agents, each pings the other 3

func startServe(t *testing.T, extra ...string) *serveFixture {
	t.Helper()
	return startServeWith(t, nil, extra...)
}

// startServeWith is startServe with more agents beside the four counting ones.
func startServeWith(t *testing.T, more []fakeAgent, extra ...string) *serveFixture {
	t.Helper()
	needTool(t, "ssh", "ssh-keygen", "tmux")
	f := &serveFixture{t: t, bin: buildBinary(t), dir: t.TempDir(), log: &syncBuffer{}}
	counting := func(ms float64) func(string, int) []float64 {
		return func(dst string, n int) []float64 { f.pings.Add(1); return fixedRTT(ms)(dst, n) }
	}
	inv := writeInventory(t, append([]fakeAgent{
		{"ams", scoutertest.Config{RTT: counting(20)}},
		{"jfk", scoutertest.Config{RTT: counting(95)}},
		{"sjc", scoutertest.Config{RTT: counting(140)}},
		{"syd", scoutertest.Config{RTT: counting(420)}},
	}, more...)...)
	f.operator = sshKey(t, f.dir, "operator")
	f.viewer = sshKey(t, f.dir, "viewer")
	f.stranger = sshKey(t, f.dir, "stranger")
	f.known = filepath.Join(f.dir, "known_hosts")
	keys := filepath.Join(f.dir, "authorized_keys")
	writeServeFile(t, keys, readServeFile(t, f.operator+".pub")+readServeFile(t, f.viewer+".pub"))
	fp, err := exec.Command("ssh-keygen", "-lf", f.operator+".pub").Output()
	if err != nil {
		t.Fatal(err)
	}
	ops := filepath.Join(f.dir, "operators")
	writeServeFile(t, ops, "# operators\n"+string(fp))
	f.addr, f.metricsAddr = freeAddr(t), freeAddr(t)
	args := append([]string{"serve", "--inventory", inv, "--count", "1", "--interval", "2s", "--traceroute-interval", "2s",
		"--ssh-listen", f.addr, "--metrics-listen", f.metricsAddr, "--authorized-keys", keys, "--operators", ops,
		"--state-dir", filepath.Join(f.dir, "state"), "--sweep-now-every", "5s", "--log-format", "json"}, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	f.cmd = exec.CommandContext(ctx, f.bin, args...)
	f.cmd.Env = append(os.Environ(), "SCOUTER_SECRET="+testSecret, "XDG_CONFIG_HOME="+t.TempDir())
	f.cmd.Stdout, f.cmd.Stderr = f.log, f.log
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = f.cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = f.cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cancel()
			<-exited
		}
		cancel()
		if t.Failed() {
			t.Logf("serve's log:\n%s", f.log.String())
		}
	})
	f.waitLog(`"msg":"ssh listening"`, 1)
	return f
}

// sshCommand is the OpenSSH client command line for a key (a fresh known_hosts file,
// the host key accepted on first use, nothing from the user's ~/.ssh).
func (f *serveFixture) sshCommand(key string, extra ...string) []string {
	host, port, _ := net.SplitHostPort(f.addr)
	return append([]string{"ssh", "-F", "/dev/null", "-p", port, "-i", key, "-o", "IdentitiesOnly=yes",
		"-o", "StrictHostKeyChecking=accept-new", "-o", "UserKnownHostsFile=" + f.known, "-o", "BatchMode=yes",
		"-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10"}, append(extra, "meshtop@"+host)...)
}

// count counts log lines containing s.
func (f *serveFixture) count(s string) int { return strings.Count(f.log.String(), s) }

func (f *serveFixture) waitLog(s string, n int) {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for f.count(s) < n {
		if time.Now().After(deadline) {
			f.t.Fatalf("serve never logged %d× %s; log:\n%s", n, s, f.log.String())
		}
		if f.cmd.ProcessState != nil {
			f.t.Fatalf("serve exited; log:\n%s", f.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (f *serveFixture) scrape() string {
	f.t.Helper()
	resp, err := http.Get("http://" + f.metricsAddr + "/metrics")
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		f.t.Fatalf("scrape: %d %v", resp.StatusCode, err)
	}
	return string(b)
}

var lastSweepRe = regexp.MustCompile(`last sweep (\d\d:\d\d:\d\d)`)

func lastSweepOf(scr string) string {
	if m := lastSweepRe.FindStringSubmatch(scr); m != nil {
		return m[1]
	}
	return ""
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// TestServeOverSSH drives `meshtop serve` with the real OpenSSH client in tmux, as a
// team would: two sessions of different sizes share the sweeps but not their views, the
// agents see one sweeper however many watch, roles and limits hold, and a client killed
// mid-frame hurts nobody else.
func TestServeOverSSH(t *testing.T) {
	f := startServe(t, "--max-sessions", "3")
	// The host key was made on first start, readable by the owner only.
	st, err := os.Stat(filepath.Join(f.dir, "state", "ssh_host_ed25519_key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("host key: %v, mode %v", err, st.Mode().Perm())
	}

	op := newTmux(t, 100, 30, "exec "+shellJoin(f.sshCommand(f.operator, "-t")))
	vw := newTmux(t, 80, 24, "exec "+shellJoin(f.sshCommand(f.viewer, "-t")))
	op.waitFor("src\\dst", "syd", "420", "last sweep")
	vw.waitFor("src\\dst", "syd", "420", "last sweep")

	// Both see the same sweeps: their status bars agree on the last one.
	deadline := time.Now().Add(20 * time.Second)
	for {
		a, b := lastSweepOf(op.screen()), lastSweepOf(vw.screen())
		if a != "" && a == b {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sessions never agreed on the last sweep: %q vs %q", a, b)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// One drills down while the other sorts: each keeps its own view.
	op.keys("Enter") // the cursor starts on ams→jfk
	vw.keys("o")
	op.waitFor("ams ⇄ jfk", "ams → jfk", "jfk → ams")
	scr := vw.waitFor("sort:worst", "src\\dst")
	if strings.Contains(scr, "⇄") {
		t.Fatalf("the viewer's grid followed the operator's drill-down:\n%s", scr)
	}
	if scr := op.screen(); strings.Contains(scr, "sort:worst") || !strings.Contains(scr, "⇄") {
		t.Fatalf("the operator's view followed the viewer's sort:\n%s", scr)
	}

	// A viewer's r is refused; an operator's is honoured once per rate-limit window.
	vw.keys("r")
	vw.waitFor("sweep now refused: your key has the viewer role")
	op.keys("r")
	f.waitLog(`"msg":"sweep now","who"`, 1)
	honoured := time.Now()
	op.keys("r")
	op.waitFor("sweep now refused: the team may ask once per 5s")
	if n := f.count(`"msg":"sweep now","who"`); n != 1 {
		t.Errorf("%d sweeps now honoured, want 1", n)
	}
	// The next window: honoured again.
	time.Sleep(time.Until(honoured.Add(5*time.Second + 200*time.Millisecond)))
	op.keys("r")
	f.waitLog(`"msg":"sweep now","who"`, 2)

	// The agents get one sweeper's tests, however many sessions watch: tests counted at
	// the agents lie between the sweeps finished before and after the count.
	f.waitLog(`"msg":"sweep done"`, 4)
	before := f.count(`"msg":"sweep done"`)
	got := int(f.pings.Load())
	after := f.count(`"msg":"sweep done"`)
	if got < servePerSweep*before || got > servePerSweep*(after+1) {
		t.Errorf("agents got %d ping tests over %d..%d sweeps (want %d per sweep: one sweeper for 2 sessions)",
			got, before, after, servePerSweep)
	}

	// A third session with NO_COLOR sent by the client gets its own colour profile.
	nc := newTmux(t, 40, 12, "exec "+shellJoin(f.sshCommand(f.viewer, "-t", "-o", "SetEnv=NO_COLOR=1")))
	nc.waitFor("src\\dst")
	raw := nc.run("capture-pane", "-p", "-e", "-t", "mt")
	for _, sgr := range []string{"38;2;", "48;2;", "38;5;", "48;5;"} {
		if strings.Contains(raw, sgr) {
			t.Errorf("NO_COLOR session carries colour %q", sgr)
		}
	}
	if raw := op.run("capture-pane", "-p", "-e", "-t", "mt"); !strings.Contains(raw, "\x1b[") {
		t.Error("the operator's session lost its colours to the NO_COLOR one")
	}

	// A fourth is refused with a clear message (max 3).
	out, err := exec.Command(f.sshCommand(f.viewer, "-tt")[0], f.sshCommand(f.viewer, "-tt")[1:]...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "3 sessions are open, the most this server allows") {
		t.Errorf("fourth session: %v\n%s", err, out)
	}

	// An unknown key is refused.
	out, err = exec.Command(f.sshCommand(f.stranger)[0], append(f.sshCommand(f.stranger)[1:], "true")...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Permission denied (publickey)") {
		t.Errorf("unknown key: %v\n%s", err, out)
	}
	f.waitLog(`"msg":"ssh login refused: unknown key"`, 1)

	// Kill the viewer's ssh client mid-frame (sweeps repaint every 2 s, so frames are in
	// flight): the daemon and the other sessions go on.
	pid, _ := strconv.Atoi(strings.TrimSpace(vw.run("display-message", "-p", "-t", "mt", "#{pane_pid}")))
	if pid <= 0 {
		t.Fatal("no pid for the viewer's ssh")
	}
	closedBefore := f.count(`"msg":"ssh session closed"`)
	if err := syscallKill(pid); err != nil {
		t.Fatal(err)
	}
	f.waitLog(`"msg":"ssh session closed"`, closedBefore+1)
	last := lastSweepOf(op.screen())
	op.waitFor("ams ⇄ jfk")
	deadline = time.Now().Add(20 * time.Second)
	for lastSweepOf(op.screen()) == last {
		if time.Now().After(deadline) {
			t.Fatalf("the operator's session stopped updating after the viewer died:\n%s", op.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if f.cmd.ProcessState != nil {
		t.Fatal("serve died with a client")
	}
	metrics := f.scrape()
	if !strings.Contains(metrics, "meshtop_ssh_sessions 2") {
		t.Errorf("metrics after one client died:\n%s", grepLines(metrics, "meshtop_ssh"))
	}
	// Esc, then q once the grid is back: sent together they can arrive as alt+q.
	op.keys("Escape")
	op.waitFor("src\\dst")
	op.keys("q")
	f.waitLog(`"msg":"ssh session closed"`, closedBefore+2)
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestServeMetrics scrapes /metrics of a running serve and checks it with promtool.
func TestServeMetrics(t *testing.T) {
	f := startServe(t)
	f.waitLog(`"msg":"sweep done"`, 1)
	m := f.scrape()
	for _, want := range []string{
		`meshtop_pair_latency_seconds{dst_pop="ams",src_pop="jfk"} 0.095`,
		`meshtop_pair_jitter_seconds{dst_pop="ams",src_pop="jfk"} 0`,
		`meshtop_pair_jitter_percent{dst_pop="ams",src_pop="jfk"} 0`,
		`meshtop_pair_loss_percent{dst_pop="ams",src_pop="syd"} 0`,
		`meshtop_pair_failed{dst_pop="sjc",src_pop="ams"} 0`,
		`meshtop_agent_up{agent="scouter-ams-0",pop="ams",state="ok"} 1`,
		`meshtop_tests_total{kind="ping"}`,
		`meshtop_sweep_duration_seconds_count`,
		`meshtop_sweep_lag_seconds`,
		`meshtop_ssh_sessions 0`,
		`meshtop_pairs 12`,
		`meshtop_sources_behind 0`,
		`meshtop_oldest_measurement_age_seconds`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	needTool(t, "promtool")
	cmd := exec.Command("promtool", "check", "metrics")
	cmd.Stdin = strings.NewReader(m)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestServeIdleAndNoTerminal: a session without input is closed after --idle-timeout and
// told why; a session without a terminal is told to ask for one.
func TestServeIdleAndNoTerminal(t *testing.T) {
	f := startServe(t, "--idle-timeout", "2s")
	// The client's output is read raw (ssh -tt on a pipe): tmux 3.3a can lose the last
	// lines when a Bubble Tea program leaves the alternate screen as the pane's program
	// ends (see waitQuit).
	args := f.sshCommand(f.viewer, "-tt")
	cmd := exec.Command(args[0], args[1:]...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close() // no input: the session goes idle
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("idle session ended with %v", err)
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("idle session was not closed")
	}
	o := out.String()
	leave := strings.LastIndex(o, "\x1b[?1049l")
	msg := strings.LastIndex(o, "session closed after 2s without input")
	if leave < 0 || msg < leave {
		t.Errorf("the closing line is not on the main screen after the UI (leave alt screen at %d, line at %d): %q", leave, msg, o[max(0, len(o)-400):])
	}
	f.waitLog(`"idle":true`, 1)
	noPty, err := exec.Command(f.sshCommand(f.viewer)[0], append(f.sshCommand(f.viewer)[1:], "true")...).CombinedOutput()
	if err == nil || !strings.Contains(string(noPty), "connect with ssh -t") {
		t.Errorf("session without a terminal: %v\n%s", err, noPty)
	}
}

// TestServeRefusesBadSetups: what would leave serve open or useless is an error at start.
func TestServeRefusesBadSetups(t *testing.T) {
	t.Setenv("SCOUTER_SECRET", testSecret)
	needTool(t, "ssh-keygen")
	dir := t.TempDir()
	key := sshKey(t, dir, "k")
	keys := filepath.Join(dir, "authorized_keys")
	writeServeFile(t, keys, readServeFile(t, key+".pub"))
	state := filepath.Join(dir, "state")
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	writeServeFile(t, filepath.Join(state, "ssh_host_ed25519_key"), readServeFile(t, key))
	if err := os.Chmod(filepath.Join(state, "ssh_host_ed25519_key"), 0o644); err != nil {
		t.Fatal(err)
	}
	inv := writeInventory(t, fakeAgent{"ams", scoutertest.Config{}}, fakeAgent{"jfk", scoutertest.Config{}})
	base := []string{"serve", "--inventory", inv, "--ssh-listen", "127.0.0.1:0"}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "--authorized-keys is required"},
		{[]string{"--authorized-keys", keys, "--log-format", "xml"}, "log-format"},
		{[]string{"--authorized-keys", keys, "--max-sessions", "0"}, "--max-sessions 0"},
		{[]string{"--authorized-keys", filepath.Join(dir, "k")}, "not an authorized_keys line"},
		{[]string{"--authorized-keys", keys, "--state-dir", state}, "want 0600"},
	} {
		_, _, err := runCLI(t, append(base, tt.args...)...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want %q", tt.args, err, tt.want)
		}
	}
}
