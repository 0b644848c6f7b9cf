package mesh

import (
	"slices"
	"testing"
	"time"
)

// A PoP whose agents left the mesh leaves the grid: row, column, history, agents; a
// matrix handed out before keeps what it showed.
func TestStoreRetainPops(t *testing.T) {
	s := NewStore(10)
	t0 := time.Unix(1000, 0)
	pops := []string{"a", "b", "c"}
	for _, src := range pops {
		for _, dst := range pops {
			if src != dst {
				s.AddPing(ping(t0, src+"-0", src, dst, 10, false))
			}
		}
		s.SetAgent(AgentStatus{Agent: Agent{Name: src + "-0", Pop: src}, State: StateOK})
	}
	before := s.Matrix()
	v := s.Version()
	s.RetainPops(map[string]bool{"a": true, "b": true, "c": true})
	if s.Version() != v {
		t.Fatal("keeping every PoP changed the store")
	}
	s.RetainPops(map[string]bool{"a": true, "b": true})
	m := s.Matrix()
	if !slices.Equal(m.Pops, []string{"a", "b"}) {
		t.Fatalf("pops %v, want a b", m.Pops)
	}
	if m.Cell("a", "c") != nil || m.Cell("c", "a") != nil || m.Cell("a", "b") == nil {
		t.Fatalf("cells after c left: a→c %v, c→a %v, a→b %v", m.Cell("a", "c"), m.Cell("c", "a"), m.Cell("a", "b"))
	}
	if len(s.History("a", "c")) != 0 {
		t.Fatal("a→c history kept")
	}
	for _, a := range m.Agents {
		if a.Pop == "c" {
			t.Fatalf("agent %s of c kept", a.Name)
		}
	}
	if before.Cell("a", "c") == nil || !slices.Contains(before.Pops, "c") {
		t.Fatal("a matrix handed out before changed")
	}
	// c comes back: it starts afresh.
	s.AddPing(ping(t0.Add(time.Minute), "c-0", "c", "a", 20, false))
	if h := s.History("c", "a"); len(h) != 1 {
		t.Fatalf("c→a history after coming back: %d samples", len(h))
	}
}
