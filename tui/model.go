package tui

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

type screen int

const (
	screenGrid screen = iota
	screenDetail
)

// Model is the root model: it routes messages to the grid, the drill-down, the status
// bar and help (each a component, see context.go), switches screens and composes their
// cached renderings into the frame. It keeps no state of theirs.
type Model struct {
	ui *uiContext

	grid   gridModel
	detail detailModel
	status statusModel
	help   helpModel

	screen       screen
	haveFull     bool // a full matrix arrived (a quick one lacks p95)
	fetchPending bool
	frame        string
	// hist moves through time when the source is history (nil: live); see timerange.go.
	hist *historyState
}

// New builds the UI over a source. Reads run under cfg.Context; quitting cancels them.
func New(src Source, cfg Config) Model {
	ui := newUIContext(src, cfg)
	m := Model{ui: ui, grid: newGrid(ui), detail: newDetail(ui), status: newStatus(ui), help: newHelp(ui)}
	m.hist = newHistoryState(src, &ui.cfg)
	if m.hist != nil {
		m.hist.render(&m)
	}
	m.layout()
	return m
}

// Init reads the source.
func (m Model) Init() tea.Cmd {
	first := fetchMatrix(m.ui.ctx, m.ui.src)
	if qs, ok := m.ui.src.(QuickSource); ok {
		first = fetchQuickMatrix(m.ui.ctx, qs)
	}
	if m.hist != nil {
		first = m.hist.init()
	}
	cmds := []tea.Cmd{first, m.grid.staleTick()}
	if m.ui.cfg.Refresh > 0 {
		cmds = append(cmds, m.refreshTick())
	}
	return tea.Batch(cmds...)
}

// Selected returns the grid's selected pair, for tests and callers.
func (m Model) Selected() (src, dst string, ok bool) { return m.grid.Selected() }

func (m Model) refreshTick() tea.Cmd {
	return tea.Tick(m.ui.cfg.Refresh, func(time.Time) tea.Msg { return refreshTickMsg{} })
}

// fetch reads the matrix under the program's context.
func (m Model) fetch() tea.Cmd { return fetchMatrix(m.ui.ctx, m.ui.src) }

// Update implements tea.Model.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	if m.hist != nil {
		if cmd, ok := m.hist.update(&m, msg); ok {
			m.layout()
			return m, cmd
		}
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.ui.width, m.ui.height = msg.Width, msg.Height
		m.layout()
	case matrixMsg:
		m.fetchPending = false
		m.detail.observe(msg.m, m.screen == screenDetail) // agents down/up for the drill-down
		var next tea.Cmd
		if msg.quick {
			// Paint the quick matrix unless a full one beat it, then read the full one
			// (also when the quick read failed).
			msg.superseded = m.haveFull
			m.fetchPending = true
			next = m.fetch()
		} else if msg.err == nil && msg.m != nil {
			m.haveFull = true
		}
		cmd = tea.Batch(m.grid.Update(msg), m.status.Update(msg), next)
	case DataChangedMsg:
		if !m.fetchPending {
			m.fetchPending = true
			fetch := m.fetch()
			cmd = tea.Tick(refetchDelay, func(time.Time) tea.Msg { return fetch() })
		}
	case refreshTickMsg:
		cmds := []tea.Cmd{m.refreshTick()}
		// A history query can take longer than the refresh interval: never stack reads.
		if !m.fetchPending {
			m.fetchPending = true
			cmds = append(cmds, m.fetch())
		}
		if m.screen == screenDetail {
			cmds = append(cmds, m.detail.Reload())
		}
		cmd = tea.Batch(cmds...)
	case SweepDoneMsg:
		cmds := []tea.Cmd{m.status.Update(msg), m.fetch()}
		if m.screen == screenDetail {
			cmds = append(cmds, m.detail.Reload())
		}
		cmd = tea.Batch(cmds...)
	case openPairMsg:
		cmd = m.openDetail(msg.src, msg.dst)
	case detailMoveMsg:
		cmd = m.moveDetail(msg) // detail_nav.go
	case detailMsg:
		if m.screen == screenDetail {
			cmd = m.detail.Update(msg)
		}
	case tea.KeyPressMsg:
		cmd = m.onKey(msg)
	case panelTickMsg, pairHistoryMsg, staleTickMsg:
		cmd = m.grid.Update(msg)
	case tea.MouseClickMsg:
		if m.screen == screenGrid {
			cmd = m.grid.Update(msg)
		}
	case tea.MouseWheelMsg:
		if m.screen == screenDetail {
			cmd = m.detail.Update(msg)
		}
	default:
		// SweepStartedMsg, ProgressMsg, RecordStatusMsg, SourceErrMsg, spinner ticks.
		cmd = m.status.Update(msg)
	}
	if m.syncNotes() {
		m.layout() // the full help's height may change
	} else {
		m.compose()
	}
	return m, cmd
}

