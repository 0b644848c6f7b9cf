package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

func TestAgentLog(t *testing.T) {
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	st := func(name, pop string, state mesh.AgentState, why string) mesh.AgentStatus {
		return mesh.AgentStatus{Agent: mesh.Agent{Name: name, Pop: pop}, State: state, Error: why}
	}
	var l agentLog
	// First sight: a healthy agent is no event, a down one is (since then).
	if !l.observe(at(0), []mesh.AgentStatus{st("a0", "ams", mesh.StateOK, ""), st("n0", "nrt", mesh.StateUnreachable, "refused\x1b[2J")}) {
		t.Fatal("first observation reports no change")
	}
	if l.observe(at(1), []mesh.AgentStatus{st("a0", "ams", mesh.StateOK, ""), st("n0", "nrt", mesh.StateUnreachable, "refused")}) {
		t.Error("no change reported as one")
	}
	l.observe(at(2), []mesh.AgentStatus{st("a0", "ams", mesh.StateAuthFailed, "403"), st("n0", "nrt", mesh.StateOK, "")})
	if d := l.downOf("ams"); len(d) != 1 || d[0].name != "a0" || !d[0].since.Equal(at(2)) || d[0].why != "403" {
		t.Errorf("ams down: %+v", d)
	}
	if d := l.downOf("nrt"); len(d) != 0 {
		t.Errorf("nrt is back up: %+v", d)
	}
	ev := l.eventsOf("nrt")
	if len(ev) != 2 || !ev[0].Down || !ev[0].Time.Equal(at(0)) || ev[1].Down || !ev[1].Time.Equal(at(2)) {
		t.Errorf("nrt events: %+v", ev)
	}
	if strings.ContainsRune(ev[0].Why, '\x1b') {
		t.Errorf("agent text reaches the screen raw: %q", ev[0].Why)
	}
	// A flapping agent does not grow the log without end.
	for i := range 3 * maxAgentEvents {
		s := mesh.StateOK
		if i%2 == 0 {
			s = mesh.StateError
		}
		l.observe(at(10+i), []mesh.AgentStatus{st("f0", "fra", s, "")})
	}
	if len(l.events) > maxAgentEvents {
		t.Errorf("%d events kept", len(l.events))
	}
}
