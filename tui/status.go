package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/meshtop/meshtop/mesh"
)

// statusModel is the status bar: source, sweep progress, last full sweep, agent
// errors, recording backlog. What it shows depends on the source's capabilities, never
// on its name.
type statusModel struct {
	ui *uiContext
	st *styles

	source      string
	sweeping    bool
	done, total int
	lastSweep   time.Time
	failing     []mesh.AgentStatus
	rec         *RecordStatusMsg
	behind      string // live.Stats.Summary: sweeps cannot keep to the interval
	traces      string // live.Stats.TraceSummary: slow traceroutes run past their interval
	err         string
	partial     bool // the grid lacks p95 values until the full read arrives
	spin        spinner.Model
	width       int
	rendered    string
}

func newStatus(ui *uiContext) statusModel {
	s := statusModel{ui: ui, st: ui.st, source: ui.src.Name(), spin: spinner.New(spinner.WithSpinner(spinner.MiniDot))}
	s.render()
	return s
}

// SetSize implements component; the status bar is one line.
func (s *statusModel) SetSize(w, _ int) {
	s.width = w
	s.render()
}

// View implements component.
func (s *statusModel) View() string { return s.rendered }

// Update implements component: sweep progress, agent states, recorder and source errors,
// and the outcome of every matrix read.
func (s *statusModel) Update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case SweepStartedMsg:
		s.sweeping, s.done, s.total = true, 0, msg.Total
		cmd = s.spin.Tick
	case ProgressMsg:
		s.done, s.total = msg.Done, msg.Total
	case SweepDoneMsg:
		s.sweeping = false
		s.lastSweep = msg.Time
		s.failing = s.failing[:0]
		for _, a := range msg.Agents {
			if a.State.Failing() || a.Error != "" {
				s.failing = append(s.failing, a)
			}
		}
	case RecordStatusMsg:
		s.rec = &msg
	case ScheduleMsg:
		s.behind, s.traces = msg.Behind, msg.Traces
	case SourceErrMsg:
		s.err = msg.Err.Error()
	case matrixMsg:
		if msg.err != nil {
			s.err = msg.err.Error()
			break
		}
		s.err = ""
		if msg.m == nil {
			break
		}
		if !s.ui.caps.Sweeps {
			s.lastSweep = msg.m.Time
		}
		// A quick matrix lacks p95 until the full read arrives.
		if !msg.superseded {
			s.partial = msg.quick
		}
	case spinner.TickMsg:
		if !s.sweeping {
			return nil
		}
		s.spin, cmd = s.spin.Update(msg)
	}
	s.render()
	return cmd
}

func (s *statusModel) render() {
	parts := []string{s.st.title.Render(s.source)}
	if s.ui.cfg.Window != "" {
		parts = append(parts, s.st.dim.Render(s.ui.cfg.Window))
	}
	if s.sweeping {
		parts = append(parts, fmt.Sprintf("%s sweep %d/%d", s.spin.View(), s.done, s.total))
	}
	if !s.lastSweep.IsZero() {
		label := "last sweep"
		if !s.ui.caps.Sweeps {
			label = "newest data"
		}
		parts = append(parts, s.st.dim.Render(label+" ")+s.lastSweep.Local().Format("15:04:05"))
	}
	if s.partial {
		parts = append(parts, s.st.dim.Render("p95 loading…"))
	}
	if s.behind != "" {
		parts = append(parts, s.st.bad.Render(s.behind))
	}
	if s.traces != "" {
		parts = append(parts, s.st.dim.Render(s.traces))
	}
	if s.rec != nil {
		rec := fmt.Sprintf("rec backlog %d", s.rec.Backlog)
		if s.rec.Dropped > 0 {
			rec += fmt.Sprintf(", %d DROPPED", s.rec.Dropped)
		}
		if s.rec.Err != "" {
			rec += ": " + s.rec.Err
		}
		if s.rec.Dropped > 0 || s.rec.Err != "" {
			rec = s.st.bad.Render(rec)
		}
		parts = append(parts, rec)
	}
	if n := len(s.failing); n > 0 {
		a := s.failing[0]
		text := fmt.Sprintf("%s %s: %s", a.Name, a.State, a.Error)
		if n > 1 {
			text = fmt.Sprintf("%d agents with errors; %s", n, text)
		}
		parts = append(parts, s.st.bad.Render(text))
	}
	if s.err != "" {
		parts = append(parts, s.st.bad.Render("error: "+s.err))
	}
	s.rendered = ansi.Truncate(s.st.status.Render(strings.Join(parts, s.st.dim.Render(" │ "))), max(s.width, 1), "…")
}
