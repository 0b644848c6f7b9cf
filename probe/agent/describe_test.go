package agent

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/meshtop/meshtop/probe"
)

// The agent says its PoP and labels in /status, as extra keys after upstream's, in
// sorted key order like the rest; a client reads them back with probe.DecodeDescribe.
func TestStatusSaysPopAndLabels(t *testing.T) {
	_, url := startAgent(t, func(c *Config) {
		c.Pop = "fra1"
		c.Labels = map[string]string{"region": "eu", "provider": "hetzner"}
	})
	a := call(t, http.MethodGet, url+probe.PathStatus, testSecret, "")
	if a.code != http.StatusOK {
		t.Fatalf("status: HTTP %d %s", a.code, a.body)
	}
	d, err := probe.DecodeDescribe(a.body)
	if err != nil {
		t.Fatal(err)
	}
	if d.Pop != "fra1" || d.Labels["region"] != "eu" || d.Labels["provider"] != "hetzner" || len(d.Labels) != 2 {
		t.Fatalf("status describes %+v", d)
	}
	// Upstream's keys are still there, and keys stay sorted as upstream sends them.
	body := string(a.body)
	for _, k := range []string{`"labels"`, `"max_process_count"`, `"pop"`, `"total_requests"`, `"worker_status"`} {
		if !strings.Contains(body, k) {
			t.Fatalf("status lacks %s: %s", k, body)
		}
	}
	if strings.Index(body, `"labels"`) > strings.Index(body, `"max_process_count"`) ||
		strings.Index(body, `"pop"`) > strings.Index(body, `"total_requests"`) {
		t.Fatalf("status keys out of order: %s", body)
	}
}

// An agent given neither says neither: the keys are absent, as from upstream.
func TestStatusWithoutPop(t *testing.T) {
	_, url := startAgent(t, nil)
	a := call(t, http.MethodGet, url+probe.PathStatus, testSecret, "")
	var m map[string]json.RawMessage
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["pop"]; ok {
		t.Fatalf("status says a pop: %s", a.body)
	}
	if _, ok := m["labels"]; ok {
		t.Fatalf("status says labels: %s", a.body)
	}
}

func TestNewRefusesBadDescription(t *testing.T) {
	for _, tc := range []struct {
		name   string
		pop    string
		labels map[string]string
		want   string
	}{
		{"upper-case pop", "FRA", nil, "lower case"},
		{"pop with space", "fra 1", nil, "want 1-63"},
		{"pop with control", "fra\x1b[2J", nil, "want 1-63"},
		{"label key", "", map[string]string{"bad key": "x"}, "label name"},
		{"label value", "", map[string]string{"k": "a\nb"}, "control characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Config{Secret: "x", Pop: tc.pop, Labels: tc.labels})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error with %q", err, tc.want)
			}
		})
	}
}
