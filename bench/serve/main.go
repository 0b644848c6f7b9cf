// Command serve measures `meshtop serve` (the real binary, as a child process) with SSH
// sessions over loopback (golang.org/x/crypto/ssh clients): memory and CPU of the daemon
// per idle and per active session, bytes sent per session per sweep at 80x24 and 200x60,
// and 50 concurrent sessions on one serve. Fake agents (probe/scoutertest, real HTTP)
// count the tests they get, so the figures include the agents' load: one sweeper
// whatever the number of sessions, against one `meshtop live` per person.
//
//	go run ./bench/serve                  # builds ./cmd/meshtop into a temp dir
//	go run ./bench/serve -pops 10 -sessions 50 -sweeps 4 -interval 3s
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
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
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/meshtop/meshtop/probe/scoutertest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench/serve:", err)
		os.Exit(1)
	}
}

type bench struct {
	bin, dir, sshAddr, metricsAddr string
	signer                         ssh.Signer
	tests                          atomic.Int64 // ping tests the agents received
	cmd                            *exec.Cmd
	interval                       time.Duration
}

func run() error {
	bin := flag.String("bin", "", "meshtop binary (default: build ./cmd/meshtop)")
	pops := flag.Int("pops", 10, "fake agents (one per PoP)")
	sessions := flag.Int("sessions", 50, "concurrent sessions for the load step")
	sweeps := flag.Int("sweeps", 4, "sweeps measured per step")
	interval := flag.Duration("interval", 3*time.Second, "serve's --interval")
	flag.Parse()
	if *pops < 2 || *pops > 60 || *sessions < 1 || *sessions > 200 || *sweeps < 1 || *sweeps > 20 ||
		*interval < time.Second || *interval > 30*time.Second {
		return errors.New("want 2 <= -pops <= 60, 1 <= -sessions <= 200, 1 <= -sweeps <= 20, 1s <= -interval <= 30s")
	}
	dir, err := os.MkdirTemp("", "bench-serve")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b := &bench{dir: dir, bin: *bin, interval: *interval}
	if b.bin == "" {
		b.bin = filepath.Join(dir, "meshtop")
		build := exec.Command("go", "build", "-o", b.bin, "github.com/meshtop/meshtop/cmd/meshtop")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build meshtop: %w", err)
		}
	}
	inv, err := b.agents(*pops)
	if err != nil {
		return err
	}
	perSweep := *pops * (*pops - 1)
	fmt.Printf("meshtop serve: %d PoPs (%d ping tests a sweep), interval %s, %d sweeps a step, %d CPUs\n",
		*pops, perSweep, *interval, *sweeps, numCPU())
	fmt.Printf("%-34s %10s %12s %14s %16s %14s\n", "step", "RSS MiB", "CPU ms/sweep", "tests/sweep", "bytes/sess/sweep", "first frame")

	base, err := b.freshStep(inv, *sessions, "no session", 0, 80, 24, false, *sweeps)
	if err != nil {
		return err
	}
	b.print(base, 0)
	steps := []struct {
		name   string
		n      int
		w, h   int
		active bool
	}{
		{"10 idle sessions 80x24", 10, 80, 24, false},
		{"10 idle sessions 200x60", 10, 200, 60, false},
		{"10 active sessions 80x24", 10, 80, 24, true},
		{"10 active sessions 200x60", 10, 200, 60, true},
		{fmt.Sprintf("%d sessions 80x24 (1 in 5 active)", *sessions), *sessions, 80, 24, false},
	}
	var results []result
	for _, s := range steps {
		r, err := b.freshStep(inv, *sessions, s.name, s.n, s.w, s.h, s.active, *sweeps)
		if err != nil {
			return err
		}
		b.print(r, perSweep)
		results = append(results, r)
	}
	fmt.Println()
	for _, r := range results {
		fmt.Printf("%-34s per session: %+.2f MiB RSS, %+.2f ms CPU per sweep\n", r.name,
			(r.rssMiB-base.rssMiB)/float64(r.n), (r.cpuMsPerSweep-base.cpuMsPerSweep)/float64(r.n))
	}
	if rss, err := b.liveRSS(inv); err == nil {
		last := results[len(results)-1]
		fmt.Printf("\none `meshtop live` per person instead: %.1f MiB RSS each; %d people = %.0f MiB and %dx the agents' tests\n",
			rss, last.n, rss*float64(last.n), last.n)
		fmt.Printf("one serve for %d sessions: %.1f MiB RSS (%.1fx less) and 1x the agents' tests\n",
			last.n, last.rssMiB, rss*float64(last.n)/last.rssMiB)
	} else {
		fmt.Println("\n(no comparison with meshtop live:", err, ")")
	}
	return nil
}

