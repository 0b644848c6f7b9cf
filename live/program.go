package live

import (
	tea "charm.land/bubbletea/v2"

	"github.com/meshtop/meshtop/tui"
)

// Sender is what receives a subscriber's messages: a *tea.Program.
type Sender interface{ Send(tea.Msg) }

// Msgs turns an update into the UI's messages, in the order they must be applied.
func Msgs(u Update) []tea.Msg {
	var msgs []tea.Msg
	done := func() {
		if u.Done != nil {
			msgs = append(msgs, tui.SweepDoneMsg{Time: u.Done.Time, Agents: u.Done.Agents})
		}
	}
	if u.DoneFirst {
		done()
	}
	if u.Started != nil {
		msgs = append(msgs, tui.SweepStartedMsg{Total: u.Started.Total})
	}
	if u.Progress != nil {
		msgs = append(msgs, tui.ProgressMsg{Done: u.Progress.Done, Total: u.Progress.Total})
	}
	if !u.DoneFirst {
		done()
	}
	for _, err := range u.Errors {
		msgs = append(msgs, tui.SourceErrMsg{Err: err})
	}
	if u.Record != nil {
		msgs = append(msgs, tui.RecordStatusMsg{Backlog: u.Record.Backlog, Dropped: u.Record.Dropped, Err: u.Record.Err})
	}
	if u.Schedule != nil {
		msgs = append(msgs, tui.ScheduleMsg{Behind: u.Schedule.Behind, Traces: u.Schedule.Traces})
	}
	if u.Agents > 0 {
		msgs = append(msgs, tui.AgentsMsg{N: u.Agents})
	}
	if u.Changed {
		msgs = append(msgs, tui.DataChangedMsg{})
	}
	return msgs
}

// SubscribeProgram subscribes a UI program to the feed: every update becomes its
// messages, sent from the subscription's goroutine (a busy program delays only itself).
func (f *Feed) SubscribeProgram(p Sender) *Subscription {
	return f.Subscribe(func(u Update) {
		for _, m := range Msgs(u) {
			p.Send(m)
		}
	})
}
