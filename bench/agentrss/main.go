// Command agentrss measures the memory of `meshtop agent`: it starts the agent as a child
// process (the real binary), reads its resident set size idle, then while it runs 100
// concurrent ping tests of 127.0.0.1, and prints the figures. Needs root (raw ICMP).
//
//	go run ./bench/agentrss            # builds ./cmd/meshtop into a temp dir
//	go run ./bench/agentrss -bin ./meshtop -tests 100 -count 5
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "agentrss:", err)
		os.Exit(1)
	}
}

func run() error {
	bin := flag.String("bin", "", "meshtop binary (default: build ./cmd/meshtop)")
	tests := flag.Int("tests", 100, "concurrent ping tests")
	count := flag.Int("count", 5, "pings per test")
	perPost := flag.Int("per-post", 10, "tests per POST (the agent's --max-tests)")
	flood := flag.Int("flood", 0, "then POST this many requests of invalid input (never fetched) and report RSS (issue 10 item 10)")
	flag.Parse()
	if *tests < 1 || *tests > 1000 || *count < 1 || *count > 20 || *perPost < 1 {
		return errors.New("want 1 <= -tests <= 1000, 1 <= -count <= 20, -per-post >= 1")
	}
	if *bin == "" {
		dir, err := os.MkdirTemp("", "agentrss")
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
	secretBytes := make([]byte, 16)
	_, _ = rand.Read(secretBytes)
	secret := hex.EncodeToString(secretBytes)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, *bin, "agent", "--listen", "127.0.0.1:0",
		"--max-tests", strconv.Itoa(*perPost), "--max-procs", strconv.Itoa(*tests),
		"--allow", "127.0.0.0/8", "--rdns=false")
	cmd.Env = append(os.Environ(), "SCOUTER_API_SECRET="+secret)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start agent: %w", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	base, line, err := readStartLine(stderr)
	if err != nil {
		return err
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	fmt.Println(line)
	pid := cmd.Process.Pid
	c := &client{base: base, secret: secret}

	if _, err := c.do(http.MethodGet, "/api/v1.0/status", nil); err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond)
	idle, err := rss(pid, "VmRSS")
	if err != nil {
		return err
	}

	// Sample RSS while the tests run.
	var peak int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if v, err := rss(pid, "VmRSS"); err == nil && v > peak {
				peak = v
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var recv, sent, failedTests int
	var firstErr error
	for i := 0; i < *tests; i += *perPost {
		n := min(*perPost, *tests-i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, s, f, err := c.pingBatch(n, *count)
			mu.Lock()
			defer mu.Unlock()
			recv, sent, failedTests = recv+r, sent+s, failedTests+f
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	close(stop)
	<-sampled
	if firstErr != nil {
		return firstErr
	}
	hwm, _ := rss(pid, "VmHWM")
	after, _ := rss(pid, "VmRSS")
	fmt.Printf("idle RSS:                 %.1f MiB\n", mib(idle))
	fmt.Printf("peak RSS, %d tests:      %.1f MiB (VmHWM; highest 50 ms sample %.1f MiB)\n", *tests, mib(hwm), mib(peak))
	fmt.Printf("RSS after the tests:      %.1f MiB\n", mib(after))
	fmt.Printf("tests: %d x %d pings of 127.0.0.1 in %d POSTs; replies %d/%d; tests failed %d; wall %.1fs\n",
		*tests, *count, (*tests+*perPost-1) / *perPost, recv, sent, failedTests, took.Seconds())
	if *flood > 0 {
		return c.flood(pid, *flood, *perPost)
	}
	return nil
}

// flood posts n requests whose tests carry ~24 KB of invalid dst each (bytes that are not
// UTF-8: JSON makes each a 3-byte U+FFFD), never fetches their answers, and reports the
// agent's memory: what a signed-in client could drive it to.
func (c *client) flood(pid, n, perPost int) error {
	bad := strings.Repeat("\xff", 24_000)
	tests := make([]string, perPost)
	for i := range tests {
		tests[i] = `{"dst": "` + bad + `", "id": "` + strings.Repeat("i", 1000) + `"}`
	}
	body := []byte(`{"ping": [` + strings.Join(tests, ",") + `]}`)
	start := time.Now()
	jobs := make(chan struct{})
	errc := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				if _, err := c.do(http.MethodPost, "/api/v1.0/tests", body); err != nil {
					select {
					case errc <- err:
					default:
					}
					return
				}
			}
		}()
	}
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errc:
		return fmt.Errorf("flood: %w", err)
	default:
	}
	time.Sleep(time.Second) // let the last tests finish and their answers be stored
	hwm, _ := rss(pid, "VmHWM")
	after, _ := rss(pid, "VmRSS")
	fmt.Printf("flood: %d POSTs of %d KiB invalid input in %.1fs; RSS after %.1f MiB, peak (VmHWM) %.1f MiB\n",
		n, len(body)>>10, time.Since(start).Seconds(), mib(after), mib(hwm))
	return nil
}

