package tui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/meshtop/meshtop/mesh"
)

// statusModel is the status bar. It says first what needs action (sweeps behind, errors,
// agents failing, recorder drops), then what is loading, then what does not change
// (source, window, last sweep), so a narrow bar cuts the static end. A part cut short
// keeps the words that say what to do (status_cut.go), and the bar then points to the
// full help, which lists every part whole (Notes). What it shows depends on the source's
// capabilities, never on its name.
type statusModel struct {
	ui *uiContext
	st *styles

	source      string
	sweeping    bool
	done, total int
	lastSweep   time.Time
	agents      int // the live mesh's agents now (cfg.Agents, then AgentsMsg)
	failing     []mesh.AgentStatus
	rec         *RecordStatusMsg
	behind      string // live.Stats.Summary: sweeps cannot keep to the interval
	traces      string // live.Stats.TraceSummary: slow traceroutes run past their interval
	err         string
	// srcErr is a feed error that says how long it stays (StatusFor: discovery's refused
	// inventory edit, an agent placed by its reverse name), longer than the matrix reads
	// that clear err; its source repeats it while the problem lasts.
	srcErr      string
	srcErrUntil time.Time
	// note is a lasting notice of the source's (Notice() true), shown until noteUntil.
	note      string
	noteUntil time.Time
	partial   bool   // the grid lacks p95 values until the full read arrives
	loading   string // what a history read is still loading (timerange.go)
	spin      spinner.Model
	width     int
	rendered  string
	notes     []string // every part, whole, for the full help
	notesGen  int      // counts changes of notes
}

