package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// sweepInto adds one sweep of a→b at rtt ms.
func sweepInto(st *mesh.Store, i int, rtt float64) {
	r := mesh.PingResult{Time: t0.Add(time.Duration(i) * time.Minute), Src: "a-0", SrcPop: "a", DstPop: "b"}
	r.DerivePing(1, []float64{rtt}, -1)
	st.AddPing(r)
}

// historyMatrixOf is the store's matrix as a source that does not judge would give it
// (history): the UI's confirmer applies only to such cells.
func historyMatrixOf(st *mesh.Store) *mesh.Matrix {
	m := st.Matrix()
	cells := map[mesh.Pair]*mesh.Cell{}
	for _, s := range m.Pops {
		for _, d := range m.Pops {
			if c := m.Cell(s, d); c != nil {
				cc := *c
				cc.Judged = false
				cells[mesh.Pair{Src: s, Dst: d}] = &cc
			}
		}
	}
	return mesh.NewMatrix(m.Time, "influx", m.Pops, m.Agents, cells)
}

func TestConfirmHysteresis(t *testing.T) {
	th := mesh.DefaultThresholds()
	st := mesh.NewStore(0)
	c := newConfirmer(3)
	p := mesh.Pair{Src: "a", Dst: "b"}
	// Each step: one new sweep, then the class shown.
	steps := []struct {
		rtt  float64
		want mesh.Class
	}{
		{10, mesh.Green},    // first sight: shown at once
		{600, mesh.Green},   // 1 of 3 orange sweeps
		{700, mesh.Green},   // 2 of 3
		{10, mesh.Green},    // back to green: the count starts over
		{600, mesh.Green},   // 1 of 3
		{600, mesh.Green},   // 2 of 3
		{600, mesh.Orange},  // 3 of 3: confirmed
		{300, mesh.Orange},  // yellow 1 of 3
		{1500, mesh.Orange}, // red 1 of 3: a different class restarts the count
	}
	for i, s := range steps {
		sweepInto(st, i, s.rtt)
		m := historyMatrixOf(st)
		c.observe(m, mesh.MetricView(mesh.Latency), mesh.Last, th)
		// Re-reading the same sweep (a refresh mid-sweep) must not count again.
		c.observe(m, mesh.MetricView(mesh.Latency), mesh.Last, th)
		if got, _ := c.class(p); got != s.want {
			t.Fatalf("step %d (%v ms): shown %s, want %s", i, s.rtt, got, s.want)
		}
	}
}

// TestConfirmInGrid: the live store judges with --confirm; the grid shows its verdict,
// the pending change marked.
func TestConfirmInGrid(t *testing.T) {
	st := mesh.NewStore(0)
	st.SetJudgement(mesh.Judgement{Confirm: 2})
	sweepInto(st, 0, 10)
	m := New(StoreSource{Store: st}, Config{Confirm: 2, NoColor: true})
	m = runCmd(t, m, m.fetch())
	sweepInto(st, 1, 700) // orange once: not confirmed yet
	m = runCmd(t, m, m.fetch())
	if f := frame(m); strings.Contains(f, "700*") || !strings.Contains(f, "700 ^") {
		t.Fatalf("unconfirmed change shown as orange:\n%s", f)
	}
	sweepInto(st, 2, 700)
	m = runCmd(t, m, m.fetch())
	if f := frame(m); !strings.Contains(f, "700*") {
		t.Fatalf("confirmed orange not shown:\n%s", f)
	}
}

func TestColumnPatternHint(t *testing.T) {
	st := mesh.NewStore(0)
	pops := []string{"ams", "fra", "jfk", "sjc"}
	for _, s := range pops {
		for _, d := range pops {
			if s == d {
				continue
			}
			v := 20.0
			if d == "jfk" {
				v = 900 // everyone struggles to reach jfk
			}
			r := mesh.PingResult{Time: t0, Src: s + "-0", SrcPop: s, DstPop: d}
			r.DerivePing(1, []float64{v}, -1)
			st.AddPing(r)
		}
	}
	got := patternHint(st.Matrix(), mesh.MetricView(mesh.Latency), mesh.Last, mesh.DefaultThresholds(), mesh.HopSuspect{}, false)
	if !strings.Contains(got, "jfk is bad from 3 of 3 sources (column pattern)") {
		t.Fatalf("hint %q", got)
	}
}

// Under --confirm a new value painted in the old colour carries a pending mark, so 700 ms
// on green never reads as a green 700.
func TestConfirmPendingMark(t *testing.T) {
	for _, noColor := range []bool{true, false} {
		st := mesh.NewStore(0)
		st.SetJudgement(mesh.Judgement{Confirm: 3})
		sweepInto(st, 0, 10)
		m := New(StoreSource{Store: st}, Config{Confirm: 3, NoColor: noColor})
		m = runCmd(t, m, m.fetch())
		if f := frame(m); strings.Contains(f, markPending) {
			t.Fatalf("pending mark before any change:\n%s", f)
		}
		for i, want := range []bool{true, true, false} {
			sweepInto(st, i+1, 700)
			m = runCmd(t, m, m.fetch())
			f := frame(m)
			cell := "700 " + markPending
			if !noColor {
				cell = "700" + markPending
			}
			if got := strings.Contains(f, cell) && strings.Contains(f, markPending+" not yet sure"); got != want {
				t.Fatalf("noColor %v, sweep %d: pending mark %v, want %v:\n%s", noColor, i+1, got, want, f)
			}
		}
		if noColor && !strings.Contains(frame(m), "700*") {
			t.Fatalf("confirmed orange not shown:\n%s", frame(m))
		}
	}
}
