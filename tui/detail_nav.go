package tui

import tea "charm.land/bubbletea/v2"

// detailMoveMsg asks the root to show the neighbouring pair (dr rows, dc columns away in
// the grid's order) or, with reverse, the other direction of the pair shown. The grid's
// cursor follows, so esc comes back to the pair last seen.
type detailMoveMsg struct {
	dr, dc  int
	reverse bool
}

func (d *detailModel) move(dr, dc int, reverse bool) tea.Cmd {
	return func() tea.Msg { return detailMoveMsg{dr: dr, dc: dc, reverse: reverse} }
}

// moveDetail carries out a detailMoveMsg: the grid moves (stepping over the diagonal, a
// PoP to itself has no data; at the edge nothing happens) and the drill-down opens there.
func (m *Model) moveDetail(msg detailMoveMsg) tea.Cmd {
	if m.screen != screenDetail {
		return nil
	}
	g := &m.grid
	if msg.reverse {
		src, dst := m.detail.dst, m.detail.src
		g.selectPair(src, dst) // when it is shown; the drill-down opens either way
		return m.openDetail(src, dst)
	}
	r, c := g.r, g.c
	g.step(msg.dr, msg.dc) // over the diagonal; at the edge it stays
	s, d, ok := g.Selected()
	if !ok || s == d || (g.r == r && g.c == c) {
		return nil
	}
	return m.openDetail(s, d)
}
