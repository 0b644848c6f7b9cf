package serve

import (
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/tui"
)

// sessionModel wraps a session's UI to close it after a spell without input. Output
// does not count: the grid repaints every sweep whether or not anyone is looking.
type sessionModel struct {
	inner     tea.Model
	idle      time.Duration
	lastInput time.Time
	st        *sessionState
	now       func() time.Time
	width     int
	// notice is the answer to this session's last `r` (honoured or why not), shown
	// over the help line for noticeFor: the status bar is too narrow for it on 80
	// columns.
	notice    string
	noticeGen int
	// events is the store's event list (the one the panel shows), polled every
	// eventPoll; seenEvents is the Seq of the newest one this session has shown.
	events     eventList
	seenEvents uint64
}

// eventList is the shared store's events (a *mesh.Store).
type eventList interface {
	EventCount() uint64
	Events() []mesh.Event
}

const eventPoll = time.Second

// eventPollMsg asks the session to look for new events.
type eventPollMsg struct{}

func pollEvents() tea.Cmd {
	return tea.Tick(eventPoll, func(time.Time) tea.Msg { return eventPollMsg{} })
}

const noticeFor = 5 * time.Second

// noticeDoneMsg clears a notice unless a newer one replaced it.
type noticeDoneMsg struct{ gen int }

var noticeStyle = lipgloss.NewStyle().Reverse(true)

// idleCheckMsg asks the session whether it has been idle too long.
type idleCheckMsg struct{}

func newSessionModel(inner tea.Model, idle time.Duration, st *sessionState) sessionModel {
	return sessionModel{inner: inner, idle: idle, lastInput: time.Now(), st: st, now: time.Now}
}

// idleCheckEvery is how often a session looks at its idle time: often enough that a
// session closes within a few percent of the limit, rarely enough to cost nothing.
func (m sessionModel) idleCheckEvery() time.Duration {
	return min(max(m.idle/20, 50*time.Millisecond), 30*time.Second)
}

func (m sessionModel) tick() tea.Cmd {
	return tea.Tick(m.idleCheckEvery(), func(time.Time) tea.Msg { return idleCheckMsg{} })
}

// Init implements tea.Model.
func (m sessionModel) Init() tea.Cmd {
	cmds := []tea.Cmd{m.inner.Init(), m.tick()}
	if m.events != nil {
		cmds = append(cmds, pollEvents())
	}
	return tea.Batch(cmds...)
}

// showNotice puts text on the bottom line for noticeFor.
func (m *sessionModel) showNotice(text string) tea.Cmd {
	m.notice = text
	m.noticeGen++
	gen := m.noticeGen
	return tea.Tick(noticeFor, func(time.Time) tea.Msg { return noticeDoneMsg{gen} })
}

// Update implements tea.Model.
func (m sessionModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg.(type) {
	case idleCheckMsg:
		if m.now().Sub(m.lastInput) >= m.idle {
			m.st.idle.Store(true)
			return m, tea.Quit
		}
		return m, m.tick()
	case eventPollMsg:
		var cmd tea.Cmd
		if total := m.events.EventCount(); total > m.seenEvents {
			n := total - m.seenEvents
			m.seenEvents = total
			if evs := m.events.Events(); len(evs) > 0 {
				// The same line the panel lists for the event (tui.EventLine).
				text := "event: " + tui.EventLine(evs[len(evs)-1])
				if n > 1 {
					text = fmt.Sprintf("%d events; latest: %s", n, tui.EventLine(evs[len(evs)-1]))
				}
				cmd = m.showNotice(text)
			}
		}
		return m, tea.Batch(cmd, pollEvents())
	case noticeDoneMsg:
		if msg.(noticeDoneMsg).gen == m.noticeGen {
			m.notice = ""
		}
		return m, nil
	case tea.WindowSizeMsg:
		m.width = msg.(tea.WindowSizeMsg).Width
		m.lastInput = m.now()
	case tea.KeyPressMsg, tea.KeyReleaseMsg, tea.MouseMsg, tea.PasteMsg:
		m.lastInput = m.now()
	}
	var cmd tea.Cmd
	m.inner, cmd = m.inner.Update(msg)
	// The UI asks for sweep-now inside its Update; the answer waits in the session state.
	if n := m.st.takeNotice(); n != "" {
		cmd = tea.Batch(cmd, m.showNotice(n))
	}
	return m, cmd
}

// View implements tea.Model.
func (m sessionModel) View() tea.View {
	v := m.inner.View()
	if m.notice == "" {
		return v
	}
	i := strings.LastIndexByte(v.Content, '\n')
	w := max(m.width, 1)
	v.Content = v.Content[:i+1] + noticeStyle.Render(ansi.Truncate(m.notice, w, "…"))
	return v
}
