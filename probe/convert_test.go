package probe_test

import (
	"context"
	"strings"
	"testing"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/probe/scoutertest"
)

// TestHostileAgentValues: an agent (a real HTTP server) answering impossible values
// must neither crash nor exhaust meshtop, and each value becomes that pair's clear error,
// never a measurement (and so never a cell value or a recorded point).
func TestHostileAgentValues(t *testing.T) {
	const reply = `{"len":64,"rtt_ms":5,"seq":0,"ttl":64}`
	tests := []struct {
		name, ping string
		want       string // in the pair's Err
	}{
		{"loss 1e9", `{"sent":5,"loss":1e9,"replies":[` + reply + `],"rtt":{"min":"5","avg":"5","max":"5"}}`, "implausible value: loss 1e+09 %"},
		{"negative loss", `{"sent":5,"loss":-5,"replies":[` + reply + `]}`, "implausible value: loss -5 %"},
		{"sent 1e15 (makeslice panic before)", `{"sent":1e15,"loss":0,"replies":[` + reply + `]}`, "implausible value: sent 1e+15"},
		{"sent 1e10 (out of memory before)", `{"sent":1e10,"replies":[` + reply + `]}`, "implausible value: sent 1e+10"},
		{"sent as a string of 1e15", `{"sent":"1e15","replies":[` + reply + `]}`, "implausible value: sent 1e+15"},
		{"negative sent", `{"sent":-3,"replies":[` + reply + `]}`, "implausible value: sent -3"},
		{"min 1e300 next to avg 5", `{"sent":5,"loss":0,"replies":[],"failed":false,"rtt":{"min":"1e300","avg":"5","max":"6"}}`, "implausible value: min rtt 1e+300 ms"},
		{"rtt 1e307", `{"sent":3,"replies":[{"seq":0,"rtt_ms":1e307},{"seq":1,"rtt_ms":5},{"seq":2,"rtt_ms":5}]}`, "implausible value: avg rtt"},
		{"huge seq", `{"sent":2,"replies":[{"seq":1e300,"rtt_ms":5},{"seq":-1e300,"rtt_ms":6}]}`, "implausible value: reply seq 1e+300"},
		{"recv 1e12 in a summary", `{"sent":5,"recv":1e12,"replies":[],"rtt":{"min":"5","avg":"5","max":"5"}}`, "implausible value: recv 1e+12"},
		{"a string where a number belongs names the field", `{"sent":"five","replies":[]}`, "result.sent: want a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, agents := fleet(t, 2, scoutertest.Config{EchoIDs: true, Result: scoutertest.RawResults("ping", tt.ping)})
			sw := probe.Run(context.Background(), agents, probe.Options{Secret: secret, Count: 5}, nil)
			if len(sw.Pings) != 2 {
				t.Fatalf("pings: %d, want 2", len(sw.Pings))
			}
			st := mesh.NewStore(10)
			for _, r := range sw.Pings {
				if tt.want == "" {
					if r.Err != "" || r.Check() != nil {
						t.Fatalf("%s: got error %q / %v, want a measurement", r.Src, r.Err, r.Check())
					}
					continue
				}
				if !strings.Contains(r.Err, tt.want) {
					t.Fatalf("%s->%s: Err %q, want %q (result %+v)", r.Src, r.Dst, r.Err, tt.want, r)
				}
				if r.Measured() || r.AvgRTT != 0 || r.LossPct != 0 || len(r.Probes) != 0 {
					t.Fatalf("an implausible answer left a measurement behind: %+v", r)
				}
				st.AddPing(r)
			}
			if tt.want != "" {
				c := st.Matrix().Cell(sw.Pings[0].SrcPop, sw.Pings[0].DstPop)
				if c == nil || c.Samples != 0 || !strings.Contains(c.Err, tt.want) {
					t.Fatalf("cell %+v: want no samples and the error", c)
				}
			}
		})
	}
}

// TestHostileAgentTraces: traceroute answers with impossible values become the pair's
// error too.
func TestHostileAgentTraces(t *testing.T) {
	hop := func(ttl, rtt string) string {
		return `{"asn":64500,"hostname":"198.18.0.9","no_response":false,"rtt_ms":` + rtt + `,"src":"198.18.0.9","ttl":` + ttl + `}`
	}
	tests := []struct{ name, trace, want string }{
		{"hop rtt 1e307", `{"dst":"x","trace":[` + hop("1", "1e307") + `]}`, "implausible value: hop 1 rtt 1e+307 ms"},
		{"ttl 1e9", `{"dst":"x","trace":[` + hop("1e9", "1") + `]}`, "implausible value: hop ttl 1e+09"},
		{"fine", `{"dst":"x","trace":[` + hop("1", "1.5") + `]}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, agents := fleet(t, 2, scoutertest.Config{EchoIDs: true, Result: scoutertest.RawResults("traceroute", tt.trace)})
			sw := probe.Run(context.Background(), agents, probe.Options{Secret: secret, Count: 1, Kinds: probe.KindPing | probe.KindTraceroute}, nil)
			if len(sw.Traces) != 2 {
				t.Fatalf("traces: %d", len(sw.Traces))
			}
			for _, r := range sw.Traces {
				if tt.want == "" {
					if r.Err != "" || len(r.Hops) != 1 {
						t.Fatalf("got %+v", r)
					}
					continue
				}
				if !strings.Contains(r.Err, tt.want) || len(r.Hops) != 0 {
					t.Fatalf("Err %q hops %d, want %q", r.Err, len(r.Hops), tt.want)
				}
			}
		})
	}
}
