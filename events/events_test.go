package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
)

func TestLogIsBoundedAndLogs(t *testing.T) {
	var buf bytes.Buffer
	l := NewLog(3, slog.New(slog.NewJSONHandler(&buf, nil)))
	for i := range 5 {
		l.Add(Event{Kind: KindRoute, Text: fmt.Sprintf("e%d\x1b[31m", i), Attrs: []slog.Attr{slog.Int("i", i)}})
	}
	got := l.Recent(10)
	if len(got) != 3 || !strings.HasPrefix(got[0].Text, "e2") || l.Total() != 5 {
		t.Fatalf("recent %+v total %d", got, l.Total())
	}
	if strings.ContainsRune(got[2].Text, 0x1b) {
		t.Errorf("control character kept: %q", got[2].Text)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d log lines", len(lines))
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[4]), &rec); err != nil || rec["event"] != "route" || rec["i"] != 4.0 {
		t.Errorf("log line %s (%v)", lines[4], err)
	}
}

func sweepOf(t0 time.Time, rtt float64, agents []mesh.AgentStatus, path string) (probe.Sweep, *mesh.Store) {
	s := mesh.NewStore(10)
	s.SetAgents(agents)
	r := mesh.PingResult{Time: t0, Src: "a-0", SrcPop: "a", DstPop: "b", Sent: 1, AvgRTT: rtt}
	s.AddPing(r)
	tr := mesh.TraceResult{Time: t0, Src: "a-0", SrcPop: "a", Dst: "198.18.0.2", DstPop: "b", ASPath: path}
	return probe.Sweep{Time: t0, Pings: []mesh.PingResult{r}, Traces: []mesh.TraceResult{tr}, Agents: agents}, s
}

func TestWatcher(t *testing.T) {
	l := NewLog(100, nil)
	w := &Watcher{Log: l, Confirm: 2}
	ok := []mesh.AgentStatus{{Agent: mesh.Agent{Name: "a-0", Pop: "a"}, State: mesh.StateOK}}
	down := []mesh.AgentStatus{{Agent: mesh.Agent{Name: "a-0", Pop: "a"}, State: mesh.StateUnreachable, Error: "refused"}}
	t0 := time.Unix(1000, 0)
	steps := []struct {
		rtt    float64
		agents []mesh.AgentStatus
		path   string
		want   []Kind
	}{
		{100, ok, "1 2", nil},                 // first sight: no event
		{1200, ok, "1 2", nil},                // red once: not confirmed
		{100, ok, "1 3", []Kind{KindRoute}},   // back to green before confirmation; route changed
		{1200, ok, "1 3", nil},                // red 1
		{1300, ok, "1 3", []Kind{KindColour}}, // red 2: confirmed
		{1300, down, "1 3", []Kind{KindAgentDown}},
		{1300, ok, "1 3", []Kind{KindAgentUp}},
	}
	for i, s := range steps {
		before := l.Total()
		sw, st := sweepOf(t0.Add(time.Duration(i)*time.Minute), s.rtt, s.agents, s.path)
		w.Sweep(sw, st.Matrix())
		var kinds []Kind
		for _, e := range l.Recent(int(l.Total() - before)) {
			kinds = append(kinds, e.Kind)
		}
		if fmt.Sprint(kinds) != fmt.Sprint(s.want) {
			t.Errorf("step %d: events %v, want %v", i, kinds, s.want)
		}
	}
	all := l.Recent(100)
	var colour Event
	for _, e := range all {
		if e.Kind == KindColour {
			colour = e
		}
	}
	if !strings.Contains(colour.Text, "a→b latency green → red (1300 ms)") {
		t.Errorf("colour event %q", colour.Text)
	}
	w.Record(0)
	w.Record(5)
	w.Record(5)
	if e := l.Recent(1)[0]; e.Kind != KindRecordDrop || !strings.Contains(e.Text, "dropped 5 points") {
		t.Errorf("record drop: %+v", e)
	}
}

func TestLogCleansAttrs(t *testing.T) {
	var buf bytes.Buffer
	l := NewLog(3, slog.New(slog.NewTextHandler(&buf, nil)))
	l.Add(Event{Kind: KindAgentDown, Text: "x", Attrs: []slog.Attr{slog.String("agent", "evil\x1b]0;pwned\a"), slog.Int("n", 1)}})
	if e := l.Recent(1)[0]; strings.ContainsAny(e.Attrs[0].Value.String(), "\x1b\a") || e.Attrs[1].Value.Int64() != 1 {
		t.Errorf("attrs %v", e.Attrs)
	}
	if strings.ContainsAny(buf.String(), "\x1b\a") {
		t.Errorf("log line carries control characters: %q", buf.String())
	}
}