// syncNotes hands the status bar's parts, whole, to the help when they changed.
func (m *Model) syncNotes() bool {
	return m.help.SetNotes(m.status.Notes())
}

// onKey handles the global keys (quit, help, refresh, back from the drill-down) and
// hands every other key to the screen in front.
func (m *Model) onKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.ui.keys
	if m.screen == screenGrid && m.grid.Capturing() {
		return m.grid.Update(msg)
	}
	if m.help.Overlay() && !key.Matches(msg, k.Quit) {
		// The full help covers the screen: its keys scroll it.
		m.help.Update(msg)
		m.layout()
		return nil
	}
	switch {
	case key.Matches(msg, k.Quit):
		m.ui.cancel() // reads in flight end with the program
		return tea.Quit
	case key.Matches(msg, k.Help):
		m.help.Update(msg)
		m.layout()
		return nil
	case key.Matches(msg, k.Refresh):
		return m.sweepNow()
	}
	if m.screen == screenDetail {
		switch {
		case key.Matches(msg, k.Back):
			m.screen = screenGrid
			m.layout()
			// The drill-down may have moved the cursor (detail_nav.go): the panel
			// reads the pair it now shows.
			return m.grid.panel.follow(false)
		case m.grid.metricKey(msg):
			// The metric is the grid's; it is there when the drill-down closes.
			return m.grid.Update(msg)
		}
		return m.detail.Update(msg)
	}
	return m.grid.Update(msg)
}

func (m *Model) openDetail(src, dst string) tea.Cmd {
	m.screen = screenDetail
	cmd := m.detail.Open(src, dst)
	m.layout()
	return cmd
}

// layout gives each part its share of the terminal.
func (m *Model) layout() {
	w, h := m.ui.width, m.ui.height
	m.status.SetSize(w, 1)
	if m.screen == screenDetail {
		m.help.SetKeys(detailHelp{m.ui.keys})
	} else {
		m.help.SetKeys(gridHelp{k: m.ui.keys, extra: m.hist.helpBindings()})
	}
	m.syncNotes()
	m.help.SetSize(w, h)
	helpH := m.help.Height()
	if m.help.Overlay() {
		helpH = 1 // the screen behind keeps its size
	}
	// grid screen (legend + grid + hint) + status + help
	m.grid.SetSize(w, max(1, h-1-helpH))
	m.detail.SetSize(w, max(1, h-1-helpH))
	m.compose()
}

// compose joins the cached renderings into the frame View returns.
func (m *Model) compose() {
	main := m.grid.View()
	if m.screen == screenDetail {
		main = m.detail.View() // its last line says what is below the fold
	}
	parts := []string{main, m.status.View(), m.help.View()}
	if m.help.Overlay() {
		parts = []string{m.help.View(), m.status.View()}
	}
	frame := strings.Join(parts, "\n")
	// Clip to the terminal: on a tiny terminal even headers do not fit, and a line that
	// wraps would scroll the whole screen.
	w, h := m.ui.width, m.ui.height
	lines := strings.Split(frame, "\n")
	if len(lines) > h {
		lines = lines[:max(1, h)]
	}
	for i, l := range lines {
		if ansi.StringWidth(l) > w {
			lines[i] = ansi.Truncate(l, max(1, w), "")
		}
	}
	m.frame = strings.Join(lines, "\n")
}

// View implements tea.Model; it returns the frame composed in Update.
func (m Model) View() tea.View {
	v := tea.NewView(m.frame)
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "meshtop"
	return v
}

func lineCount(s string) int { return strings.Count(s, "\n") + 1 }