func numCPU() int {
	out, err := exec.Command("nproc").Output()
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	return n
}

// agents starts the fake agents and writes an inventory for them.
func (b *bench) agents(n int) (string, error) {
	var inv strings.Builder
	inv.WriteString("agents:\n")
	for i := range n {
		rtt := float64(10 + 37*i%900)
		s := scoutertest.New(scoutertest.Config{Secret: "bench-secret", MaxTests: 30,
			RTT: func(_ string, count int) []float64 {
				b.tests.Add(1)
				// Values move every sweep, as real ones do, so frames carry changed cells.
				out := make([]float64, count)
				for j := range out {
					out[j] = rtt * (0.9 + 0.2*mrand.Float64())
				}
				return out
			}})
		fmt.Fprintf(&inv, "  - name: agent-%02d\n    pop: p%02d\n    address: 198.18.1.%d\n    url: %s\n", i, i, i+1, s.URL)
	}
	path := filepath.Join(b.dir, "inventory.yaml")
	return path, os.WriteFile(path, []byte(inv.String()), 0o600)
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func (b *bench) start(inv string, maxSessions int) error {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	if b.signer, err = ssh.NewSignerFromKey(priv); err != nil {
		return err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return err
	}
	keys := filepath.Join(b.dir, "authorized_keys")
	if err := os.WriteFile(keys, ssh.MarshalAuthorizedKey(sshPub), 0o600); err != nil {
		return err
	}
	if b.sshAddr, err = freeAddr(); err != nil {
		return err
	}
	if b.metricsAddr, err = freeAddr(); err != nil {
		return err
	}
	b.cmd = exec.Command(b.bin, "serve", "--inventory", inv, "--count", "1", "--interval", b.interval.String(),
		"--traceroute-interval", "0", "--ssh-listen", b.sshAddr, "--metrics-listen", b.metricsAddr,
		"--authorized-keys", keys, "--state-dir", filepath.Join(b.dir, "state"),
		"--max-sessions", strconv.Itoa(maxSessions+5))
	b.cmd.Env = append(os.Environ(), "SCOUTER_SECRET=bench-secret", "XDG_CONFIG_HOME="+filepath.Join(b.dir, "config"))
	logf, err := os.Create(filepath.Join(b.dir, "serve.log"))
	if err != nil {
		return err
	}
	b.cmd.Stdout, b.cmd.Stderr = logf, logf
	if err := b.cmd.Start(); err != nil {
		return err
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := b.metric("meshtop_sweeps_total"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(b.dir, "serve.log"))
			return fmt.Errorf("serve did not come up: %s", log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return b.waitSweeps(1)
}

func (b *bench) stop() {
	_ = b.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = b.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = b.cmd.Process.Kill()
	}
}

func (b *bench) metric(name string) (float64, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + b.metricsAddr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 16<<20))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			return strconv.ParseFloat(f[1], 64)
		}
	}
	return 0, fmt.Errorf("no %s", name)
}

