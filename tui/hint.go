package tui

import (
	"fmt"

	"github.com/meshtop/meshtop/mesh"
)

// patternHint names a transit hop that most bad pairs pass (their traceroutes say so),
// a PoP that is bad towards most destinations (a row pattern: look at the source
// itself) or from most sources (a column pattern: look at the destination), which a grid
// of hundreds of cells hides. Empty when nothing stands out.
// hop is sharedHop's answer for the same matrix, view and stat (the grid keeps it: it
// reads every pair's path, once a matrix).
func patternHint(m *mesh.Matrix, view mesh.View, stat mesh.Stat, th map[mesh.Metric]mesh.Thresholds, hop mesh.HopSuspect, hopOK bool) string {
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
	case hopOK && (!strong(bestRow) || hop.Bad >= bestRow.bad) && (!strong(bestCol) || hop.Bad >= bestCol.bad):
		return hopHint(hop)
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

// sharedHop is mesh.SharedHop over the grid's classes: a pair is bad at orange and
// worse or when its newest test failed; stale pairs and DOWN sources say nothing now.
func sharedHop(m *mesh.Matrix, view mesh.View, stat mesh.Stat, th map[mesh.Metric]mesh.Thresholds) (mesh.HopSuspect, bool) {
	if m == nil || len(m.Paths) == 0 {
		return mesh.HopSuspect{}, false
	}
	return mesh.SharedHop(m.Paths, func(p mesh.Pair) (bad, known bool) {
		if _, down := m.SourceDown(p.Src); down {
			return false, false
		}
		c := m.Verdict(p.Src, p.Dst, view, stat, th).Class
		if !c.Colour() && c != mesh.Unreachable {
			return false, false
		}
		return c.Severity() >= int(mesh.Orange), true
	})
}

// hopHint says which hop the bad pairs share, and how many good pairs pass it too.
func hopHint(h mesh.HopSuspect) string {
	name := h.Addr
	switch {
	case h.Name != "" && h.ASN != 0:
		name += fmt.Sprintf(" (%s, AS%d)", h.Name, h.ASN)
	case h.Name != "":
		name += " (" + h.Name + ")"
	case h.ASN != 0:
		name += fmt.Sprintf(" (AS%d)", h.ASN)
	}
	good := "no good pair does"
	switch {
	case h.Good == 1:
		good = "1 good pair does"
	case h.Good > 1:
		good = fmt.Sprintf("%d good pairs do", h.Good)
	}
	return fmt.Sprintf("hint: %d of %d bad pairs pass %s, %s: suspect that hop (enter on one of them: its hop table)",
		h.Bad, h.BadAll, name, good)
}

// hopKey is what a shared hop was found for.
type hopKey struct {
	m    *mesh.Matrix
	view mesh.View
	stat mesh.Stat
}
