// Command hostile measures what hostile peers cost meshtop's real binaries (issue 23),
// each figure from a child process: the peak RSS (VmHWM / rusage maxrss) of
//
//   - snapshot beside one hostile agent among 14 healthy ones (it refuses batches with
//     "Max: 1", then answers every receipt with just under 8 MiB of empty ping entries,
//     running or done, or of traceroute hops);
//   - snapshot --source influx against an InfluxDB answering 5 or 20 MiB of empty rows,
//     empty series or one-value rows;
//   - serve while an SSH client claims a 2000x500 or 10000x2000 terminal;
//
// and a key holder's login time (the OpenSSH client) while 500 TCP connections that
// never finish a handshake are held and re-opened from eight other addresses.
//
// With -old BIN every scenario also runs on that binary (e.g. main before issue 23), in
// the same run, side by side. Children run under prlimit --as (-limit, default 6 GiB) so
// an old binary that would exhaust the machine fails instead: "over limit".
//
//	go run ./bench/hostile                      # builds ./cmd/meshtop
//	go run ./bench/hostile -old /tmp/meshtop-main -only agent,influx
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/meshtop/meshtop/probe/scoutertest"
)

const secret = "hostile-bench-secret"

var limit = flag.Int64("limit", 6<<30, "address-space limit of each child in bytes (prlimit --as)")

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(1)
	}
}

func run() error {
	bin := flag.String("bin", "", "meshtop binary (default: build ./cmd/meshtop)")
	old := flag.String("old", "", "also run every scenario on this binary (e.g. built from main)")
	only := flag.String("only", "agent,influx,pty,flood", "scenarios to run")
	flag.Parse()
	if *bin == "" {
		dir, err := os.MkdirTemp("", "hostile")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*bin = filepath.Join(dir, "meshtop")
		build := exec.Command("go", "build", "-o", *bin, "github.com/meshtop/meshtop/cmd/meshtop")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build meshtop: %w", err)
		}
	}
	bins := []struct{ name, path string }{{"new", *bin}}
	if *old != "" {
		bins = append(bins, struct{ name, path string }{"old", *old})
	}
	want := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		want[strings.TrimSpace(s)] = true
	}
	fmt.Printf("%-8s %-52s %s\n", "binary", "scenario", "figure")
	report := func(b, scenario, figure string) { fmt.Printf("%-8s %-52s %s\n", b, scenario, figure) }
	if want["agent"] {
		for _, shape := range agentShapes {
			inv, stop := hostileFleet(shape)
			args := []string{"snapshot", "--inventory", inv, "--format", "json"}
			if shape.flag != "" {
				args = append(args, shape.flag)
			}
			for _, b := range bins {
				report(b.name, "snapshot of 15 agents, hostile: "+shape.name, peakOf(b.path, args, []string{"SCOUTER_SECRET=" + secret}))
			}
			stop()
		}
	}
	if want["influx"] {
		for _, a := range influxAnswers {
			srv := amplifyingInflux(a.body)
			for _, b := range bins {
				report(b.name, fmt.Sprintf("snapshot --source influx, %d MiB of %s", (len(a.body)+512<<10)>>20, a.name),
					peakOf(b.path, []string{"snapshot", "--source", "influx", "--influx-url", srv.URL}, nil))
			}
			srv.Close()
		}
	}
	if want["pty"] || want["flood"] {
		for _, b := range bins {
			if err := serveScenarios(b.name, b.path, want, report); err != nil {
				report(b.name, "serve", "error: "+err.Error())
			}
		}
	}
	return nil
}

// peakOf runs meshtop with args and reports its peak RSS (and how it ended).
func peakOf(bin string, args, env []string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "prlimit", append([]string{"--as=" + strconv.FormatInt(*limit, 10), "--", bin}, args...)...)
	cmd.Env = append(os.Environ(), append(env, "XDG_CONFIG_HOME="+os.TempDir())...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start).Round(100 * time.Millisecond)
	peak := "?"
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		peak = mib(ru.Maxrss << 10)
	}
	how := "ok"
	switch {
	case strings.Contains(stderr.String(), "out of memory"):
		how = fmt.Sprintf("over limit (%s address space)", mib(*limit))
	case err != nil && ctx.Err() != nil:
		how = "timed out"
	case err != nil:
		how = "exit " + strconv.Itoa(cmd.ProcessState.ExitCode())
	}
	return fmt.Sprintf("peak RSS %s, %s, %s", peak, took, how)
}

func mib(b int64) string { return fmt.Sprintf("%d MiB", b>>20) }

