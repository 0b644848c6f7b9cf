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
	waitSweeps := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for len(rec.get()) < n {
			if time.Now().After(deadline) {
				t.Fatalf("only %d sweeps recorded, want %d", len(rec.get()), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitSweeps(1)
	l.SweepNow()
	waitSweeps(2)
	cancel()
	<-done
	sw := rec.get()
	if len(sw[0].Traces) != 6 || len(sw[0].Pings) != 6 {
		t.Errorf("first sweep: %d pings, %d traces (traceroutes are due at start)", len(sw[0].Pings), len(sw[0].Traces))
	}
	if len(sw[1].Traces) != 0 || len(sw[1].Pings) != 6 {
		t.Errorf("second sweep: %d pings, %d traces (the next traceroute is an hour away)", len(sw[1].Pings), len(sw[1].Traces))
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
