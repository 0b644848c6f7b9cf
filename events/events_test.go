package events

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// TestLoggerWritesTheStoresEvents: every event the store tells becomes one log line with
// its test's time and structured fields, free of control characters.
func TestLoggerWritesTheStoresEvents(t *testing.T) {
	var buf bytes.Buffer
	s := mesh.NewStore(10)
	s.SetEventSink(Logger(slog.New(slog.NewJSONHandler(&buf, nil))))
	t0 := time.Unix(1_700_000_000, 0).UTC()
	s.SetAgents([]mesh.AgentStatus{{Agent: mesh.Agent{Name: "evil\x1b]0;pwned\a", Pop: "a"}, State: mesh.StateUnreachable, Error: "refused"}})
	r := mesh.PingResult{Time: t0, Src: "b-0", SrcPop: "b", DstPop: "c", Dst: "198.18.0.3"}
	r.DerivePing(5, []float64{mesh.Lost, mesh.Lost, mesh.Lost, mesh.Lost, mesh.Lost}, -1)
	s.AddPing(r)
	d := &Drops{Store: s}
	d.Record(0)
	d.Record(5)
	d.Record(5)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d log lines:\n%s", len(lines), buf.String())
	}
	if strings.ContainsAny(buf.String(), "\x1b\a") {
		t.Errorf("log lines carry control characters: %q", buf.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &rec); err != nil || rec["event"] != "outage" || rec["src_pop"] != "b" ||
		rec["at"] != t0.Format(time.RFC3339) || rec["msg"] != "b→c FAIL: nothing came back" || rec["seq"] != 2.0 {
		t.Errorf("outage line %s (%v)", lines[1], err)
	}
	if err := json.Unmarshal([]byte(lines[2]), &rec); err != nil || rec["event"] != "record_drop" ||
		!strings.Contains(rec["msg"].(string), "dropped 5 points (5 in all)") {
		t.Errorf("drop line %s (%v)", lines[2], err)
	}
	if evs := s.Events(); len(evs) != 3 || evs[2].Kind != mesh.EventNote {
		t.Errorf("the drop is in the store's list too: %+v", evs)
	}
}