func (b *bench) waitSweeps(n float64) error {
	start, err := b.metric("meshtop_sweeps_total")
	if err != nil {
		return err
	}
	deadline := time.Now().Add(time.Duration(n+2) * (b.interval + 30*time.Second))
	for {
		v, err := b.metric("meshtop_sweeps_total")
		if err == nil && v >= start+n {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("sweeps stalled")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// proc reads the daemon's RSS (MiB) and CPU time (user+system).
func proc(pid int) (rssMiB float64, cpu time.Duration, err error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	if m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(status); m != nil {
		kb, _ := strconv.Atoi(string(m[1]))
		rssMiB = float64(kb) / 1024
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// Fields after the command name (which may hold spaces) start after ')'.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(f) < 13 {
		return 0, 0, errors.New("short /proc stat")
	}
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return rssMiB, time.Duration(ut+st) * 10 * time.Millisecond, nil // USER_HZ 100
}

// session is one SSH client with a pty, counting what the server sends it.
type session struct {
	client     *ssh.Client
	sess       *ssh.Session
	stdin      io.WriteCloser
	bytes      atomic.Int64
	firstFrame atomic.Int64 // ns from connect to a frame with the grid header
}

func (b *bench) open(w, h int) (*session, error) {
	start := time.Now()
	cfg := &ssh.ClientConfig{User: "bench", Auth: []ssh.AuthMethod{ssh.PublicKeys(b.signer)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), // loopback, a key made a second ago
		Timeout:         10 * time.Second}
	c, err := ssh.Dial("tcp", b.sshAddr, cfg)
	if err != nil {
		return nil, err
	}
	s, err := c.NewSession()
	if err != nil {
		c.Close()
		return nil, err
	}
	if err := s.RequestPty("xterm-256color", h, w, ssh.TerminalModes{ssh.ECHO: 0}); err != nil {
		c.Close()
		return nil, err
	}
	out, err := s.StdoutPipe()
	if err != nil {
		c.Close()
		return nil, err
	}
	in, err := s.StdinPipe()
	if err != nil {
		c.Close()
		return nil, err
	}
	if err := s.Shell(); err != nil {
		c.Close()
		return nil, err
	}
	se := &session{client: c, sess: s, stdin: in}
	go func() {
		buf := make([]byte, 32<<10)
		var tail []byte
		for {
			n, err := out.Read(buf)
			se.bytes.Add(int64(n))
			if se.firstFrame.Load() == 0 && n > 0 {
				tail = append(tail, buf[:n]...)
				if bytes.Contains(tail, []byte(`src\dst`)) {
					se.firstFrame.Store(int64(time.Since(start)))
					tail = nil
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return se, nil
}

func (s *session) close() {
	_, _ = s.stdin.Write([]byte("q"))
	_ = s.sess.Close()
	_ = s.client.Close()
}

type result struct {
	name                  string
	n                     int
	rssMiB, cpuMsPerSweep float64
	testsPerSweep         float64
	bytesPerSessPerSweep  float64
	firstFrame            time.Duration
}

// freshStep runs a step on a serve of its own, so RSS (a high-water mark in a Go
// process) is not carried over from the step before.
func (b *bench) freshStep(inv string, maxSessions int, name string, n, w, h int, active bool, sweeps int) (result, error) {
	if err := b.start(inv, maxSessions); err != nil {
		return result{}, err
	}
	defer b.stop()
	return b.step(name, n, w, h, active, sweeps)
}

// step opens n sessions of w x h (active ones press keys several times a second),
// measures over the given number of sweeps and closes them.
func (b *bench) step(name string, n, w, h int, active bool, sweeps int) (result, error) {
	r := result{name: name, n: n}
	var ss []*session
	defer func() {
		for _, s := range ss {
			s.close()
		}
	}()
	for range n {
		s, err := b.open(w, h)
		if err != nil {
			return r, fmt.Errorf("%s: open session %d: %w", name, len(ss)+1, err)
		}
		ss = append(ss, s)
	}
	// Every session painted its first frame.
	deadline := time.Now().Add(60 * time.Second)
	for _, s := range ss {
		for s.firstFrame.Load() == 0 {
			if time.Now().After(deadline) {
				return r, fmt.Errorf("%s: a session never got a frame", name)
			}
			time.Sleep(10 * time.Millisecond)
		}
		r.firstFrame = max(r.firstFrame, time.Duration(s.firstFrame.Load()))
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	keys := []string{"m", "j", "l", "o", "s", "k", "h", "o"}
	for i, s := range ss {
		// The big step mixes: one session in five is active.
		if !active && (n <= 10 || i%5 != 0) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(200 * time.Millisecond)
			defer t.Stop()
			for k := 0; ; k++ {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					_, _ = s.stdin.Write([]byte(keys[k%len(keys)]))
				}
			}
		}()
	}
	// Settle on a sweep boundary, then measure whole sweeps.
	if err := b.waitSweeps(1); err != nil {
		cancel()
		return r, err
	}
	_, cpu0, err := proc(b.cmd.Process.Pid)
	if err != nil {
		cancel()
		return r, err
	}
	tests0 := b.tests.Load()
	var bytes0 int64
	for _, s := range ss {
		bytes0 += s.bytes.Load()
	}
	var rssMax float64
	done := make(chan error, 1)
	go func() { done <- b.waitSweeps(float64(sweeps)) }()
	t := time.NewTicker(100 * time.Millisecond)
wait:
	for {
		select {
		case err := <-done:
			if err != nil {
				cancel()
				return r, err
			}
			break wait
		case <-t.C:
			if rss, _, err := proc(b.cmd.Process.Pid); err == nil {
				rssMax = max(rssMax, rss)
			}
		}
	}
	t.Stop()
	cancel()
	wg.Wait()
	rss, cpu1, err := proc(b.cmd.Process.Pid)
	if err != nil {
		return r, err
	}
	var bytes1 int64
	for _, s := range ss {
		bytes1 += s.bytes.Load()
	}
	r.rssMiB = max(rss, rssMax)
	r.cpuMsPerSweep = float64((cpu1 - cpu0).Milliseconds()) / float64(sweeps)
	r.testsPerSweep = float64(b.tests.Load()-tests0) / float64(sweeps)
	if n > 0 {
		r.bytesPerSessPerSweep = float64(bytes1-bytes0) / float64(n) / float64(sweeps)
	}
	return r, nil
}

func (b *bench) print(r result, _ int) {
	ff := "-"
	if r.n > 0 {
		ff = r.firstFrame.Round(time.Millisecond).String()
	}
	fmt.Printf("%-34s %10.1f %12.1f %14.1f %16.0f %14s\n", r.name, r.rssMiB, r.cpuMsPerSweep, r.testsPerSweep,
		r.bytesPerSessPerSweep, ff)
}

// liveRSS runs one `meshtop live` in tmux (what each person would run without serve)
// and reads its RSS after a few sweeps.
func (b *bench) liveRSS(inv string) (float64, error) {
	if _, err := exec.LookPath("tmux"); err != nil {
		return 0, errors.New("tmux not installed")
	}
	sock := fmt.Sprintf("mt-bench-serve-%d", os.Getpid())
	pidFile := filepath.Join(b.dir, "live.pid")
	cmd := fmt.Sprintf("echo $$ > %s; exec env SCOUTER_SECRET=bench-secret XDG_CONFIG_HOME=%s %s live --inventory %s --count 1 --interval %s --traceroute-interval 0",
		pidFile, filepath.Join(b.dir, "config"), b.bin, inv, b.interval)
	if out, err := exec.Command("tmux", "-L", sock, "new-session", "-d", "-x", "80", "-y", "24", cmd).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("tmux: %v: %s", err, out)
	}
	defer exec.Command("tmux", "-L", sock, "kill-server").Run()
	time.Sleep(3*b.interval + time.Second)
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, err
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	rss, _, err := proc(pid)
	return rss, err
}
