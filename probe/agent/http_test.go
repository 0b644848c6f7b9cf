package agent

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshtop/meshtop/probe"
)

func TestNewNeedsSecret(t *testing.T) {
	if _, err := New(Config{}); err == nil || !strings.Contains(err.Error(), "SCOUTER_API_SECRET") {
		t.Errorf("New without a secret: %v, want an error naming SCOUTER_API_SECRET", err)
	}
	a, err := New(Config{InsecureNoAuth: true})
	if err != nil {
		t.Fatalf("New with InsecureNoAuth: %v", err)
	}
	_ = a.Close()
}

func TestAuth(t *testing.T) {
	_, base := startAgent(t, nil)
	for _, c := range []struct {
		name, secret, path string
		code               int
	}{
		{"no secret", "", "/api/v1.0/status", 403},
		{"wrong secret", "nope", "/api/v1.0/status", 403},
		{"secret with a scheme", "Bearer " + testSecret, "/api/v1.0/status", 403},
		{"prefix of the secret", testSecret[:5], "/api/v1.0/status", 403},
		{"unknown path without secret is still 403", "", "/nope", 403},
		{"right secret", testSecret, "/api/v1.0/status", 200},
		{"unknown path", testSecret, "/nope", 404},
	} {
		got := call(t, http.MethodGet, base+c.path, c.secret, "")
		if got.code != c.code {
			t.Errorf("%s: %d %s, want %d", c.name, got.code, got.body, c.code)
		}
		if c.code != 200 && !strings.HasPrefix(got.ctype, "text/html") {
			t.Errorf("%s: content type %q, want an HTML page like upstream", c.name, got.ctype)
		}
		if c.code == 403 && !strings.Contains(string(got.body), "<title>403 Forbidden</title>") {
			t.Errorf("%s: body %s, want upstream's 403 page", c.name, got.body)
		}
	}
	got := call(t, http.MethodPut, base+"/api/v1.0/tests", testSecret, "{}")
	if got.code != 405 {
		t.Errorf("PUT: %d, want 405", got.code)
	}
}

func TestInsecureNoAuth(t *testing.T) {
	_, base := startAgent(t, func(c *Config) { c.Secret, c.InsecureNoAuth = "", true })
	if got := call(t, http.MethodGet, base+"/api/v1.0/status", "", ""); got.code != 200 {
		t.Errorf("status without secret on an --insecure-no-auth agent: %d", got.code)
	}
}

func TestPostRefusals(t *testing.T) {
	_, base := startAgent(t, func(c *Config) { c.MaxTests = 3; c.MaxBodyBytes = 512 })
	tests := base + "/api/v1.0/tests"
	for _, c := range []struct {
		name, body string
		code       int
		html       bool
		msg        string
	}{
		{"not JSON", "{nope", 400, true, "Failed to decode JSON object"},
		{"empty body", " ", 400, true, "Failed to decode JSON object"},
		{"trailing data", `{} {}`, 400, true, "Failed to decode JSON object"},
		{"null", `null`, 400, false, probe.ErrBadPayload},
		{"a list", `[{"ping":[]}]`, 400, false, probe.ErrBadPayload},
		{"tests not a list", `{"ping":{"dst":"127.0.0.1"}}`, 400, false, probe.ErrBadPayload},
		{"options not an object", `{"ping":["127.0.0.1"]}`, 400, false, probe.ErrBadPayload},
		{"too many, summed over types", `{"ping":[{},{}],"traceroute":[{}],"dns_lookup":[{}]}`, 400, false, "Provided number of tests is too high. Max: 3"},
		{"too large", `{"ping":[{"dst":"` + strings.Repeat("a", 600) + `"}]}`, 413, true, "Request Entity Too Large"},
	} {
		got := call(t, http.MethodPost, tests, testSecret, c.body)
		if got.code != c.code || strings.HasPrefix(got.ctype, "text/html") != c.html || !strings.Contains(string(got.body), c.msg) {
			t.Errorf("%s: %d %s %s, want %d html=%v containing %q", c.name, got.code, got.ctype, got.body, c.code, c.html, c.msg)
		}
		if !c.html {
			var eb probe.ErrorBody
			if err := json.Unmarshal(got.body, &eb); err != nil || eb.Error != c.msg {
				t.Errorf("%s: body %s, want {\"error\": %q}", c.name, got.body, c.msg)
			}
		}
	}
}

