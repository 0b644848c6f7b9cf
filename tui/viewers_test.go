package tui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// TestViewersAgree is issue 18's "all viewers of one store show the same state at the
// same moment": three viewers of one store (as `live` and two `serve` sessions), started
// at different times, reading at different moments and showing different views, list
// the same events with their tests' times and paint every cell alike once they have
// read the same store. Before, each derived events from its own successive reads (a
// late viewer missed what came before it; times were those of its reads), each ran its
// own --confirm count from its own start, and each redrew staleness on its own tick.
func TestViewersAgree(t *testing.T) {
	st := mesh.NewStore(0)
	st.SetClock(func() time.Time { return t0 })
	st.SetJudgement(mesh.Judgement{Confirm: 2})
	pops := []string{"ams", "fra", "sin"}
	now := t0
	cfg := Config{Confirm: 2, NoColor: true, Interval: 10 * time.Second, Now: func() time.Time { return now }}
	test := func(i int) {
		sweep(st, t0.Add(time.Duration(i)*10*time.Second), pops, func(s, d string) (float64, float64) {
			switch {
			case s == "fra" && d == "sin" && i >= 3 && i < 7:
				return 700, 0 // orange for four tests: told after --confirm's second
			case s == "sin" && d == "ams" && i >= 5:
				return 20, 100 // nothing comes back: FAIL, at once
			}
			return 20, 0
		})
		now = t0.Add(time.Duration(i)*10*time.Second + 2*time.Second)
	}
	test(0)
	early := modelOver(t, st, 120, 30, cfg)
	var late, loss Model
	for i := 1; i < 10; i++ {
		test(i)
		early = runCmd(t, early, early.fetch()) // reads after every test
		if i == 4 {
			late = modelOver(t, st, 120, 30, cfg) // joins mid-way
		}
		if i == 6 {
			lc := cfg
			lc.View = mesh.MetricView(mesh.Loss) // another view
			loss = modelOver(t, st, 120, 30, lc)
		}
	}
	late = runCmd(t, late, late.fetch())
	loss = runCmd(t, loss, loss.fetch())
	lines := func(m Model) []string {
		var out []string
		for _, e := range m.grid.events.list {
			out = append(out, EventLine(e))
		}
		return out
	}
	want := []string{
		"03:05:25 fra→sin latency orange → green (20 ms)",  // the second green test (--confirm 2)
		"03:04:55 sin→ams FAIL: nothing came back",         // at once
		"03:04:45 fra→sin latency green → orange (700 ms)", // the second orange test
	}
	for name, m := range map[string]Model{"early": early, "late": late, "loss view": loss} {
		if got := lines(m); !slices.Equal(got, want) {
			t.Errorf("%s viewer lists\n%s\nwant\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	// Every cell alike under the same view; and the same under health whatever each shows.
	for _, s := range pops {
		for _, d := range pops {
			a, b := early.grid.lookAt(s, d), late.grid.lookAt(s, d)
			if a.vd.Class != b.vd.Class || a.vd.Pending != b.vd.Pending {
				t.Errorf("%s→%s: early %s, late %s", s, d, a.vd.Class, b.vd.Class)
			}
		}
	}
	if e, l := gridPart(frame(early)), gridPart(frame(late)); e != l {
		t.Errorf("the grids differ:\n%s\n---\n%s", e, l)
	}
	// Staleness is the clock's, not each viewer's tick: 25 s after the newest test every
	// viewer shows the stale cells at once, whenever its last tick was.
	now = t0.Add(9*10*time.Second + 25*time.Second)
	early = update(t, early, staleTickMsg{gen: early.grid.staleGen})
	late = update(t, late, staleTickMsg{gen: late.grid.staleGen})
	if e, l := gridPart(frame(early)), gridPart(frame(late)); e != l || !strings.Contains(e, "?25s") {
		t.Errorf("stale grids differ or are not stale:\n%s\n---\n%s", e, l)
	}
	// A viewer's next staleness redraw is due when the next cell turns stale (its newest
	// test two intervals old), not on a tick of its own.
	now = t0.Add(9*10*time.Second + 2*time.Second)
	if d, ok := early.grid.nextStale(); !ok || d != 18*time.Second+time.Millisecond {
		t.Errorf("next staleness redraw in %s (%v), want 18.001s", d, ok)
	}
}

// gridPart is a frame's grid lines (legend to the last row), without the panel.
func gridPart(f string) string {
	var out []string
	for _, l := range strings.Split(f, "\n") {
		if strings.HasPrefix(l, "events") || strings.HasPrefix(l, "hint") {
			break
		}
		if i := strings.Index(l, "│"); i >= 0 {
			l = l[:i]
		}
		out = append(out, strings.TrimRight(l, " "))
	}
	return strings.Join(out, "\n")
}