// agentShapes are the hostile answers of issue 23 item 1.
var agentShapes = []struct {
	name, head, elem, tail, flag string
}{
	{"none (baseline)", "", "", "", ""},
	{"8 MiB of {} entries, done", `{"is_running":false,"results":{"ping":[`, `{}`, `]}}`, ""},
	{"8 MiB of {} entries, running", `{"is_running":true,"results":{"ping":[`, `{}`, `]}}`, ""},
	{"8 MiB of traceroute hops", `{"is_running":false,"results":{"traceroute":[{"id":"x","result":{"dst":"198.18.0.1","trace":[`,
		`{"ttl":1,"src":"198.18.0.9","hostname":"h","asn":1,"rtt_ms":1,"no_response":false}`, `]}}]}}`, "--traceroute"},
}

func repeated(size int, head, elem, tail string) []byte {
	var b bytes.Buffer
	b.WriteString(head)
	for n := 0; b.Len() < size-len(tail)-len(elem)-1; n++ {
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteString(elem)
	}
	b.WriteString(tail)
	return b.Bytes()
}

var maxOne = regexp.MustCompile(`\},\s*\{`)

// hostileFleet starts 14 healthy fake agents and one hostile one, and writes their
// inventory. The hostile agent gives its answer to every poll (the traceroute shape's
// snapshot runs with --traceroute).
func hostileFleet(shape struct{ name, head, elem, tail, flag string }) (inv string, stop func()) {
	answer := repeated(8<<20-1, shape.head, shape.elem, shape.tail)
	if shape.head == "" {
		answer = nil // a healthy fifteenth agent
	}
	var servers []*scoutertest.Server
	var b strings.Builder
	b.WriteString("agents:\n")
	add := func(name string, cfg scoutertest.Config, i int) {
		cfg.Secret = secret
		s := scoutertest.New(cfg)
		servers = append(servers, s)
		fmt.Fprintf(&b, "  - name: %s\n    pop: %s\n    address: 198.18.1.%d\n    url: %s\n", name, name, i+1, s.URL)
	}
	for i := range 14 {
		add(fmt.Sprintf("ok%02d", i), scoutertest.Config{RTT: func(_ string, n int) []float64 {
			out := make([]float64, n)
			for j := range out {
				out[j] = 20
			}
			return out
		}}, i)
	}
	add("bad", scoutertest.Config{Raw: func(w http.ResponseWriter, r *http.Request) bool {
		if answer == nil {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.Method {
		case http.MethodPost:
			body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if maxOne.Match(body) {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"error":"Provided number of tests is too high. Max: 1"}`))
				return true
			}
			_, _ = w.Write([]byte(`{"receipt":"0123456789abcdef0123456789abcdef"}`))
		case http.MethodGet:
			_, _ = w.Write(answer)
		default:
			_, _ = w.Write([]byte(`{"message":"Provided 'receipt' has been successfully deleted."}`))
		}
		return true
	}}, 14)
	dir, _ := os.MkdirTemp("", "hostile-inv")
	inv = filepath.Join(dir, "inventory.yaml")
	_ = os.WriteFile(inv, []byte(b.String()), 0o600)
	return inv, func() {
		for _, s := range servers {
			s.Close()
		}
		os.RemoveAll(dir)
	}
}

// influxAnswers are issue 23 item 6's amplifying /query answers.
var influxAnswers = []struct {
	name string
	body []byte
}{
	{"empty rows", repeated(5<<20, `{"results":[{"statement_id":0,"series":[{"name":"ping","columns":["key","value"],"values":[`, `[]`, `]}]}]}`)},
	{"empty series", repeated(5<<20, `{"results":[{"statement_id":0,"series":[`, `{}`, `]}]}`)},
	{"one-value rows", repeated(5<<20, `{"results":[{"statement_id":0,"series":[{"name":"ping","columns":["v"],"values":[`, `[0]`, `]}]}]}`)},
	{"empty rows", repeated(20<<20, `{"results":[{"statement_id":0,"series":[{"name":"ping","columns":["key","value"],"values":[`, `[]`, `]}]}]}`)},
}

func amplifyingInflux(body []byte) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Influxdb-Version", "1.6.7")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
}

// serveScenarios runs serve once and measures the pty and flood scenarios against it.
func serveScenarios(name, bin string, want map[string]bool, report func(b, s, f string)) error {
	dir, err := os.MkdirTemp("", "hostile-serve")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	key := filepath.Join(dir, "id")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		return fmt.Errorf("ssh-keygen: %v %s", err, out)
	}
	pub, _ := os.ReadFile(key + ".pub")
	keys := filepath.Join(dir, "authorized_keys")
	_ = os.WriteFile(keys, pub, 0o600)
	inv, stop := hostileFleetHealthy(4)
	defer stop()
	addr := freeAddr()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, "prlimit", "--as="+strconv.FormatInt(*limit, 10), "--", bin, "serve", "--inventory", inv,
		"--interval", "2s", "--count", "1", "--ssh-listen", addr, "--authorized-keys", keys, "--state-dir", filepath.Join(dir, "state"))
	cmd.Env = append(os.Environ(), "SCOUTER_SECRET="+secret, "XDG_CONFIG_HOME="+dir)
	var log syncBuf
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(log.String(), "ssh listening"); {
		if time.Now().After(deadline) {
			return fmt.Errorf("serve did not start: %s", log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	pid := cmd.Process.Pid // prlimit execs meshtop in place
	if want["pty"] {
		for _, size := range [][2]int{{2000, 500}, {10000, 2000}} {
			if name == "old" && size[0] > 2000 {
				report(name, "serve, a client at 10000x2000", "not run (4.3 GB, OOM in issue 23)")
				continue
			}
			err := bigPty(addr, key, size[0], size[1], 6*time.Second)
			fig := "peak RSS " + vmHWM(pid)
			if err != nil {
				fig += " (" + err.Error() + ")"
			}
			report(name, fmt.Sprintf("serve, a client at %dx%d", size[0], size[1]), fig)
		}
	}
	if want["flood"] {
		host, port, _ := net.SplitHostPort(addr)
		login := func() string {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			c := exec.CommandContext(ctx, "ssh", "-F", "/dev/null", "-p", port, "-i", key, "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
				"-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "meshtop@"+host)
			start := time.Now()
			out, _ := c.CombinedOutput()
			took := time.Since(start).Round(10 * time.Millisecond)
			if ctx.Err() != nil {
				return "> 60s (gave up)"
			}
			if !strings.Contains(string(out), "terminal UI") {
				return fmt.Sprintf("failed after %s (%q)", took, strings.TrimSpace(string(out)))
			}
			return took.String()
		}
		report(name, "serve, a key holder's login, no flood", login())
		stopFlood, reopened := flood(host, port, 500)
		time.Sleep(3 * time.Second)
		var took []string
		for range 3 {
			took = append(took, login())
		}
		stopFlood()
		report(name, "serve, a key holder's login under a pre-auth flood", strings.Join(took, ", ")+fmt.Sprintf(" (500 held, %d re-opened)", reopened.Load()))
	}
	return nil
}

// bigPty opens a session with a terminal of w x h and reads its frames for d.
func bigPty(addr, keyPath string, w, h int, d time.Duration) error {
	pem, err := os.ReadFile(keyPath)
	if err != nil {
		return err
	}
	signer, err := gossh.ParsePrivateKey(pem)
	if err != nil {
		return err
	}
	c, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "meshtop", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second}) //nolint:gosec // a bench against its own child
	if err != nil {
		return err
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
		return err
	}
	out, _ := s.StdoutPipe()
	go func() { _, _ = io.Copy(io.Discard, out) }()
	if err := s.Shell(); err != nil {
		return err
	}
	time.Sleep(d)
	return nil
}

// flood holds n TCP connections to host:port from 127.0.0.2-9 that never finish a
// handshake (half send SSH's version line first), re-opening each as it is closed.
func flood(host, port string, n int) (stop func(), reopened *atomic.Int64) {
	done := make(chan struct{})
	reopened = &atomic.Int64{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%8))}, Timeout: 5 * time.Second}
			for k := 0; ; k++ {
				select {
				case <-done:
					return
				default:
				}
				c, err := d.Dial("tcp", net.JoinHostPort(host, port))
				if err != nil {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				if k > 0 {
					reopened.Add(1)
				}
				if i%2 == 0 {
					_, _ = c.Write([]byte("SSH-2.0-flood\r\n"))
				}
				closed := make(chan struct{})
				go func() {
					buf := make([]byte, 4096)
					for {
						if _, err := c.Read(buf); err != nil {
							close(closed)
							return
						}
					}
				}()
				select {
				case <-done:
					c.Close()
					return
				case <-closed:
					c.Close()
				}
			}
		}()
	}
	return func() { close(done); wg.Wait() }, reopened
}

func hostileFleetHealthy(n int) (string, func()) {
	var servers []*scoutertest.Server
	var b strings.Builder
	b.WriteString("agents:\n")
	for i := range n {
		s := scoutertest.New(scoutertest.Config{Secret: secret})
		servers = append(servers, s)
		fmt.Fprintf(&b, "  - name: a%d\n    pop: p%d\n    address: 198.18.1.%d\n    url: %s\n", i, i, i+1, s.URL)
	}
	dir, _ := os.MkdirTemp("", "hostile-inv")
	inv := filepath.Join(dir, "inventory.yaml")
	_ = os.WriteFile(inv, []byte(b.String()), 0o600)
	return inv, func() {
		for _, s := range servers {
			s.Close()
		}
		os.RemoveAll(dir)
	}
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// vmHWM is a running process's peak resident set size.
func vmHWM(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "? (" + err.Error() + ")"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return mib(kb << 10)
		}
	}
	return "?"
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
