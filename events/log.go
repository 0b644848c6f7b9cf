// Package events keeps what happened to the mesh worth telling a team: a cell's colour
// changed (after hysteresis), a route changed, an agent went down or came back, the
// recorder dropped points. The log is bounded; every event is also written as one
// log/slog line, so journald or Loki keep the full history.
package events

import (
	"log/slog"
	"sync"
	"time"

	"github.com/meshtop/meshtop/internal/textsafe"
)

// Kind names what happened.
type Kind string

// Event kinds.
const (
	KindColour     Kind = "colour"
	KindRoute      Kind = "route"
	KindAgentDown  Kind = "agent_down"
	KindAgentUp    Kind = "agent_up"
	KindRecordDrop Kind = "record_drop"
)

// Event is one entry of the log. Attrs are the structured fields of its log line.
type Event struct {
	Time  time.Time
	Kind  Kind
	Text  string // one line for people, e.g. "ams→fra latency yellow → red (612 ms)"
	Attrs []slog.Attr
}

// DefaultSize bounds a log.
const DefaultSize = 500

// Log is a bounded, concurrency-safe ring of events that also writes each to a logger.
type Log struct {
	mu     sync.Mutex
	buf    []Event
	start  int
	n      int
	total  uint64
	logger *slog.Logger
}

// NewLog keeps the newest size events (DefaultSize when size <= 0) and writes every
// event to logger (nil: none).
func NewLog(size int, logger *slog.Logger) *Log {
	if size <= 0 {
		size = DefaultSize
	}
	return &Log{buf: make([]Event, size), logger: logger}
}

// Add records an event. Text from outside (agent names, PoP codes, errors) is made safe
// here, once, for every reader.
func (l *Log) Add(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Text = textsafe.String(e.Text, 300)
	attrs := make([]slog.Attr, len(e.Attrs))
	for i, a := range e.Attrs {
		if a.Value.Kind() == slog.KindString {
			a.Value = slog.StringValue(textsafe.String(a.Value.String(), 300))
		}
		attrs[i] = a
	}
	e.Attrs = attrs
	l.mu.Lock()
	l.buf[(l.start+l.n)%len(l.buf)] = e
	if l.n < len(l.buf) {
		l.n++
	} else {
		l.start = (l.start + 1) % len(l.buf)
	}
	l.total++
	l.mu.Unlock()
	if l.logger != nil {
		args := make([]any, 0, len(e.Attrs)+1)
		args = append(args, slog.String("event", string(e.Kind)))
		for _, a := range e.Attrs {
			args = append(args, a)
		}
		l.logger.Info(e.Text, args...)
	}
}

// Recent returns up to n of the newest events, oldest first.
func (l *Log) Recent(n int) []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	n = min(n, l.n)
	out := make([]Event, 0, n)
	for i := l.n - n; i < l.n; i++ {
		out = append(out, l.buf[(l.start+i)%len(l.buf)])
	}
	return out
}

// Total counts every event ever added (also those the ring no longer holds).
func (l *Log) Total() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}
