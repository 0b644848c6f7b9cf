package tui

import "math"

// The grid's cursor: where it starts and how keys and clicks move it. A PoP to itself
// (the diagonal, wherever sorting puts it) is never a pair: no key lands there.

// startCell is where the cursor starts: the first pair off the diagonal in the grid's
// order, or the worst measured pair when the grid is sorted by worst. It depends on the
// order alone (and, sorted by worst, on the data), never on which pair happened to be
// measured first, so every run starts on the same pair.
func (g *gridModel) startCell() (int, int) {
	if g.sort == sortWorst && g.m != nil {
		if r, c, ok := g.worstCell(); ok {
			return r, c
		}
	}
	for r := range g.rows {
		for c := range g.cols {
			if g.rows[r] != g.cols[c] {
				return r, c
			}
		}
	}
	return 0, 0
}

// worstCell is the measured pair of the highest severity, then the highest value
// (a failed one counts as infinite). A DOWN row has nothing to look at and is left out.
func (g *gridModel) worstCell() (int, int, bool) {
	br, bc, found := 0, 0, false
	bs, bv := -1, math.Inf(-1)
	for r, row := range g.rows {
		for c, col := range g.cols {
			if row == col {
				continue
			}
			cls, v := g.classValue(row, col)
			if !cls.Colour() {
				continue // DOWN, no data, or stale: nothing to say of now
			}
			if s := cls.Severity(); s > bs || (s == bs && v > bv) {
				br, bc, bs, bv, found = r, c, s, v, true
			}
		}
	}
	return br, bc, found
}

// diagonal reports whether cell r, c is a PoP to itself.
func (g *gridModel) diagonal(r, c int) bool {
	return g.inside(r, c) && g.rows[r] == g.cols[c]
}

// step moves the cursor by dr rows and dc columns (clamped to the grid). Landing on the
// diagonal it goes one further the same way or, past the edge, stops one short of it (an
// arrow key then leaves the cursor where it was; a page key stops before the diagonal).
// Every move by the user ends the start rule.
func (g *gridModel) step(dr, dc int) {
	g.touched = true
	r := max(0, min(g.r+dr, len(g.rows)-1))
	c := max(0, min(g.c+dc, len(g.cols)-1))
	if g.diagonal(r, c) {
		sr, sc := sign(dr), sign(dc)
		switch {
		case sr == 0 && sc == 0:
			return
		case g.inside(r+sr, c+sc):
			r, c = r+sr, c+sc
		default:
			r, c = r-sr, c-sc
		}
	}
	g.moveTo(r, c)
}

func (g *gridModel) inside(r, c int) bool {
	return r >= 0 && c >= 0 && r < len(g.rows) && c < len(g.cols)
}

// home is g: the first pair in reading order.
func (g *gridModel) home() {
	g.touched = true
	for r := range g.rows {
		for c := range g.cols {
			if !g.diagonal(r, c) {
				g.moveTo(r, c)
				return
			}
		}
	}
}

// end is G: the last pair in reading order.
func (g *gridModel) end() {
	g.touched = true
	for r := len(g.rows) - 1; r >= 0; r-- {
		for c := len(g.cols) - 1; c >= 0; c-- {
			if !g.diagonal(r, c) {
				g.moveTo(r, c)
				return
			}
		}
	}
}

func sign(n int) int {
	switch {
	case n > 0:
		return 1
	case n < 0:
		return -1
	}
	return 0
}
