package probe

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

func TestAnswerLimits(t *testing.T) {
	req := TestRequest{
		Ping:       []PingOptions{{Dst: "a", Count: ptr(5)}, {Dst: "b"}},
		Traceroute: []TracerouteOptions{{Dst: "a"}, {Dst: "b", MaxTTL: ptr(64)}, {Dst: "c"}},
	}
	got := req.AnswerLimits()
	want := AnswerLimits{Ping: 2, Traceroute: 3, Replies: 20, Hops: 64}
	if got != want {
		t.Errorf("limits %+v, want %+v", got, want)
	}
	if b := (AnswerLimits{Ping: 10, Replies: 20}).maxBytes(); b > 512<<10 {
		t.Errorf("10 pings may take %d bytes", b)
	}
	if b := (AnswerLimits{Ping: 1e6, Replies: 20}).maxBytes(); b != maxAnswer {
		t.Errorf("cap %d, want maxAnswer", b)
	}
}

// TestCheckShape: each hostile shape of issue 23 item 1 is refused before decoding,
// naming what was too much; honest answers (upstream's, meshtop's agent's) pass; keys
// match the way encoding/json matches them.
func TestCheckShape(t *testing.T) {
	lim := AnswerLimits{Ping: 2, Traceroute: 1, Replies: 3, Hops: 4}
	rep := func(s string, n int) string { return strings.TrimSuffix(strings.Repeat(s+",", n), ",") }
	for _, tt := range []struct {
		name, data, want string
	}{
		{"upstream ping", `{"is_running":false,"receipt":"7fb6","results":{"ping":[{"failed":false,"id":"ec094f","message":null,"result":{"comment":null,"dst":"127.0.0.1","failed":false,"loss":0.0,"packet_size":84,"payload_size":56,"recv":null,"replies":[{"len":64,"rtt_ms":0.061,"seq":0,"ttl":64},{"len":64,"rtt_ms":0.05,"seq":1,"ttl":64}],"rtt":{"avg":"0.059","max":"0.067","min":"0.050"},"sent":3}}]}}`, ""},
		{"empty state", `{}`, ""},
		{"running", `{"is_running":true,"results":{"ping":[],"traceroute":[]}}`, ""},
		{"at the limits", `{"results":{"ping":[{},{"result":{"replies":[{},{},{}]}}],"traceroute":[{"result":{"trace":[{},{},{},{}]}}]}}`, ""},
		{"empty ping entries", `{"is_running":false,"results":{"ping":[` + rep("{}", 1000) + `]}}`, "more than 2 ping results for 2 ping tests sent"},
		{"running with entries", `{"is_running":true,"results":{"ping":[` + rep("{}", 3) + `]}}`, "more than 2 ping results"},
		{"traceroute entries", `{"results":{"traceroute":[{},{}]}}`, "more than 1 traceroute results"},
		{"hops", `{"results":{"traceroute":[{"result":{"trace":[` + rep(`{"ttl":1}`, 5) + `]}}]}}`, "more than 4 hops"},
		{"replies", `{"results":{"ping":[{"result":{"replies":[` + rep("{}", 4) + `]}}]}}`, "more than 3 replies"},
		{"probes at a hop", `{"results":{"traceroute":[{"result":{"trace":[{"ttl":1,"probes":[` + rep("null", 11) + `]}]}}]}}`, "more than 10 probes at one hop"},
		{"upper-case keys", `{"RESULTS":{"Ping":[{},{},{}]}}`, "more than 2 ping results"},
		{"escaped key", `{"r\u0065sults":{"ping":[{},{},{}]}}`, "more than 2 ping results"},
		{"long string", `{"results":{"ping":[{"id":"` + strings.Repeat("a", maxString+1) + `"}]}}`, "a string of 8 KiB"},
		{"deep", strings.Repeat("[", 100) + strings.Repeat("]", 100), "deeper than"},
		{"lists elsewhere are skipped", `{"junk":[` + rep("{}", 100) + `],"results":{"pong":[{},{},{}]}}`, ""},
		{"malformed is left to encoding/json", `{"results":{"ping":[{},`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := checkShape([]byte(tt.data), lim)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var se *ShapeError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// FuzzCheckShape: whatever passes the counting pass decodes into no more entries,
// replies and hops than the limits allow.
func FuzzCheckShape(f *testing.F) {
	for _, s := range []string{
		`{"results":{"ping":[{},{}]}}`,
		`{"RESULTS":{"PING":[{},{},{}]}}`,
		`{"results":{"traceroute":[{"result":{"trace":[{},{},{}]}}]}}`,
		`{"results":{"ping":[{"result":{"replies":[{},{},{}],"Replies":[{}]}}]}}`,
		`{"r\u0065sults":{"p\u0069ng":[{},{},{}]}}`,
		`{"results":{"ping":[{}],"ping":[{},{}]}}`,
		`{"results":{"ping":[{"result":{"replies":[{}]},"RESULT":{"replies":[{},{}]}}]}}`,
	} {
		f.Add([]byte(s))
	}
	lim := AnswerLimits{Ping: 1, Traceroute: 1, Replies: 1, Hops: 2}
	f.Fuzz(func(t *testing.T, data []byte) {
		if checkShape(data, lim) != nil {
			return
		}
		var tr TestsResponse
		if json.Unmarshal(data, &tr) != nil || tr.Results == nil {
			return
		}
		if len(tr.Results.Ping) > lim.Ping || len(tr.Results.Traceroute) > lim.Traceroute {
			t.Fatalf("passed with %d ping and %d traceroute entries: %q", len(tr.Results.Ping), len(tr.Results.Traceroute), data)
		}
		for _, e := range tr.Results.Ping {
			if len(e.Result.Replies) > lim.Replies {
				t.Fatalf("passed with %d replies: %q", len(e.Result.Replies), data)
			}
		}
		for _, e := range tr.Results.Traceroute {
			if len(e.Result.Trace) > lim.Hops {
				t.Fatalf("passed with %d hops: %q", len(e.Result.Trace), data)
			}
		}
	})
}
