package tui

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/meshtop/meshtop/mesh"
)

type screen int

const (
	screenGrid screen = iota
	screenDetail
)

// Model is the root model: it routes messages to the grid, the drill-down, the status
// bar and help, and composes their cached renderings into the frame.
type Model struct {
	cfg  Config
	src  Source
	keys keyMap
	st   *styles

	grid   gridModel
	detail detailModel
	status statusModel
	help   help.Model
	filter textinput.Model

	screen       screen
	filtering    bool
	haveFull     bool // a full matrix arrived (a quick one lacks p95)
	width        int
	height       int
	fetchPending bool
	detailGen    int
	frame        string
	// hist moves through time when the source is history (nil: live); see timerange.go.
	hist *historyState
}

// New builds the UI over a source.
func New(src Source, cfg Config) Model {
	cfg.defaults()
	st := newStyles(cfg.Palette, cfg.NoColor)
	m := Model{cfg: cfg, src: src, keys: newKeyMap(), st: &st, help: help.New(), filter: textinput.New()}
	m.grid = newGrid(&m.cfg, m.st)
	m.detail = newDetail(&m.cfg, m.st)
	m.status = newStatus(&m.cfg, m.st, src.Name())
	if cfg.NoColor {
		plain := lipgloss.NewStyle()
		m.help.Styles = help.Styles{ShortKey: plain, ShortDesc: plain, ShortSeparator: plain, Ellipsis: plain,
			FullKey: plain, FullDesc: plain, FullSeparator: plain}
	}
	m.filter.Prompt = "filter: "
	m.filter.Placeholder = "PoP codes, e.g. sjc jfk"
	m.width, m.height = 80, 24
	m.hist = newHistoryState(src, &m.cfg)
	if m.hist != nil {
		m.hist.render(&m)
	}
	m.layout()
	return m
}

// Init reads the source.
func (m Model) Init() tea.Cmd {
	first := fetchMatrix(m.src)
	if qs, ok := m.src.(QuickSource); ok {
		first = fetchQuickMatrix(qs)
	}
	if m.hist != nil {
		first = m.hist.init()
	}
	cmds := []tea.Cmd{first}
	if m.cfg.Refresh > 0 {
		cmds = append(cmds, tea.Tick(m.cfg.Refresh, func(time.Time) tea.Msg { return refreshTickMsg{} }))
	}
	return tea.Batch(cmds...)
}

// Grid exposes the selected pair and view for tests and callers.
func (m Model) Selected() (src, dst string, ok bool) { return m.grid.selected() }

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
		m.width, m.height = msg.Width, msg.Height
		m.layout()
	case matrixMsg:
		m.fetchPending = false
		switch {
		case msg.quick:
			// Paint the quick matrix unless a full one beat it, then read the full one
			// (also when the quick read failed).
			if msg.err == nil && msg.m != nil && !m.haveFull {
				m.grid.setMatrix(msg.m)
				m.status.partial = true
			}
			m.fetchPending = true
			cmd = tea.Batch(m.status.update(msg), fetchMatrix(m.src))
		default:
			if msg.err == nil && msg.m != nil {
				m.grid.setMatrix(msg.m)
				m.haveFull = true
				m.status.partial = false
			}
			cmd = m.status.update(msg)
		}
	case DataChangedMsg:
		if !m.fetchPending {
			m.fetchPending = true
			src := m.src
			cmd = tea.Tick(refetchDelay, func(time.Time) tea.Msg { return fetchMatrix(src)() })
		}
	case refreshTickMsg:
		cmds := []tea.Cmd{tea.Tick(m.cfg.Refresh, func(time.Time) tea.Msg { return refreshTickMsg{} })}
		// A history query can take longer than the refresh interval: never stack reads.
		if !m.fetchPending {
			m.fetchPending = true
			cmds = append(cmds, fetchMatrix(m.src))
		}
		if m.screen == screenDetail {
			cmds = append(cmds, m.openDetail(m.detail.src, m.detail.dst, false))
		}
		cmd = tea.Batch(cmds...)
	case SweepDoneMsg:
		cmds := []tea.Cmd{m.status.update(msg), fetchMatrix(m.src)}
		if m.screen == screenDetail {
			cmds = append(cmds, m.openDetail(m.detail.src, m.detail.dst, false))
		}
		cmd = tea.Batch(cmds...)
	case detailMsg:
		if msg.requestedAtGen == m.detailGen && m.screen == screenDetail {
			m.detail.setData(msg)
		}
	case tea.KeyPressMsg:
		cmd = m.onKey(msg)
	case tea.MouseClickMsg:
		cmd = m.onClick(msg.Mouse())
	case tea.MouseWheelMsg:
		if m.screen == screenDetail {
			cmd = m.detail.update(msg)
		}
	default:
		// SweepStartedMsg, ProgressMsg, RecordStatusMsg, SourceErrMsg, spinner ticks.
		cmd = m.status.update(msg)
	}
	m.compose()
	return m, cmd
}

