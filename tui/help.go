package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// helpModel is the key help under the frame: one line, or every binding after `?`. It
// shows the bindings of the screen in front (SetKeys). The full help lays its bindings
// out in as many columns as the width holds; when it does not fit under the screen
// either, it takes the screen (Overlay) and scrolls with the arrow keys.
type helpModel struct {
	ui       *uiContext
	h        help.Model
	keys     help.KeyMap
	width    int
	height   int // the terminal's
	overlay  bool
	off      int // first line shown in overlay mode
	lines    []string
	rendered string
	// notes are the status bar's parts whole (statusModel.Notes): the full help shows
	// them above the keys, so a bar cut short points here.
	notes    []string
	notesGen int
}

// minScreen is the fewest lines the screen above the full help must keep (legend,
// header, a row, the hint), or the help takes the screen instead.
const minScreen = 4

func newHelp(ui *uiContext) helpModel {
	h := helpModel{ui: ui, h: help.New(), keys: gridHelp{k: ui.keys}}
	if ui.cfg.NoColor {
		plain := lipgloss.NewStyle()
		h.h.Styles = help.Styles{ShortKey: plain, ShortDesc: plain, ShortSeparator: plain, Ellipsis: plain,
			FullKey: plain, FullDesc: plain, FullSeparator: plain}
	}
	h.render()
	return h
}

// Update toggles the full help on `?` and scrolls it in overlay mode.
func (h *helpModel) Update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	keys := h.ui.keys
	switch {
	case key.Matches(k, keys.Help):
		h.h.ShowAll = !h.h.ShowAll
		h.off = 0
	case !h.overlay:
		return nil
	case key.Matches(k, keys.Back):
		h.h.ShowAll = false
	case key.Matches(k, keys.Up):
		h.off--
	case key.Matches(k, keys.Down):
		h.off++
	case key.Matches(k, keys.PageUp):
		h.off -= h.room()
	case key.Matches(k, keys.PageDown):
		h.off += h.room()
	}
	h.render()
	return nil
}

// Overlay reports whether the full help takes the screen (and its keys).
func (h *helpModel) Overlay() bool { return h.overlay }

// SetKeys shows the bindings of another screen.
func (h *helpModel) SetKeys(km help.KeyMap) {
	h.keys = km
	h.render()
}

// SetNotes takes the status bar's parts whole (gen numbers them: the same gen is no
// change) and reports whether the full help on screen changed (its height may have).
func (h *helpModel) SetNotes(notes []string, gen int) bool {
	if gen == h.notesGen {
		return false
	}
	h.notes, h.notesGen = notes, gen
	if !h.h.ShowAll {
		return false // the next ? renders them
	}
	h.render()
	return true
}

// SetSize implements component; h is the terminal's height.
func (h *helpModel) SetSize(w, ht int) {
	h.width, h.height = w, ht
	h.h.SetWidth(w)
	h.render()
}

// View implements component.
func (h *helpModel) View() string { return h.rendered }

// Height is the number of lines the help takes.
func (h *helpModel) Height() int { return lineCount(h.rendered) }

// room is the lines of bindings an overlay shows (the status line and the scroll line
// take two).
func (h *helpModel) room() int { return max(1, h.height-2) }

func (h *helpModel) render() {
	h.overlay = false
	if !h.h.ShowAll {
		h.rendered = h.h.View(h.keys)
		return
	}
	h.lines = append(h.noteLines(), h.fullLines()...)
	if len(h.lines)+1+minScreen <= h.height {
		h.rendered = strings.Join(h.lines, "\n")
		return
	}
	h.overlay = true
	room := h.room()
	if len(h.lines) <= room+1 {
		h.off = 0
		h.rendered = strings.Join(h.lines, "\n")
		return
	}
	h.off = max(0, min(h.off, len(h.lines)-room))
	shown := append([]string(nil), h.lines[h.off:h.off+room]...)
	more := fmt.Sprintf("↑↓ scroll %d–%d of %d · ? or esc closes", h.off+1, h.off+room, len(h.lines))
	shown = append(shown, h.ui.st.dim.Render(ansi.Truncate(more, max(1, h.width), "…")))
	h.rendered = strings.Join(shown, "\n")
}

// noteLines are the status bar's parts whole, wrapped to the width, then a blank line.
func (h *helpModel) noteLines() []string {
	if len(h.notes) == 0 {
		return nil
	}
	st := h.ui.st
	w := max(10, h.width)
	lines := []string{st.title.Render("status")}
	for _, n := range h.notes {
		for i, l := range wrapAtSpaces(n, w-2) {
			lead := "• "
			if i > 0 {
				lead = "  "
			}
			lines = append(lines, lead+l)
		}
	}
	return append(lines, "")
}

// wrapAtSpaces wraps text at spaces only (a flag such as --scouter-secret-file stays
// whole, to be copied); a word wider than w is cut into pieces of w.
func wrapAtSpaces(text string, w int) []string {
	w = max(1, w)
	var lines []string
	cur, curW := "", 0
	for _, word := range strings.Fields(text) {
		ww := ansi.StringWidth(word)
		if curW > 0 && curW+1+ww > w {
			lines, cur, curW = append(lines, cur), "", 0
		}
		for ww > w { // only a word alone on its line can be this long
			lines = append(lines, ansi.Truncate(word, w, ""))
			word = ansi.TruncateLeft(word, w, "")
			ww = ansi.StringWidth(word)
		}
		if curW > 0 {
			cur, curW = cur+" ", curW+1
		}
		cur, curW = cur+word, curW+ww
	}
	if curW > 0 {
		lines = append(lines, cur)
	}
	return lines
}

// fullLines is the full help: bubbles' grouped columns when they fit the width, else
// every binding in as many columns as fit.
func (h *helpModel) fullLines() []string {
	groups := h.keys.FullHelp()
	need := 0
	var all []key.Binding
	for i, g := range groups {
		kw, dw := 0, 0
		for _, b := range g {
			if !b.Enabled() {
				continue
			}
			kw, dw = max(kw, ansi.StringWidth(b.Help().Key)), max(dw, ansi.StringWidth(b.Help().Desc))
			all = append(all, b)
		}
		need += kw + 1 + dw
		if i > 0 {
			need += 4
		}
	}
	if need <= h.width {
		return strings.Split(h.h.View(h.keys), "\n")
	}
	kw, dw := 0, 0
	for _, b := range all {
		kw, dw = max(kw, ansi.StringWidth(b.Help().Key)), max(dw, ansi.StringWidth(b.Help().Desc))
	}
	colW := kw + 1 + dw + 2
	cols := max(1, (h.width+2)/colW)
	rows := (len(all) + cols - 1) / cols
	st := h.h.Styles
	lines := make([]string, rows)
	for i, b := range all {
		r, c := i%rows, i/rows
		cell := st.FullKey.Render(pad(b.Help().Key, kw)) + " " + st.FullDesc.Render(pad(b.Help().Desc, dw))
		if c > 0 {
			cell = "  " + cell
		}
		lines[r] += cell
	}
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	return lines
}
