package live

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/probe/scoutertest"
)

type recorded struct {
	mu     sync.Mutex
	sweeps []probe.Sweep
}

func (r *recorded) Record(sw probe.Sweep) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweeps = append(r.sweeps, sw)
}

func (r *recorded) get() []probe.Sweep {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]probe.Sweep(nil), r.sweeps...)
}

// pings and traces are the recorded ping sweeps and traceroute sweeps, which the loop
// runs on their own clocks and records apart.
func (r *recorded) pings() []probe.Sweep {
	return r.only(func(sw probe.Sweep) bool { return len(sw.Traces) == 0 })
}
func (r *recorded) traces() []probe.Sweep {
	return r.only(func(sw probe.Sweep) bool { return len(sw.Pings) == 0 })
}

func (r *recorded) only(keep func(probe.Sweep) bool) []probe.Sweep {
	var out []probe.Sweep
	for _, sw := range r.get() {
		if len(sw.Pings) > 0 && len(sw.Traces) > 0 {
			panic("a recorded sweep holds pings and traceroutes: they run apart")
		}
		if keep(sw) {
			out = append(out, sw)
		}
	}
	return out
}

func TestLoopSweepsTracesAndRecords(t *testing.T) {
	var agents []mesh.Agent
	for i := range 3 {
		s := scoutertest.New(scoutertest.Config{Secret: "x"})
		t.Cleanup(s.Close)
		agents = append(agents, mesh.Agent{Name: fmt.Sprintf("a%d", i), Pop: fmt.Sprintf("p%d", i), Address: fmt.Sprintf("198.18.0.%d", i+1), URL: s.URL})
	}
	store := mesh.NewStore(10)
	rec := &recorded{}
	var mu sync.Mutex
	events := 0
	l := &Loop{
		Agents: agents, Options: probe.Options{Secret: "x", Count: 1},
		// An hour between sweeps: every sweep after the first comes from SweepNow.
		Interval: time.Hour, TraceInterval: time.Hour, Store: store, Recorder: rec,
		Hooks: Hooks{Event: func(probe.Event) { mu.Lock(); events++; mu.Unlock() }},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	waitSweeps := func(pings, traces int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for len(rec.pings()) < pings || len(rec.traces()) < traces {
			if time.Now().After(deadline) {
				t.Fatalf("%d ping and %d traceroute sweeps recorded, want %d and %d", len(rec.pings()), len(rec.traces()), pings, traces)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitSweeps(1, 1) // traceroutes are due at start too
	l.SweepNow()
	waitSweeps(2, 1)
	cancel()
	<-done
	pings, traces := rec.pings(), rec.traces()
	for i, sw := range pings {
		if len(sw.Pings) != 6 {
			t.Errorf("ping sweep %d: %d pings, want 6", i, len(sw.Pings))
		}
	}
	if len(traces) != 1 || len(traces[0].Traces) != 6 {
		t.Errorf("%d traceroute sweeps, want 1 of 6 traces (the next is an hour away)", len(traces))
	}
	if got := len(store.History("p0", "p1")); got != 2 {
		t.Errorf("store kept %d samples of p0→p1, want 2", got)
	}
	if got := len(store.Traces("p0", "p1")); got != 1 {
		t.Errorf("store kept %d traces of p0→p1, want 1", got)
	}
	if events == 0 {
		t.Error("no events reached the hooks")
	}
}
