package live

import (
	"context"
	"testing"
	"time"

	"github.com/meshtop/meshtop/tui"
)

// TestFeedSchedule: the loop's schedule reaches every subscriber as a ScheduleMsg, a
// new subscriber gets the current one, and an unchanged summary is not published again.
func TestFeedSchedule(t *testing.T) {
	f := NewFeed()
	got := make(chan Update, 16)
	sub := f.Subscribe(func(u Update) { got <- u })
	defer sub.Close()
	<-got // the initial state

	behind := Schedule{Behind: "behind: a full sweep takes 2m38s > 1m0s interval",
		Traces: "traces: 2 slow (up to 32s) run on past the 10s traceroute interval, the others keep to it"}
	published := f.Published()
	f.Schedule(behind)
	f.Schedule(behind)
	if n := f.Published() - published; n != 1 {
		t.Fatalf("published %d updates for one schedule change, want 1", n)
	}
	u := waitUpdate(t, got)
	if u.Schedule == nil || *u.Schedule != behind {
		t.Fatalf("update %+v: want the schedule %+v", u, behind)
	}
	var msg *tui.ScheduleMsg
	for _, m := range Msgs(u) {
		if s, ok := m.(tui.ScheduleMsg); ok {
			msg = &s
		}
	}
	if msg == nil || msg.Behind != behind.Behind || msg.Traces != behind.Traces {
		t.Fatalf("Msgs(%+v) = %v: want a ScheduleMsg", u, Msgs(u))
	}

	late := make(chan Update, 4)
	sub2 := f.Subscribe(func(u Update) { late <- u })
	defer sub2.Close()
	if u := waitUpdate(t, late); u.Schedule == nil || *u.Schedule != behind {
		t.Fatalf("a new subscriber's first update %+v lacks the schedule", u)
	}

	// Back on time: that is published once, and a later subscriber hears nothing of it.
	f.Schedule(Schedule{})
	if u := waitUpdate(t, got); u.Schedule == nil || *u.Schedule != (Schedule{}) {
		t.Fatalf("update %+v: want the on-time schedule", u)
	}
}

// TestWatchSchedule publishes the stats' summary as it changes.
func TestWatchSchedule(t *testing.T) {
	f := NewFeed()
	got := make(chan Update, 16)
	sub := f.Subscribe(func(u Update) { got <- u })
	defer sub.Close()
	<-got
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := Stats{Interval: time.Minute, Sources: 3, Behind: 1, SweepDuration: 90 * time.Second, OldestAge: 2 * time.Minute,
		TraceInterval: 2 * time.Minute, TraceDuration: 3 * time.Minute, TraceBehind: 1}
	go f.WatchSchedule(ctx, func() Stats { return st }, time.Millisecond)
	u := waitUpdate(t, got)
	if u.Schedule == nil || u.Schedule.Behind != st.Summary() || u.Schedule.Traces != st.TraceSummary() || st.TraceSummary() == "" {
		t.Fatalf("update %+v: want %q and %q", u, st.Summary(), st.TraceSummary())
	}
}

func waitUpdate(t *testing.T, ch <-chan Update) Update {
	t.Helper()
	for {
		select {
		case u := <-ch:
			if u.Schedule != nil {
				return u
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no schedule update within 10 s")
		}
	}
}
