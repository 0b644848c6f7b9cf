package tui

import (
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/meshtop/meshtop/mesh"
)

// The cursor starts on the same pair whichever pair was measured first: the first off
// the diagonal in the grid's order.
func TestCursorStartIsStable(t *testing.T) {
	pops := []string{"ams", "fra", "sin"}
	for _, first := range [][2]string{{"sin", "ams"}, {"fra", "ams"}, {"ams", "fra"}} {
		st := mesh.NewStore(0)
		var agents []mesh.AgentStatus
		for _, p := range pops {
			agents = append(agents, mesh.AgentStatus{Agent: mesh.Agent{Name: p + "-0", Pop: p}, State: mesh.StateOK})
		}
		st.SetAgents(agents)
		// Only one pair has data when the grid first paints.
		r := mesh.PingResult{Time: t0, Src: first[0] + "-0", SrcPop: first[0], DstPop: first[1]}
		r.DerivePing(1, []float64{20}, -1)
		st.AddPing(r)
		m := modelOver(t, st, 80, 24, Config{})
		sweep(st, t0.Add(time.Minute), pops, func(s, d string) (float64, float64) { return 20, 0 })
		m = runCmd(t, m, m.fetch())
		if s, d, _ := m.Selected(); s != "ams" || d != "fra" {
			t.Errorf("first data %s→%s: cursor starts on %s→%s, want ams→fra", first[0], first[1], s, d)
		}
	}
}

// Sorted by worst, the cursor starts on the worst measured pair (not a DOWN row) and
// follows it until the user moves.
func TestCursorStartsOnTheWorstPair(t *testing.T) {
	m := press(t, newTestModel(t, 80, 24, Config{}), "o")
	// syd's row is red up to 1403 ms, but jfk→sjc failed: red too, and a failure
	// counts as worse than any value.
	if s, d, _ := m.Selected(); s != "jfk" || d != "sjc" {
		t.Fatalf("sorted by worst: cursor on %s→%s, want the failed jfk→sjc", s, d)
	}
	m = press(t, m, "right", "o", "o")
	if s, d, _ := m.Selected(); s == "jfk" && d == "sjc" {
		t.Fatalf("after a move the cursor went back to the worst pair")
	}
}

// A click on the diagonal selects nothing.
func TestClickOnTheDiagonal(t *testing.T) {
	m := newTestModel(t, 80, 24, Config{})
	g := &m.grid
	x := g.rowHdrW + 1*g.cellW + 1 // column fra
	m = update(t, m, tea.MouseClickMsg{X: x, Y: gridTop + 1 + 1, Button: tea.MouseLeft})
	if s, d, _ := m.Selected(); s != "ams" || d != "fra" {
		t.Fatalf("click on fra→fra moved the cursor to %s→%s", s, d)
	}
	m = update(t, m, tea.MouseClickMsg{X: x, Y: gridTop + 1 + 2, Button: tea.MouseLeft})
	if s, d, _ := m.Selected(); s != "jfk" || d != "fra" {
		t.Fatalf("click on jfk→fra selected %s→%s", s, d)
	}
}
