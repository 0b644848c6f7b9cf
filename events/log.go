// Package events writes what happened to the mesh as log lines: a cell's colour changed
// (any health metric, after hysteresis), a pair failed or answered again, a route
// changed, an agent went down or came back, the recorder dropped points. The events
// themselves come from one place, the live store (mesh/judge.go), stamped with their
// tests' times, so the daemon's log, serve's bottom lines and every TUI panel tell the
// same ones; journald or Loki keep the full history the store's bounded list cannot.
package events

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/meshtop/meshtop/internal/textsafe"
	"github.com/meshtop/meshtop/mesh"
)

// DefaultSize bounds the events a store keeps in memory (serve's --event-log).
const DefaultSize = mesh.DefaultEventCapacity

// Kind is an event's name in log lines.
type Kind string

// Event kinds of log lines.
const (
	KindColour     Kind = "colour"
	KindOutage     Kind = "outage"
	KindOutageEnd  Kind = "outage_end"
	KindRoute      Kind = "route"
	KindAgentDown  Kind = "agent_down"
	KindAgentUp    Kind = "agent_up"
	KindRecordDrop Kind = "record_drop"
)

// KindOf names a mesh event for log lines.
func KindOf(e mesh.Event) Kind {
	switch e.Kind {
	case mesh.EventColour:
		return KindColour
	case mesh.EventOutage:
		return KindOutage
	case mesh.EventOutageEnd:
		return KindOutageEnd
	case mesh.EventRoute:
		return KindRoute
	case mesh.EventAgentDown:
		return KindAgentDown
	case mesh.EventAgentUp:
		return KindAgentUp
	}
	return KindRecordDrop
}

// Logger returns a store's event sink (mesh.Store.SetEventSink) that writes each event
// as one log line: its text for people, and structured fields. Text from outside (agent
// names, PoP codes, errors) is made safe here. nil logger: nil sink.
func Logger(l *slog.Logger) func(mesh.Event) {
	if l == nil {
		return nil
	}
	return func(e mesh.Event) {
		args := []any{slog.String("event", string(KindOf(e))), slog.Uint64("seq", e.Seq), slog.Time("at", e.Time)}
		str := func(k, v string) {
			if v != "" {
				args = append(args, slog.String(k, textsafe.String(v, 300)))
			}
		}
		str("src_pop", e.Src)
		str("dst_pop", e.Dst)
		str("agent", e.Agent)
		switch e.Kind {
		case mesh.EventColour:
			str("metric", e.Metric.String())
			str("old", e.From.String())
			str("new", e.To.String())
			str("value", mesh.FormatValue(e.Metric, e.Value, false))
		case mesh.EventOutage, mesh.EventOutageEnd:
			args = append(args, slog.Int("tests", e.Tests))
		case mesh.EventRoute:
			if e.Route != nil {
				str("dst", e.Route.Dst)
				str("old", e.Route.Old.PathKey())
				str("new", e.Route.New.PathKey())
				str("as_path", e.Route.New.ASPath)
			}
		case mesh.EventAgentDown:
			str("error", e.Why)
		}
		l.Info(textsafe.String(e.Text(), 300), args...)
	}
}

// Noter is where events from outside the store go (a *mesh.Store).
type Noter interface{ Note(mesh.Event) }

// Drops turns the recorder's dropped-points count into events: a rise is one.
type Drops struct {
	Store   Noter
	mu      sync.Mutex
	dropped int64
}

// Record notes the recorder's dropped-points count.
func (d *Drops) Record(dropped int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if dropped > d.dropped {
		d.Store.Note(mesh.Event{Kind: mesh.EventNote, Time: time.Now(),
			Why: textsafe.String(dropText(dropped-d.dropped, dropped), 300)})
	}
	d.dropped = dropped
}

func dropText(n, total int64) string {
	return fmt.Sprintf("recorder dropped %d points (%d in all): InfluxDB is not keeping up", n, total)
}
