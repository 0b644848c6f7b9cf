package live

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/probe/scoutertest"
)

// Agents that re-discovery adds are swept from the next tick; agents it removes leave
// the grid (their PoP's row and column), without a restart.
func TestRediscoveryAddsAndRemovesPops(t *testing.T) {
	_, agents := fleet(t, 4, scoutertest.Config{})
	var mu sync.Mutex
	current := agents[:3]
	store := mesh.NewStore(10)
	var sizes []int // what the status bar is told: the mesh's agent count
	l := &Loop{Agents: current, Options: probe.Options{Secret: "x", Count: 1}, Interval: 50 * time.Millisecond,
		Store: store, RediscoverEvery: 20 * time.Millisecond,
		Hooks: Hooks{Agents: func(n int) { mu.Lock(); sizes = append(sizes, n); mu.Unlock() }},
		Discover: func(context.Context) ([]mesh.Agent, error) {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(current), nil
		},
	}
	has := func(pops ...string) func() bool {
		return func() bool {
			m := store.Matrix()
			return slices.Equal(m.Pops, pops) && m.Cell(pops[0], pops[len(pops)-1]) != nil
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: pops %v", what, store.Matrix().Pops)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	wait("start", has("p00", "p01", "p02"))
	mu.Lock()
	current = agents // p03 joins
	mu.Unlock()
	wait("p03 joined", has("p00", "p01", "p02", "p03"))
	mu.Lock()
	current = []mesh.Agent{agents[0], agents[2], agents[3]} // p01 leaves
	mu.Unlock()
	wait("p01 left", has("p00", "p02", "p03"))
	// And stays gone: no late result of its last pass brings it back.
	time.Sleep(200 * time.Millisecond)
	if pops := store.Matrix().Pops; slices.Contains(pops, "p01") {
		t.Fatalf("p01 came back: %v", pops)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []int{4, 3}; !slices.Equal(sizes, want) {
		t.Errorf("agent counts told %v, want %v (one joined, one left)", sizes, want)
	}
}
