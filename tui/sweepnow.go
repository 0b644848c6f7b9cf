package tui

import tea "charm.land/bubbletea/v2"

// sweepNow handles `r`: ask for a sweep (when the source sweeps) and re-read. A refused
// request (serve: a viewer, or the team's rate limit) says why in the status bar and
// reads nothing.
func (m *Model) sweepNow() tea.Cmd {
	if m.cfg.SweepRequest != nil {
		if err := m.cfg.SweepRequest(); err != nil {
			return func() tea.Msg { return SourceErrMsg{Err: err} }
		}
	} else if m.cfg.SweepNow != nil {
		m.cfg.SweepNow()
	}
	return fetchMatrix(m.src)
}