func newStatus(ui *uiContext) statusModel {
	s := statusModel{ui: ui, st: ui.st, source: ui.src.Name(), agents: ui.cfg.Agents, spin: spinner.New(spinner.WithSpinner(spinner.MiniDot))}
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

// Notes is every part of the bar, whole, most urgent first, when the bar had to cut
// (nil when it did not); the gen changes with them.
func (s *statusModel) Notes() ([]string, int) { return s.notes, s.notesGen }

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
		// The newest sweep that finished: a traceroute sweep whose slow traces ran on
		// finishes after later ping sweeps.
		if msg.Time.After(s.lastSweep) {
			s.lastSweep = msg.Time
		}
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
	case AgentsMsg:
		s.agents = msg.N
	case SourceErrMsg:
		var l interface{ StatusFor() time.Duration }
		if errors.As(msg.Err, &l) {
			// A notice (discovery placed an agent by its DNS name) is no failure: it is
			// said as a note after what needs action, for as long as it asks.
			var n interface{ Notice() bool }
			if errors.As(msg.Err, &n) && n.Notice() {
				s.note, s.noteUntil = msg.Err.Error(), time.Now().Add(l.StatusFor())
				break
			}
			s.srcErr, s.srcErrUntil = msg.Err.Error(), time.Now().Add(l.StatusFor())
			break
		}
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

// statusPart is one part of the bar: its whole text and its style; fix says it is cut
// keeping what to do (an error), else at its end; ticking parts (sweep progress) are
// left out of the notes, which would change with every test.
type statusPart struct {
	text    string
	style   lipgloss.Style
	fix     bool
	ticking bool
	static  bool
}

// parts lists the bar's parts, most urgent first.
func (s *statusModel) parts() []statusPart {
	st := s.st
	var ps []statusPart
	// 1. What needs action.
	if s.behind != "" {
		ps = append(ps, statusPart{text: s.behind, style: st.bad, fix: true})
	}
	if s.err != "" {
		ps = append(ps, statusPart{text: "error: " + s.err, style: st.bad, fix: true})
	}
	if s.srcErr != "" && time.Now().Before(s.srcErrUntil) {
		ps = append(ps, statusPart{text: "error: " + s.srcErr, style: st.bad, fix: true})
	}
	if n := len(s.failing); n > 0 {
		text := agentText(s.failing[0])
		if n > 1 {
			text = fmt.Sprintf("%d agents with errors; %s", n, text)
		}
		ps = append(ps, statusPart{text: text, style: st.bad, fix: true})
	}
	recOK := ""
	if s.rec != nil {
		rec := fmt.Sprintf("rec backlog %d", s.rec.Backlog)
		if s.rec.Dropped > 0 {
			rec += fmt.Sprintf(", %d DROPPED", s.rec.Dropped)
		}
		if s.rec.Err != "" {
			rec += ": " + s.rec.Err
		}
		if s.rec.Dropped > 0 || s.rec.Err != "" {
			ps = append(ps, statusPart{text: rec, style: st.bad, fix: true})
		} else {
			recOK = rec
		}
	}
	// 2. What is loading.
	if s.loading != "" {
		ps = append(ps, statusPart{text: s.loading, style: st.status})
	}
	if s.sweeping {
		ps = append(ps, statusPart{text: fmt.Sprintf("%s sweep %d/%d", s.spin.View(), s.done, s.total), style: st.status, ticking: true})
	}
	if s.partial {
		ps = append(ps, statusPart{text: "p95 loading…", style: st.dim})
	}
	if s.note != "" && time.Now().Before(s.noteUntil) {
		ps = append(ps, statusPart{text: "note: " + s.note, style: st.dim})
	}
	// How late slow traceroutes are: a note (they hold nothing back), not an alarm.
	if s.traces != "" {
		ps = append(ps, statusPart{text: s.traces, style: st.dim})
	}
	// 3. What does not change.
	ps = append(ps, statusPart{text: s.source, style: st.title, static: true})
	if win := s.window(); win != "" {
		ps = append(ps, statusPart{text: win, style: st.dim, static: true})
	}
	if !s.lastSweep.IsZero() {
		label := "last sweep "
		if !s.ui.caps.Sweeps {
			label = "newest data "
		}
		ps = append(ps, statusPart{text: label + s.lastSweep.Local().Format("15:04:05"), style: st.dim, static: true})
	}
	if recOK != "" {
		ps = append(ps, statusPart{text: recOK, style: st.status, static: true})
	}
	return ps
}

const (
	statusSep = " │ "
	// statusMore ends a bar that had to cut: the full help (?) lists every part whole.
	// After a part cut short (which ends in …) it is " ? help".
	statusMore = " … ? help"
)

func (s *statusModel) render() {
	ps := s.parts()
	w := max(s.width, 1)
	texts := make([]string, len(ps))
	for i, p := range ps {
		texts[i] = p.text
	}
	cut := ansi.StringWidth(strings.Join(texts, statusSep)) > w
	var notes []string
	if cut {
		texts = fitStatus(ps, w-ansi.StringWidth(statusMore))
		notes = s.noteLines(ps) // the bar points to them
	}
	if !slices.Equal(notes, s.notes) {
		s.notes = notes
		s.notesGen++
	}
	var b strings.Builder
	for i, t := range texts {
		if i > 0 {
			b.WriteString(s.st.dim.Render(statusSep))
		}
		b.WriteString(ps[i].style.Render(t))
	}
	if cut {
		more := statusMore
		if n := len(texts); n > 0 && strings.HasSuffix(texts[n-1], "…") {
			more = strings.TrimPrefix(more, " …")
		}
		b.WriteString(s.st.hint.Render(more))
	}
	s.rendered = ansi.Truncate(s.st.status.Render(b.String()), w, "…")
}

// noteLines are the parts whole for the full help: each part that needs action or is
// loading on its own line (agents failing one each), what does not change on one.
func (s *statusModel) noteLines(ps []statusPart) []string {
	var out, static []string
	for _, p := range ps {
		switch {
		case p.ticking:
		case p.static:
			static = append(static, p.text)
		default:
			out = append(out, p.text)
		}
	}
	if len(s.failing) > 1 {
		for i, a := range s.failing[1:] {
			if i == maxNotedAgents {
				out = append(out, fmt.Sprintf("… and %d more agents with errors", len(s.failing)-1-i))
				break
			}
			out = append(out, agentText(a))
		}
	}
	if len(static) > 0 {
		out = append(out, strings.Join(static, " · "))
	}
	return out
}

// agentText is an agent's state and error, without the error's own "agent NAME (URL): "
// (the name leads already; the URL is in the inventory).
func agentText(a mesh.AgentStatus) string {
	msg := a.Error
	if rest, ok := strings.CutPrefix(msg, "agent "+a.Name+" "); ok {
		if i := strings.Index(rest, "): "); strings.HasPrefix(rest, "(") && i > 0 {
			msg = rest[i+3:]
		}
	}
	return fmt.Sprintf("%s %s: %s", a.Name, a.State, msg)
}

// maxNotedAgents bounds the agents the full help lists beyond the first.
const maxNotedAgents = 20

// fitStatus fits parts into w columns, most urgent first: a part that does not fit whole
// is cut (an error keeping what to do) and ends the bar.
func fitStatus(ps []statusPart, w int) []string {
	var out []string
	used := 0
	for i, p := range ps {
		room := w - used
		if i > 0 {
			room -= ansi.StringWidth(statusSep)
		}
		if room < 1 {
			break
		}
		if ansi.StringWidth(p.text) <= room {
			out = append(out, p.text)
			used += ansi.StringWidth(p.text)
			if i > 0 {
				used += ansi.StringWidth(statusSep)
			}
			continue
		}
		if p.fix {
			out = append(out, cutKeepFix(p.text, room))
		} else if room >= 4 || i == 0 {
			out = append(out, ansi.Truncate(p.text, room, "…"))
		}
		break
	}
	return out
}

// window is the static part that says what is measured: "6 agents, every 10s, keep
// 360" live (the count follows re-discovery), the time range in history.
func (s *statusModel) window() string {
	w := s.ui.cfg.Window
	if s.agents <= 0 {
		return w
	}
	n := fmt.Sprintf("%d agents", s.agents)
	if s.agents == 1 {
		n = "1 agent"
	}
	if w == "" {
		return n
	}
	return n + ", " + w
}
