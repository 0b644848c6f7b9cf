package tui

import (
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// confirmer is the --confirm hysteresis for a source that does not judge its pairs
// (history refreshes): a cell shows a new colour only after n successive reads with new
// data agree on it. The live store judges every pair itself (mesh.Judgement), once for
// every viewer; its cells (Cell.Judged) are left alone.
type confirmer struct {
	n       int
	shown   map[mesh.Pair]mesh.Class
	pending map[mesh.Pair]pendingClass
	seen    map[mesh.Pair]time.Time // time of the sample last judged
}

type pendingClass struct {
	class mesh.Class
	count int
}

func newConfirmer(n int) *confirmer {
	c := &confirmer{n: n}
	c.reset()
	return c
}

func (c *confirmer) reset() {
	c.shown = map[mesh.Pair]mesh.Class{}
	c.pending = map[mesh.Pair]pendingClass{}
	c.seen = map[mesh.Pair]time.Time{}
}

func (c *confirmer) enabled() bool { return c != nil && c.n > 1 }

// observe judges each pair once per new sample (a sweep adds one).
func (c *confirmer) observe(m *mesh.Matrix, view mesh.View, stat mesh.Stat, th map[mesh.Metric]mesh.Thresholds) {
	if !c.enabled() || m == nil {
		return
	}
	for _, s := range m.Pops {
		for _, d := range m.Pops {
			p := mesh.Pair{Src: s, Dst: d}
			cell := m.Cell(s, d)
			if cell != nil && cell.Judged {
				continue
			}
			now := m.Verdict(s, d, view, stat, th).Class
			shown, known := c.shown[p]
			switch {
			case !known, now == mesh.Unreachable, now == mesh.NoData:
				// First sight, or a state rather than a colour: shown at once.
				c.shown[p] = now
				delete(c.pending, p)
				if cell != nil {
					c.seen[p] = cell.Last.Time
				}
				continue
			case cell == nil || c.seen[p].Equal(cell.Last.Time):
				continue
			}
			c.seen[p] = cell.Last.Time
			if now == shown {
				delete(c.pending, p)
				continue
			}
			pc := c.pending[p]
			if pc.class != now {
				pc = pendingClass{class: now}
			}
			pc.count++
			if pc.count >= c.n {
				c.shown[p] = now
				delete(c.pending, p)
			} else {
				c.pending[p] = pc
			}
		}
	}
}

// pendingClass returns the colour a pair is heading for while --confirm waits for more
// sweeps to agree, and false when nothing is pending.
func (c *confirmer) pendingClass(p mesh.Pair) (mesh.Class, bool) {
	pc, ok := c.pending[p]
	if !ok || pc.class == c.shown[p] {
		return 0, false
	}
	return pc.class, true
}

// class returns the confirmed class of a pair, and false when the pair is unknown.
func (c *confirmer) class(p mesh.Pair) (mesh.Class, bool) {
	cl, ok := c.shown[p]
	return cl, ok
}
