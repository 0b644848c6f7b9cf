package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/live"
	"github.com/meshtop/meshtop/mesh"
)

// A followed source that shrinks below two agents while live or serve runs is refused as
// the start refuses it: the loop keeps the last good list (no list, or an error), the
// reason is said once and not again on every look, and a good list is taken again.
func TestFollowRefusesAMeshOfOneAgent(t *testing.T) {
	two := []mesh.Agent{{Name: "scouter-ams-0", Pop: "ams"}, {Name: "scouter-fra-0", Pop: "fra"}}
	current := two
	o := &discoveryOptions{discoverURL: "dns://agents.mesh.test"}
	o.src = &agentSource{what: "dns://agents.mesh.test",
		agents: func(context.Context) ([]mesh.Agent, error) { return current, nil },
		every:  func(time.Duration) time.Duration { return time.Second }}
	loop := &live.Loop{Interval: 10 * time.Second}
	o.follow(loop)
	ctx := context.Background()

	if as, err := loop.Discover(ctx); err != nil || len(as) != 2 {
		t.Fatalf("two agents: %v, %v", as, err)
	}
	current = two[:1]
	as, err := loop.Discover(ctx)
	if err == nil || len(as) != 0 {
		t.Fatalf("one agent: got %v, %v; want no list and the reason", as, err)
	}
	for _, want := range []string{"a mesh needs at least two agents", "dns://agents.mesh.test has one agent (scouter-ams-0 in ams)", "refused: still probing"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	// Said once: the next looks keep the last good list quietly.
	if as, err := loop.Discover(ctx); err != nil || len(as) != 0 {
		t.Errorf("the next look: %v, %v; want nothing (the loop keeps its list)", as, err)
	}
	current = nil
	if _, err := loop.Discover(ctx); err == nil || !strings.Contains(err.Error(), "has no agent") {
		t.Errorf("no agent: %v", err)
	}
	current = two
	if as, err := loop.Discover(ctx); err != nil || len(as) != 2 {
		t.Errorf("two again: %v, %v", as, err)
	}
}
