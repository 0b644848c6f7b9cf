package tui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// helpModel is the key help under the frame: one line, or every binding after `?`. It
// shows the bindings of the screen in front (SetKeys).
type helpModel struct {
	ui       *uiContext
	h        help.Model
	keys     help.KeyMap
	width    int
	rendered string
}

func newHelp(ui *uiContext) helpModel {
	h := helpModel{ui: ui, h: help.New(), keys: gridHelp{ui.keys}}
	if ui.cfg.NoColor {
		plain := lipgloss.NewStyle()
		h.h.Styles = help.Styles{ShortKey: plain, ShortDesc: plain, ShortSeparator: plain, Ellipsis: plain,
			FullKey: plain, FullDesc: plain, FullSeparator: plain}
	}
	h.render()
	return h
}

// Update toggles the full help on `?`.
func (h *helpModel) Update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyPressMsg); ok && key.Matches(k, h.ui.keys.Help) {
		h.h.ShowAll = !h.h.ShowAll
		h.render()
	}
	return nil
}

// SetKeys shows the bindings of another screen.
func (h *helpModel) SetKeys(km help.KeyMap) {
	h.keys = km
	h.render()
}

// SetSize implements component; the help takes the lines it needs.
func (h *helpModel) SetSize(w, _ int) {
	h.width = w
	h.h.SetWidth(w)
	h.render()
}

// View implements component.
func (h *helpModel) View() string { return h.rendered }

// Height is the number of lines the help takes.
func (h *helpModel) Height() int { return lineCount(h.rendered) }

func (h *helpModel) render() { h.rendered = h.h.View(h.keys) }
