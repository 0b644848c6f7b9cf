package probe_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/probe/scoutertest"
)

// TestTraceAsksForProbesPerHop: a sweep asks every agent for probe.TraceProbes probes
// per hop; an upstream agent (the fake, which like upstream's **kwargs ignores options it
// does not know) answers its one probe per hop and the trace reads as before.
func TestTraceAsksForProbesPerHop(t *testing.T) {
	var mu sync.Mutex
	var asked []any
	_, agents := fleet(t, 2, scoutertest.Config{EchoIDs: true, Raw: func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost {
			return false
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var req map[string][]map[string]any
		_ = json.Unmarshal(body, &req)
		mu.Lock()
		for _, o := range req["traceroute"] {
			asked = append(asked, o["probes"])
		}
		mu.Unlock()
		return false
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sw := probe.Run(ctx, agents, probe.Options{Kinds: probe.KindTraceroute, Secret: secret}, nil)
	if len(asked) != 2 {
		t.Fatalf("traceroute requests %v, want one per pair", asked)
	}
	for _, p := range asked {
		if p != float64(probe.TraceProbes) {
			t.Errorf("traceroute asked probes %v, want %d", p, probe.TraceProbes)
		}
	}
	if len(sw.Traces) != 2 {
		t.Fatalf("%d traces", len(sw.Traces))
	}
	for _, tr := range sw.Traces {
		if tr.Err != "" || tr.Failed || len(tr.Hops) != 3 {
			t.Errorf("trace from an upstream agent: %+v", tr)
		}
		for _, h := range tr.Hops {
			if h.Probes != nil {
				t.Errorf("upstream hop %+v carries probes", h)
			}
		}
	}
}
