package tui

import (
	"strings"
	"testing"
	"time"
)

// The panel tells how fresh the selected pair is, and the age moves with the clock (the
// staleness redraw), turning stale past two intervals as the cell's mark does.
func TestPanelShowsThePairsAge(t *testing.T) {
	newest := t0.Add(2 * time.Minute) // the fixture's third sweep
	now := newest.Add(12 * time.Second)
	m := modelOver(t, fixtureStore(), 160, 48, Config{Now: func() time.Time { return now }, Interval: time.Minute})
	if f := frame(m); !strings.Contains(f, "age     12s (newest 03:06:05)") || strings.Contains(f, "stale") {
		t.Fatalf("panel lacks the pair's age:\n%s", f)
	}
	now = newest.Add(3*time.Minute + 5*time.Second)
	m = update(t, m, staleTickMsg{gen: m.grid.staleGen})
	f := frame(m)
	if !strings.Contains(f, "age     3m05s (newest 03:06:05)  stale: over 2m") {
		t.Fatalf("age did not follow the clock or is not marked stale:\n%s", f)
	}
	// Stale data never looks healthy: the cell loses its colour and shows its age, the
	// panel's health is unknown now.
	if !strings.Contains(f, "health   unknown now  no test for 3m05s") || !strings.Contains(f, "ams                    ?3m") {
		t.Fatalf("stale pair still looks measured:\n%s", f)
	}
	// No newest test: a dash, not a zero age.
	if got := m.grid.panel.ageLine(time.Time{}); !strings.Contains(got, "age     -") {
		t.Errorf("no newest test: %q", got)
	}
}
