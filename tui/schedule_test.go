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