func (m *Model) onKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	if m.filtering {
		switch msg.String() {
		case "enter":
			m.filtering = false
			m.filter.Blur()
		case "esc":
			m.filtering = false
			m.filter.Blur()
			m.filter.SetValue("")
		default:
			var cmd tea.Cmd
			m.filter, cmd = m.filter.Update(msg)
			m.grid.filter = m.filter.Value()
			m.grid.reorder()
			return cmd
		}
		m.grid.filter = m.filter.Value()
		m.grid.reorder()
		m.layout()
		return nil
	}
	switch {
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.Help):
		m.help.ShowAll = !m.help.ShowAll
		m.layout()
		return nil
	case key.Matches(msg, k.Refresh):
		if m.cfg.SweepNow != nil {
			m.cfg.SweepNow()
		}
		return fetchMatrix(m.src)
	case key.Matches(msg, k.Metric):
		m.setMetric(mesh.Metrics[(indexOf(mesh.Metrics, m.grid.metric)+1)%len(mesh.Metrics)])
		return nil
	case key.Matches(msg, k.Latency), key.Matches(msg, k.JitterPct), key.Matches(msg, k.JitterMs), key.Matches(msg, k.Loss):
		m.setMetric(mesh.Metrics[msg.String()[0]-'1'])
		return nil
	}
	if m.screen == screenDetail {
		if key.Matches(msg, k.Back) {
			m.screen = screenGrid
			m.layout()
			return nil
		}
		return m.detail.update(msg)
	}
	g := &m.grid
	switch {
	case key.Matches(msg, k.Up):
		g.move(-1, 0)
	case key.Matches(msg, k.Down):
		g.move(1, 0)
	case key.Matches(msg, k.Left):
		g.move(0, -1)
	case key.Matches(msg, k.Right):
		g.move(0, 1)
	case key.Matches(msg, k.PageUp):
		g.move(-g.visRows, 0)
	case key.Matches(msg, k.PageDown):
		g.move(g.visRows, 0)
	case key.Matches(msg, k.Home):
		g.moveTo(0, 0)
	case key.Matches(msg, k.End):
		g.moveTo(len(g.rows)-1, len(g.cols)-1)
	case key.Matches(msg, k.Stat):
		g.setView(g.metric, mesh.Stats[(indexOf(mesh.Stats, g.stat)+1)%len(mesh.Stats)])
	case key.Matches(msg, k.Sort):
		g.sort = (g.sort + 1) % 2
		g.reorder()
	case key.Matches(msg, k.Transpose):
		g.transposed = !g.transposed
		g.r, g.c = g.c, g.r
		g.curRow, g.curCol = g.curCol, g.curRow
		g.reorder()
	case key.Matches(msg, k.Filter):
		m.filtering = true
		m.layout()
		return m.filter.Focus()
	case key.Matches(msg, k.Back):
		if g.filter != "" {
			m.filter.SetValue("")
			g.filter = ""
			g.reorder()
		}
	case key.Matches(msg, k.Enter):
		if s, d, ok := g.selected(); ok {
			return m.openDetail(s, d, true)
		}
	}
	return nil
}

// onClick selects the clicked cell; a click on the selected cell drills down (a double
// click does both).
func (m *Model) onClick(ms tea.Mouse) tea.Cmd {
	if m.screen != screenGrid || ms.Button != tea.MouseLeft {
		return nil
	}
	r, c, ok := m.grid.cellAt(ms.X, ms.Y-gridTop)
	if !ok {
		return nil
	}
	if r == m.grid.r && c == m.grid.c {
		s, d, _ := m.grid.selected()
		return m.openDetail(s, d, true)
	}
	m.grid.moveTo(r, c)
	return nil
}

func (m *Model) openDetail(src, dst string, fresh bool) tea.Cmd {
	m.detailGen++
	if fresh {
		m.detail.open(src, dst)
		m.screen = screenDetail
		m.layout()
	}
	return fetchDetail(m.src, src, dst, m.detail.chartPoints(), m.detailGen)
}

func (m *Model) setMetric(metric mesh.Metric) {
	m.grid.setView(metric, m.grid.stat)
}

// gridTop is the screen row of the grid's header (below the legend line).
const gridTop = 1

// layout gives each part its share of the terminal.
func (m *Model) layout() {
	m.help.SetWidth(m.width)
	m.status.width = m.width
	m.status.render()
	helpH := lineCount(m.helpView())
	// legend + hint/filter + status + help
	rest := max(1, m.height-1-1-1-helpH)
	m.grid.setSize(m.width, rest)
	m.detail.setSize(m.width, max(1, m.height-1-helpH))
	m.compose()
}

func (m *Model) helpView() string {
	if m.screen == screenDetail {
		return m.help.View(detailHelp{m.keys})
	}
	return m.help.View(gridHelp{k: m.keys, extra: m.hist.helpBindings()})
}

// compose joins the cached renderings into the frame View returns.
func (m *Model) compose() {
	var parts []string
	if m.screen == screenDetail {
		parts = []string{m.detail.vp.View(), m.status.rendered, m.helpView()}
	} else {
		mid := m.st.hint.Render(ansi.Truncate(m.grid.hint, m.width, "…"))
		if m.filtering {
			mid = m.filter.View()
		}
		grid := m.grid.rendered
		// Fill the grid area so the lines below stay put when the grid is short.
		if n := lineCount(grid); n < m.grid.height {
			grid += strings.Repeat("\n", m.grid.height-n)
		}
		parts = []string{m.grid.legend(m.width), grid, mid, m.status.rendered, m.helpView()}
	}
	frame := strings.Join(parts, "\n")
	// Clip to the terminal: on a tiny terminal even headers do not fit, and a line that
	// wraps would scroll the whole screen.
	lines := strings.Split(frame, "\n")
	if len(lines) > m.height {
		lines = lines[:max(1, m.height)]
	}
	for i, l := range lines {
		if ansi.StringWidth(l) > m.width {
			lines[i] = ansi.Truncate(l, max(1, m.width), "")
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

func indexOf[T comparable](list []T, v T) int {
	for i, x := range list {
		if x == v {
			return i
		}
	}
	return 0
}