var listenRE = regexp.MustCompile(`listening on (https?://[^;\s]+)`)

func readStartLine(r io.Reader) (string, string, error) {
	sc := bufio.NewScanner(r)
	lines := make(chan string, 1)
	go func() {
		for sc.Scan() {
			if listenRE.MatchString(sc.Text()) {
				lines <- sc.Text()
				return
			}
		}
		close(lines)
	}()
	select {
	case l, ok := <-lines:
		if !ok {
			return "", "", errors.New("agent exited before it listened (run as root?)")
		}
		return listenRE.FindStringSubmatch(l)[1], l, nil
	case <-time.After(10 * time.Second):
		return "", "", errors.New("agent printed no start line within 10 s")
	}
}

func rss(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, field+":") {
			f := strings.Fields(l)
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

type client struct {
	base, secret string
}

func (c *client) do(method, path string, body []byte) ([]byte, error) {
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", c.secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, b)
	}
	return b, nil
}

// pingBatch posts n ping tests and waits for them; it returns replies, probes sent and
// failed tests.
func (c *client) pingBatch(n, count int) (recv, sent, failed int, err error) {
	type opt struct {
		Dst   string `json:"dst"`
		Count int    `json:"count"`
	}
	var req struct {
		Ping []opt `json:"ping"`
	}
	for range n {
		req.Ping = append(req.Ping, opt{"127.0.0.1", count})
	}
	body, _ := json.Marshal(req)
	b, err := c.do(http.MethodPost, "/api/v1.0/tests", body)
	if err != nil {
		return 0, 0, 0, err
	}
	var rc struct{ Receipt string }
	if err := json.Unmarshal(b, &rc); err != nil {
		return 0, 0, 0, fmt.Errorf("POST answer %s: %w", b, err)
	}
	deadline := time.Now().Add(time.Duration(count)*3*time.Second + 30*time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		b, err := c.do(http.MethodGet, "/api/v1.0/tests?receipt="+rc.Receipt, nil)
		if err != nil {
			return 0, 0, 0, err
		}
		var st struct {
			IsRunning *bool `json:"is_running"`
			Results   struct {
				Ping []struct {
					Failed bool
					Result struct{ Sent, Recv int }
				}
			}
		}
		if err := json.Unmarshal(b, &st); err != nil {
			return 0, 0, 0, err
		}
		if st.IsRunning == nil || *st.IsRunning {
			continue
		}
		for _, p := range st.Results.Ping {
			recv, sent = recv+p.Result.Recv, sent+p.Result.Sent
			if p.Failed {
				failed++
			}
		}
		_, err = c.do(http.MethodDelete, "/api/v1.0/tests?receipt="+rc.Receipt, nil)
		return recv, sent, failed, err
	}
	return 0, 0, 0, errors.New("tests did not finish in time")
}
