package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/live"
)

// TestRecordLogReminders: while recording fails, a reminder at most once per period
// (the first failure is the recorder's own line); a backlog that does not move for a
// minute without an error is called stalled; recovery resets.
func TestRecordLogReminders(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := &recordLog{log: slog.New(slog.NewTextHandler(&buf, nil)), every: time.Minute, now: func() time.Time { return now }}
	step := func(st live.RecordStatus, d time.Duration) {
		now = now.Add(d)
		r.status(st)
	}
	count := func(s string) int { return strings.Count(buf.String(), s) }
	step(live.RecordStatus{}, 0)
	// Failing for 3 minutes, a status every 2 s: reminders at 1, 2, 3 minutes.
	for i := range 90 {
		step(live.RecordStatus{Backlog: 100 + i, Err: "InfluxDB write: HTTP 401"}, 2*time.Second)
	}
	if n := count("still fails"); n != 2 {
		t.Errorf("%d reminders over 3 minutes of failure (at 1, 2 min), want 2:\n%s", n, buf.String())
	}
	// Recovered: the backlog empties.
	step(live.RecordStatus{}, 2*time.Second)
	buf.Reset()
	// A stalled server: no error yet, the backlog never shrinks.
	for range 40 {
		step(live.RecordStatus{Backlog: 50}, 2*time.Second)
	}
	if n := count("stalled"); n != 1 || !strings.Contains(buf.String(), "backlog_points=50") {
		t.Errorf("stall logged %d times in 80 s, want once:\n%s", n, buf.String())
	}
	// A backlog that keeps being written is not a stall.
	buf.Reset()
	step(live.RecordStatus{}, 2*time.Second)
	for i := range 60 {
		step(live.RecordStatus{Backlog: 10 * (i % 3)}, 2*time.Second)
	}
	if buf.Len() != 0 {
		t.Errorf("a working recorder was logged:\n%s", buf.String())
	}
}
