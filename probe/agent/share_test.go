package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// clientFrom is an HTTP client whose connections come from a loopback address of its
// own: the agent tells clients apart by source address.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
}

func callFrom(t *testing.T, hc *http.Client, method, url, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", testSecret)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header.Get("Content-Type"), b}
}

// TestFairShareBetweenClients: issue 23 item 11. One holder of the secret with receipts
// of slow pings kept every other client at 503 "busy", then queued behind its tests.
// Now it holds at most its share of the running receipts, and another client's test
// gets the next free process while the first client's tests still run.
func TestFairShareBetweenClients(t *testing.T) {
	needRoot(t)
	a, base := startAgent(t, func(c *Config) {
		c.MaxProcs, c.MaxRunning, c.ProbeInterval = 2, 8, 300*time.Millisecond
	})
	hog, other := clientFrom("127.0.0.2"), clientFrom("127.0.0.3")
	pings := strings.TrimSuffix(strings.Repeat(`{"dst":"127.0.0.1","count":5},`, 10), ",")
	for i := range 5 {
		ans := callFrom(t, hog, http.MethodPost, base+"/api/v1.0/tests", `{"ping":[`+pings+`]}`)
		switch {
		case i < 4 && ans.code != http.StatusOK:
			t.Fatalf("hog's POST %d: %d %s", i, ans.code, ans.body)
		case i == 4 && (ans.code != http.StatusServiceUnavailable || !strings.Contains(string(ans.body), "this client already runs 4 receipts")):
			t.Fatalf("hog's POST over its share: %d %s", ans.code, ans.body)
		}
	}
	ans := callFrom(t, other, http.MethodPost, base+"/api/v1.0/tests", `{"ping":[{"dst":"127.0.0.1","count":1}]}`)
	if ans.code != http.StatusOK {
		t.Fatalf("another client is refused while the hog holds its share: %d %s", ans.code, ans.body)
	}
	var rc struct{ Receipt string }
	if err := json.Unmarshal(ans.body, &rc); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := callFrom(t, other, http.MethodGet, base+"/api/v1.0/tests?receipt="+rc.Receipt, "")
		if strings.Contains(string(got.body), `"is_running":false`) {
			if !strings.Contains(string(got.body), `"failed":false`) {
				t.Fatalf("the other client's ping failed: %s", got.body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the other client's test never ran")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// 40 tests of ~1.2 s on 2 processes. Served from one queue, the other's test would
	// start after all 40 had started: three of the hog's four receipts done by then.
	if n := a.receipts.running("127.0.0.2"); n < 3 {
		t.Errorf("%d of the hog's receipts still run: the other client waited behind its tests", n)
	}
	t.Logf("the other client's test ran with %d of the hog's receipts still running", a.receipts.running("127.0.0.2"))
}

// TestPoolGivesFreedSlotsToTheLeastServedClient: the pool's rule on its own.
func TestPoolGivesFreedSlotsToTheLeastServedClient(t *testing.T) {
	p := newPool(2)
	ctx := context.Background()
	s1, _ := p.acquire(ctx, "hog")
	s2, _ := p.acquire(ctx, "hog")
	got := make(chan string, 3)
	for _, c := range []string{"hog", "hog", "other"} {
		go func() {
			if i, err := p.acquire(ctx, c); err == nil {
				got <- c
				_ = i
			}
		}()
		time.Sleep(20 * time.Millisecond) // queue them in this order
	}
	p.release(s1, 0, false)
	if c := <-got; c != "other" {
		t.Fatalf("a freed slot went to %s, want the client running nothing", c)
	}
	p.release(s2, 0, false)
	if c := <-got; c != "hog" {
		t.Fatalf("then %s", c)
	}
}

// TestEchoedTestTypesAreBoundedAndCounted: issue 23 item 10. Test types are echoed as
// keys of the answer: 20 KB names with escape sequences, posted a thousand times, were
// echoed whole and kept outside the store's budget (199 MB RSS under 9000 POSTs). Now
// each is echoed cleaned and cut, and the store stays within its budget.
func TestEchoedTestTypesAreBoundedAndCounted(t *testing.T) {
	const budget = 1 << 20
	a, base := startAgent(t, func(c *Config) { c.MaxStored = budget })
	var types []string
	for i := range 10 {
		name := fmt.Sprintf("evil-%d-\u001b]0;pwned\u0007\u001b[2J", i) + strings.Repeat("x", 2_000)
		key, _ := json.Marshal(name)
		types = append(types, string(key)+`: [{"dst": "127.0.0.1"}]`)
	}
	body := "{" + strings.Join(types, ",") + "}"
	var last string
	for range 1000 {
		last = postTests(t, base, body)
	}
	raw := waitDone(t, base, last)
	var got struct {
		Results map[string][]struct {
			Message string `json:"message"`
		} `json:"results"`
	}
	if err := json.Unmarshal(raw, &got); err != nil || len(got.Results) != 10 {
		t.Fatalf("answer of %d bytes: %v, %d types", len(raw), err, len(got.Results))
	}
	for k, v := range got.Results {
		if utf8.RuneCountInString(k) > maxTypeEcho+1 || strings.ContainsAny(k, "\x1b\x07") {
			t.Errorf("type echoed as %q", k)
		}
		if len(v) != 1 || v[0].Message != "Provided test type does not exist." {
			t.Errorf("%q: %+v", k, v)
		}
	}
	n, stored := a.receipts.usage()
	if stored > budget {
		t.Errorf("%d receipts hold %d bytes, over the %d budget", n, stored, budget)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("%d receipts, %d KiB stored; heap in use %d MiB", n, stored>>10, ms.HeapAlloc>>20)
	if ms.HeapAlloc > 64<<20 {
		t.Errorf("heap in use %d MiB after 1000 POSTs of echoed types", ms.HeapAlloc>>20)
	}
}
