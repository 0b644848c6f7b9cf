package tui

import tea "charm.land/bubbletea/v2"

// SweepRequester is a SweepNower that may refuse (meshtop serve: a viewer's key, or the
// team's rate limit). When a source is one, `r` asks it instead of SweepNow.
type SweepRequester interface {
	RequestSweep() error
}

// sweepNow handles `r`: ask for a sweep when the source can sweep, and re-read. A
// refusal says why in the status bar and reads nothing.
func (m *Model) sweepNow() tea.Cmd {
	if m.ui.caps.SweepNow {
		if sr, ok := m.ui.src.(SweepRequester); ok {
			if err := sr.RequestSweep(); err != nil {
				return func() tea.Msg { return SourceErrMsg{Err: err} }
			}
		} else if sn, ok := m.ui.src.(SweepNower); ok {
			sn.SweepNow()
		}
	}
	return m.fetch()
}
