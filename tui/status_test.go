package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/meshtop/meshtop/mesh"
)

const authMsg = "agent scouter-nrt-0 (http://198.18.0.4:8000): submit tests: the agent refused the secret (HTTP 403): " +
	"set SCOUTER_SECRET (or this agent's secret_env/secret_file) to its SCOUTER_API_SECRET"

func statusLine(m Model) string {
	lines := strings.Split(frame(m), "\n")
	return lines[m.ui.height-2] // the help line is the last
}

// The status bar says first what needs action, then what is static; cut short, it
// keeps the fix of an error and points to the full help, which has every part whole.
func TestStatusSaysFirstWhatNeedsAction(t *testing.T) {
	const behind = "behind: a full sweep takes 2m38s > 1m0s interval (6 of 6 sources continuous, pairs up to 3m0s old)"
	for _, tt := range []struct {
		w, h int
		want []string // in this order
		cut  bool
	}{
		{400, 48, []string{"behind:", "scouter-nrt-0 auth_failed", "set SCOUTER_SECRET", "rec backlog 7, 3 DROPPED", "live", "6 agents", "last sweep 03:04:05"}, false},
		{80, 24, []string{"behind: a full sweep takes 2m38s"}, true},
		{40, 12, []string{"behind: a full sweep"}, true},
	} {
		m := newTestModel(t, tt.w, tt.h, Config{NoColor: true, Window: "6 agents, every 10s, keep 360"})
		m = update(t, m, SweepDoneMsg{Time: t0, Agents: []mesh.AgentStatus{{Agent: mesh.Agent{Name: "scouter-nrt-0"}, State: mesh.StateAuthFailed, Error: authMsg}}})
		m = update(t, m, ScheduleMsg{Behind: behind})
		m = update(t, m, RecordStatusMsg{Backlog: 7, Dropped: 3})
		line := statusLine(m)
		at := -1
		for _, w := range tt.want {
			i := strings.Index(line, w)
			if i <= at {
				t.Fatalf("%dx%d: %q missing or out of order in the status line %q", tt.w, tt.h, w, line)
			}
			at = i
		}
		if got := strings.HasSuffix(line, "? help"); got != tt.cut {
			t.Errorf("%dx%d: points to the help %v, want %v: %q", tt.w, tt.h, got, tt.cut, line)
		}
		if w := ansi.StringWidth(line); w > tt.w {
			t.Errorf("%dx%d: status line %d wide", tt.w, tt.h, w)
		}
		// The full help has every part whole.
		h := frame(press(t, m, "?"))
		for _, whole := range []string{"behind: a full sweep takes", "to its SCOUTER_API_SECRET", "3 DROPPED"} {
			if tt.w >= 80 && !strings.Contains(strings.Join(strings.Fields(h), " "), whole) {
				t.Errorf("%dx%d: full help lacks %q:\n%s", tt.w, tt.h, whole, h)
			}
		}
	}
	// With only the agent failing, a narrow bar keeps who and what to do.
	m := newTestModel(t, 40, 12, Config{NoColor: true})
	m = update(t, m, SweepDoneMsg{Time: t0, Agents: []mesh.AgentStatus{{Agent: mesh.Agent{Name: "scouter-nrt-0"}, State: mesh.StateAuthFailed, Error: authMsg}}})
	if line := statusLine(m); !strings.Contains(line, "set SCOUTER_SECRET") || !strings.HasSuffix(line, "? help") {
		t.Errorf("40 columns: the fix is cut: %q", line)
	}
}

func TestCutKeepFix(t *testing.T) {
	for _, tt := range []struct {
		msg  string
		w    int
		want string // the whole result, or its start when it ends in "…"
	}{
		{"short: set X", 40, "short: set X"},
		{"scouter-nrt-0 auth_failed: " + authMsg, 60, "scouter-nrt-0… set SCOUTER_SECRET to its SCOUTER_API_SECRET"},
		{"scouter-nrt-0 auth_failed: " + authMsg, 32, "scouter-nr… set SCOUTER_SECRET…"},
		{"scouter-nrt-0 auth_failed: " + authMsg, 11, "…set SCOUT…"},
		{"scouter-nrt-0 auth_failed: the agent refused the secret (HTTP 403): set SCOUTER_SECRET", 50,
			"scouter-nrt-0 auth_failed… set SCOUTER_SECRET"},
		{"error: InfluxDB query at http://127.0.0.1:8086: HTTP 401: authorization failed (check INFLUX_USERNAME and INFLUX_PASSWORD)", 60,
			"error… check INFLUX_USERNAME and INFLUX_PASSWORD"},
		{"no fix in this message at all, it just goes on and on", 20, "no fix in this mess…"},
	} {
		got := cutKeepFix(tt.msg, tt.w)
		if got != tt.want {
			t.Errorf("cutKeepFix(%q, %d) = %q, want %q", tt.msg, tt.w, got, tt.want)
		}
		if ansi.StringWidth(got) > tt.w {
			t.Errorf("cutKeepFix(%q, %d) is %d wide", tt.msg, tt.w, ansi.StringWidth(got))
		}
	}
}

func TestWrapAtSpaces(t *testing.T) {
	got := wrapAtSpaces("set SCOUTER_SECRET or --scouter-secret-file FILE to the agents' SCOUTER_API_SECRET", 24)
	want := []string{"set SCOUTER_SECRET or", "--scouter-secret-file", "FILE to the agents'", "SCOUTER_API_SECRET"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := wrapAtSpaces("abcdefghij x", 4); strings.Join(got, "|") != "abcd|efgh|ij x" {
		t.Errorf("a long word: %q", got)
	}
}
