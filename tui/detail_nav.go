package tui

import (
	"slices"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// detailKey handles a key in the drill-down: moving to the neighbouring pair (in the
// grid's order, so the grid's cursor follows) or to the reverse direction; everything
// else goes to the drill-down itself.
func (m *Model) detailKey(msg tea.KeyPressMsg) tea.Cmd {
	dk := detailKeys
	switch {
	case key.Matches(msg, dk.PrevCol):
		return m.detailStep(0, -1)
	case key.Matches(msg, dk.NextCol):
		return m.detailStep(0, 1)
	case key.Matches(msg, dk.PrevRow):
		return m.detailStep(-1, 0)
	case key.Matches(msg, dk.NextRow):
		return m.detailStep(1, 0)
	case key.Matches(msg, dk.Reverse):
		src, dst := m.detail.dst, m.detail.src
		g := &m.grid
		row, col := src, dst
		if g.transposed {
			row, col = dst, src
		}
		if r, c := slices.Index(g.rows, row), slices.Index(g.cols, col); r >= 0 && c >= 0 {
			g.moveTo(r, c)
		}
		return m.openDetail(src, dst, true)
	}
	return m.detail.update(msg)
}

// detailStep moves the grid cursor by (dr, dc), stepping over the diagonal (a PoP to
// itself has no data), and opens the pair there. At the edge nothing happens.
func (m *Model) detailStep(dr, dc int) tea.Cmd {
	g := &m.grid
	r, c := g.r, g.c
	for range 2 {
		g.move(dr, dc)
		s, d, ok := g.selected()
		if !ok || s != d {
			break
		}
	}
	s, d, ok := g.selected()
	if !ok || s == d || (g.r == r && g.c == c) {
		g.moveTo(r, c)
		return nil
	}
	return m.openDetail(s, d, true)
}