// TestPerTestMessages checks tests that end with a message: they keep HTTP 200 and
// never probe anything, so they run without root.
func TestPerTestMessages(t *testing.T) {
	_, base := startAgent(t, func(c *Config) {
		c.Allow = []netip.Prefix{netip.MustParsePrefix("198.18.0.0/15")}
	})
	id := postTests(t, base, `{"ping":[{"dst":"127.0.0.1","id":"outside"},{"dst":"localhost","id":"name"},{"id":"nodst"},{"dst":null,"id":"nulldst"},{"dst":"127.0.0.1","count":"x","id":"badcount"},{"dst":"127.0.0.2","id":0}],
		"traceroute":[{"dst":"127.0.0.1","id":"tr"}],"dns_lookup":[{"qname":"example.com","id":"dns"}]}`)
	var got probe.TestsResponse
	done := waitDone(t, base, id)
	if err := json.Unmarshal(done, &got); err != nil {
		t.Fatalf("client types cannot decode %s: %v", done, err)
	}
	msgs := map[string]string{}
	for _, e := range got.Results.Ping {
		if e.Message != nil {
			msgs[e.ID] = *e.Message
		}
		if e.Message != nil && !e.Failed {
			t.Errorf("entry %s has a message but failed=false", e.ID)
		}
	}
	for _, e := range got.Results.Traceroute {
		msgs[e.ID] = *e.Message
	}
	var raw struct {
		Results map[string][]struct {
			ID      any
			Message string
			Result  map[string]any
		}
	}
	_ = json.Unmarshal(done, &raw)
	for _, e := range raw.Results["dns_lookup"] {
		msgs["dns"] = e.Message
	}
	for _, e := range raw.Results["ping"] {
		if e.Message != "" && len(e.Result) != 0 {
			t.Errorf("entry %v with a message has result %v, want {}", e.ID, e.Result)
		}
		if s, ok := e.ID.(string); ok && len(s) == 6 && s != "nodst" && strings.Contains(e.Message, "127.0.0.2") {
			msgs["generated-id"] = s // the falsy id 0 was replaced by a random one
		}
	}
	want := map[string]string{
		"outside":  "Provided 'dst' of '127.0.0.1' is not allowed by this agent's --allow list.",
		"name":     "is not allowed by this agent's --allow list.",
		"nodst":    probe.MsgMissingDst,
		"nulldst":  probe.MsgMissingDst,
		"badcount": "Provided 'count' of 'x' must be an integer.",
		"tr":       "Provided 'dst' of '127.0.0.1' is not allowed by this agent's --allow list.",
		"dns":      probe.MsgNoSuchTestType,
	}
	for id, w := range want {
		if !strings.Contains(msgs[id], w) {
			t.Errorf("test %s: message %q, want %q", id, msgs[id], w)
		}
	}
	if _, ok := msgs["generated-id"]; !ok {
		t.Errorf("a falsy id (0) was not replaced by a generated one: %s", done)
	}
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestReceiptLifecycle(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	a, base := startAgent(t, func(c *Config) { c.Now = clock.Now; c.MaxProcs = 1; c.MaxReceipts = 3 })
	tests := base + "/api/v1.0/tests"

	t.Run("empty POST is done at once", func(t *testing.T) {
		id := postTests(t, base, `{}`)
		done := waitDone(t, base, id)
		if s := strings.TrimSpace(string(done)); s != `{"is_running":false,"receipt":"`+id+`","results":{}}` {
			t.Errorf("answer %s", s)
		}
	})

	t.Run("running until the tests end", func(t *testing.T) {
		slot, _ := a.pool.acquire(context.Background(), "test") // the test waits for this slot
		id := postTests(t, base, `{"ping":[{"dst":"127.0.0.1","count":1}],"traceroute":[]}`)
		got := call(t, http.MethodGet, tests+"?receipt="+id, testSecret, "")
		var tr probe.TestsResponse
		_ = json.Unmarshal(got.body, &tr)
		if s := strings.TrimSpace(string(got.body)); s != `{"is_running":true,"receipt":"`+id+`","results":{"ping":[]}}` || !tr.Running() {
			t.Errorf("while running: %s", s)
		}
		// DELETE while running cancels the waiting test; the receipt is gone.
		if got := call(t, http.MethodDelete, tests+"?receipt="+id, testSecret, ""); got.code != 200 {
			t.Errorf("DELETE running: %d %s", got.code, got.body)
		}
		a.pool.release(slot, 0, false)
		if got := call(t, http.MethodGet, tests+"?receipt="+id, testSecret, ""); got.code != 404 {
			t.Errorf("GET deleted: %d %s", got.code, got.body)
		}
	})

	t.Run("expiry after 10 minutes", func(t *testing.T) {
		id := postTests(t, base, `{"ping":[{}]}`)
		waitDone(t, base, id)
		clock.Add(10*time.Minute - time.Second)
		if got := call(t, http.MethodGet, tests+"?receipt="+id, testSecret, ""); got.code != 200 {
			t.Fatalf("GET before expiry: %d %s", got.code, got.body)
		}
		clock.Add(time.Second)
		if got := call(t, http.MethodGet, tests+"?receipt="+id, testSecret, ""); got.code != 404 {
			t.Errorf("GET at expiry: %d %s, want 404", got.code, got.body)
		}
		if got := call(t, http.MethodDelete, tests+"?receipt="+id, testSecret, ""); got.code != 404 {
			t.Errorf("DELETE after expiry: %d %s, want 404", got.code, got.body)
		}
	})

	t.Run("bounded number of receipts", func(t *testing.T) {
		var ids []string
		for range 4 { // MaxReceipts 3: the oldest finished receipt makes room
			id := postTests(t, base, `{"ping":[{}]}`)
			waitDone(t, base, id)
			clock.Add(time.Second)
			ids = append(ids, id)
		}
		if got := call(t, http.MethodGet, tests+"?receipt="+ids[0], testSecret, ""); got.code != 404 {
			t.Errorf("oldest receipt still there: %d", got.code)
		}
		for _, id := range ids[1:] {
			if got := call(t, http.MethodGet, tests+"?receipt="+id, testSecret, ""); got.code != 200 {
				t.Errorf("receipt %s lost: %d", id, got.code)
			}
		}
		// A store full of running receipts refuses more, with a JSON error.
		slot, _ := a.pool.acquire(context.Background(), "test")
		var running []string
		for range 3 {
			running = append(running, postTests(t, base, `{"ping":[{"dst":"127.0.0.1"}]}`))
		}
		got := call(t, http.MethodPost, tests, testSecret, `{"ping":[{}]}`)
		if got.code != 503 || !strings.Contains(string(got.body), `"error"`) {
			t.Errorf("POST with a full store: %d %s, want 503 JSON", got.code, got.body)
		}
		for _, id := range running {
			call(t, http.MethodDelete, tests+"?receipt="+id, testSecret, "")
		}
		a.pool.release(slot, 0, false)
	})
}

func TestDeleteEmptyReceiptIsNotFound(t *testing.T) {
	_, base := startAgent(t, nil)
	tests := base + "/api/v1.0/tests"
	// Upstream's DELETE has no empty-value check: "" is simply not found.
	if got := call(t, http.MethodDelete, tests+"?receipt=", testSecret, ""); got.code != 404 {
		t.Errorf("DELETE ?receipt=: %d %s", got.code, got.body)
	}
	if got := call(t, http.MethodDelete, tests, testSecret, ""); got.code != 400 || !strings.Contains(string(got.body), probe.ErrReceiptMissing) {
		t.Errorf("DELETE without receipt: %d %s", got.code, got.body)
	}
}

func TestShapeHelperSeesDifferences(t *testing.T) {
	types, unsorted := shape(t, []byte(`{"b":[1,null],"a":{"x":0.5,"y":"s","z":true}}`))
	want := map[string]string{"$": "object", "$.b": "array", "$.b[]": "int|null", "$.a": "object", "$.a.x": "float", "$.a.y": "string", "$.a.z": "bool"}
	for p, w := range want {
		if types[p] != w {
			t.Errorf("shape %s = %q, want %q", p, types[p], w)
		}
	}
	if len(types) != len(want) || len(unsorted) != 1 || unsorted[0] != "$" {
		t.Errorf("shape = %v, unsorted %v", types, unsorted)
	}
}

func TestMaxRunningReceipts(t *testing.T) {
	a, base := startAgent(t, func(c *Config) { c.MaxRunning = 1; c.MaxProcs = 1 })
	slot, _ := a.pool.acquire(context.Background(), "test")
	id := postTests(t, base, `{"ping":[{"dst":"127.0.0.1"}]}`)
	got := call(t, http.MethodPost, base+"/api/v1.0/tests", testSecret, `{"ping":[{}]}`)
	if got.code != 503 || !strings.Contains(string(got.body), "busy") {
		t.Errorf("second POST while one receipt runs (MaxRunning 1): %d %s, want 503", got.code, got.body)
	}
	call(t, http.MethodDelete, base+"/api/v1.0/tests?receipt="+id, testSecret, "")
	a.pool.release(slot, 0, false)
	waitDone(t, base, postTests(t, base, `{"ping":[{}]}`))
}
