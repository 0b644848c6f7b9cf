package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestFloodOfBadInputStaysBounded is issue 10 item 10: a signed-in client posting
// requests full of invalid input (a 10 KB dst of bytes that are not UTF-8, each of
// which JSON turns into a 3-byte U+FFFD; a 10 KB id; a 10 KB count) must not be able
// to grow the agent's memory without bound. Answers echo bounded, clean excerpts
// only, and the stored answers stay within their byte budget.
func TestFloodOfBadInputStaysBounded(t *testing.T) {
	const budget = 256 << 10
	a, base := startAgent(t, func(c *Config) { c.MaxStored = budget; c.MaxTests = 10 })
	bad := strings.Repeat("\xff", 10_000)
	long := strings.Repeat("x", 10_000)
	digits := strings.Repeat("9", 10_000)
	tests := make([]string, 10)
	for i := range tests {
		switch i % 3 {
		case 0:
			tests[i] = `{"dst": "` + bad + `", "id": "` + long + `"}`
		case 1:
			tests[i] = `{"dst": "127.0.0.1", "count": "` + digits + `x", "id": ` + digits + `}`
		default:
			tests[i] = `{"dst": "127.0.0.1\n\u001b[2J` + long + `", "id": {"nested": ["` + long + `"]}}`
		}
	}
	body := `{"ping": [` + strings.Join(tests, ",") + `]}`
	if len(body) < 100_000 {
		t.Fatalf("flood body is only %d bytes", len(body))
	}
	var receipts []string
	for range 60 {
		a := call(t, http.MethodPost, base+"/api/v1.0/tests", testSecret, body)
		var r struct{ Receipt string }
		if err := json.Unmarshal(a.body, &r); a.code != http.StatusOK || err != nil || len(r.Receipt) != 32 {
			t.Fatalf("POST of %d bytes: %d %.200s", len(body), a.code, a.body)
		}
		receipts = append(receipts, r.Receipt)
	}
	var largest int
	for _, r := range receipts[len(receipts)-5:] {
		raw := waitDone(t, base, r)
		largest = max(largest, len(raw))
		var got struct {
			Results struct {
				Ping []struct {
					ID      any     `json:"id"`
					Message *string `json:"message"`
				} `json:"ping"`
			} `json:"results"`
		}
		if err := json.Unmarshal(raw, &got); err != nil || len(got.Results.Ping) != 10 {
			t.Fatalf("answer %d bytes: %v", len(raw), err)
		}
		for i, e := range got.Results.Ping {
			if e.Message == nil {
				t.Errorf("test %d has no message", i)
				continue
			}
			m := *e.Message
			if len(m) > 1024 || strings.ContainsAny(m, "\n\x1b") {
				t.Errorf("test %d: message of %d bytes echoes raw input: %.80q", i, len(m), m)
			}
			if s, ok := e.ID.(string); ok && utf8.RuneCountInString(s) > maxIDLen+1 {
				t.Errorf("test %d: id of %d bytes echoed", i, len(s))
			}
			if _, ok := e.ID.(map[string]any); ok {
				t.Errorf("test %d: an object id was stored and echoed", i)
			}
		}
		for _, want := range []string{"is not an IP address or a host name", "must be an integer"} {
			if !strings.Contains(string(raw), want) {
				t.Errorf("answer lacks %q", want)
			}
		}
	}
	// Wait for every receipt to finish (their tests fail at once, without a packet).
	deadline := time.Now().Add(30 * time.Second)
	for a.receipts.running("") > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	n, stored := a.receipts.usage()
	t.Logf("60 POSTs of %d bytes: %d receipts kept, %d bytes stored, largest answer %d bytes", len(body), n, stored, largest)
	if largest > 16<<10 {
		t.Errorf("one answer is %d bytes for 10 failed tests: input is echoed unbounded", largest)
	}
	if stored > budget+int64(largest) {
		t.Errorf("stored answers %d bytes, over the %d-byte budget", stored, budget)
	}
}

// TestStoreEvictsOldestByBytes: over the byte budget, the oldest answers go (they read
// as expired), the newest stays.
func TestStoreEvictsOldestByBytes(t *testing.T) {
	now := time.Unix(1000, 0)
	s := newReceiptStore(time.Minute, 100, 250, func() time.Time { return now })
	for i := range 4 {
		id := fmt.Sprint(i)
		if err := s.add(&receipt{id: id}); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second)
		s.finish(id, make([]byte, 100))
	}
	if n, b := s.usage(); n != 2 || b != 200 {
		t.Errorf("after 4 answers of 100 bytes with a 250-byte budget: %d receipts, %d bytes; want 2, 200", n, b)
	}
	for id, want := range map[string]bool{"0": false, "1": false, "2": true, "3": true} {
		if _, _, ok := s.get(id); ok != want {
			t.Errorf("receipt %s kept = %v, want %v", id, ok, want)
		}
	}
	if !s.remove("3") {
		t.Fatal("remove 3")
	}
	if _, b := s.usage(); b != 100 {
		t.Errorf("after delete: %d bytes, want 100", b)
	}
}

// TestSpecialDestinationsRefused is the agent part of issue 10 item 15: multicast,
// broadcast and the unspecified address are refused with a per-test message unless
// --allow names their range; nothing is sent.
func TestSpecialDestinationsRefused(t *testing.T) {
	_, base := startAgent(t, nil)
	dsts := []string{"224.0.0.1", "239.255.255.250", "255.255.255.255", "0.0.0.0", "::", "ff02::1"}
	var tests []string
	for _, d := range dsts {
		tests = append(tests, fmt.Sprintf(`{"dst": %q, "count": 1}`, d))
	}
	raw := waitDone(t, base, postTests(t, base, `{"ping": [`+strings.Join(tests, ",")+`]}`))
	var got struct {
		Results struct {
			Ping []struct {
				Failed  bool    `json:"failed"`
				Message *string `json:"message"`
			} `json:"ping"`
		} `json:"results"`
	}
	if err := json.Unmarshal(raw, &got); err != nil || len(got.Results.Ping) != len(dsts) {
		t.Fatalf("answer %s: %v", raw, err)
	}
	for i, e := range got.Results.Ping {
		if !e.Failed || e.Message == nil || !strings.Contains(*e.Message, "which an agent does not probe") {
			t.Errorf("%s: failed %v message %v, want a refusal", dsts[i], e.Failed, e.Message)
		}
	}

	ag := &Agent{cfg: Config{Allow: []netip.Prefix{netip.MustParsePrefix("224.0.0.0/4"), netip.MustParsePrefix("0.0.0.0/0")}}.withDefaults()}
	for _, c := range []struct {
		dst string
		ok  bool
	}{
		{"224.0.0.1", true},        // --allow 224.0.0.0/4 names multicast
		{"255.255.255.255", false}, // 0.0.0.0/0 is not a broadcast range of its own
		{"0.0.0.0", false},         // never
		{"198.18.0.1", true},
	} {
		_, msg := ag.resolveDst(context.Background(), c.dst)
		if (msg == "") != c.ok {
			t.Errorf("allow 224.0.0.0/4 and 0.0.0.0/0: %s -> %q, want ok=%v", c.dst, msg, c.ok)
		}
	}
}
