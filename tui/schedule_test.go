package tui

import (
	"strings"
	"testing"
)

// TestStatusSaysSweepsAreBehind: the loop's "behind" account is on the status line until
// the sweeps keep to their interval again.
func TestStatusSaysSweepsAreBehind(t *testing.T) {
	const behind = "behind: a full sweep takes 2m38s > 1m0s interval"
	m := newTestModel(t, 160, 48, Config{NoColor: true})
	m = update(t, m, ScheduleMsg{Behind: behind})
	if !strings.Contains(m.View().Content, behind) {
		t.Fatalf("status line lacks %q:\n%s", behind, m.View().Content)
	}
	m = update(t, m, ScheduleMsg{})
	if strings.Contains(m.View().Content, "behind:") {
		t.Fatalf("back on time, the status line still says behind:\n%s", m.View().Content)
	}
}

// TestStatusNotesSlowTraceroutes: slow traceroutes are noted on the status line on
// their own, never as "behind" (which is about pings).
func TestStatusNotesSlowTraceroutes(t *testing.T) {
	const traces = "traces: 2 slow (up to 32s) run on past the 10s traceroute interval, the others keep to it"
	m := newTestModel(t, 160, 48, Config{NoColor: true})
	m = update(t, m, ScheduleMsg{Traces: traces})
	v := m.View().Content
	if !strings.Contains(v, "traces: 2 slow") || strings.Contains(v, "behind") {
		t.Fatalf("status line should note the slow traces, and not say behind:\n%s", v)
	}
	m = update(t, m, ScheduleMsg{})
	if strings.Contains(m.View().Content, "traces:") {
		t.Fatalf("traces on time again, the status line still notes them:\n%s", m.View().Content)
	}
}
