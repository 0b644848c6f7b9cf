package tui

import (
	"fmt"

	"github.com/meshtop/meshtop/mesh"
)

// patternHint names a PoP that is bad towards most destinations (a row pattern: look at
// the source itself) or from most sources (a column pattern: look at the destination),
// which a grid of hundreds of cells hides. Empty when no PoP stands out.
func patternHint(m *mesh.Matrix, view mesh.View, stat mesh.Stat, th map[mesh.Metric]mesh.Thresholds) string {
	if m == nil || len(m.Pops) < 3 {
		return ""
	}
	type score struct {
		pop      string
		bad, all int
	}
	var bestRow, bestCol score
	better := func(a, b score) bool { return a.all > 0 && (b.all == 0 || a.bad*b.all > b.bad*a.all) }
	var down []string
	for _, p := range m.Pops {
		if _, isDown := m.SourceDown(p); isDown {
			down = append(down, p)
			continue
		}
		row, col := score{pop: p}, score{pop: p}
		for _, q := range m.Pops {
			if q == p {
				continue
			}
			if c := m.Verdict(p, q, view, stat, th).Class; c.Colour() {
				row.all++
				if c >= mesh.Orange {
					row.bad++
				}
			}
			if _, qDown := m.SourceDown(q); !qDown {
				if c := m.Verdict(q, p, view, stat, th).Class; c.Colour() {
					col.all++
					if c >= mesh.Orange {
						col.bad++
					}
				}
			}
		}
		if better(row, bestRow) {
			bestRow = row
		}
		if better(col, bestCol) {
			bestCol = col
		}
	}
	// "Most": more than half, and at least two, of the measured pairs.
	strong := func(s score) bool { return s.bad >= 2 && s.bad*2 > s.all }
	switch {
	case strong(bestRow) && (!strong(bestCol) || bestRow.bad*bestCol.all >= bestCol.bad*bestRow.all):
		return fmt.Sprintf("hint: %s is bad towards %d of %d destinations (row pattern): suspect %s's own uplink or agent",
			bestRow.pop, bestRow.bad, bestRow.all, bestRow.pop)
	case strong(bestCol):
		return fmt.Sprintf("hint: %s is bad from %d of %d sources (column pattern): suspect the path into %s",
			bestCol.pop, bestCol.bad, bestCol.all, bestCol.pop)
	case len(down) > 0:
		return fmt.Sprintf("hint: agents of %v cannot be used (DOWN rows); see the status line", down)
	}
	return ""
}
