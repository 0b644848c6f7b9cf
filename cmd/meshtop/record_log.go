package main

import (
	"log/slog"
	"time"

	"github.com/meshtop/meshtop/live"
)

// recordLog is serve's log of the recorder beyond its own state changes (the first
// failed write, recovery, drops, which the recorder logs itself as they happen): while
// writes keep failing, or points wait without a write getting through (a stalled
// server), a reminder with what waits and what was lost, at most once per every.
// Before, serve said nothing while recording failed until 100,000 points were dropped.
type recordLog struct {
	log   *slog.Logger
	every time.Duration
	now   func() time.Time

	troubleSince time.Time // failing or stalled since
	lastLog      time.Time
	lastBacklog  int
	progressAt   time.Time // when the backlog last shrank or emptied
}

// recordStallAfter is how long points may wait with no write getting through before
// the recorder is called stalled.
const recordStallAfter = time.Minute

// status takes the recorder's state (live.Feed's Record updates, every 2 s).
func (r *recordLog) status(st live.RecordStatus) {
	now := r.now()
	if r.progressAt.IsZero() || st.Backlog == 0 || st.Backlog < r.lastBacklog {
		r.progressAt = now
	}
	r.lastBacklog = st.Backlog
	stalled := st.Backlog > 0 && now.Sub(r.progressAt) >= recordStallAfter
	if st.Err == "" && !stalled {
		if !r.troubleSince.IsZero() && st.Backlog == 0 {
			r.troubleSince, r.lastLog = time.Time{}, time.Time{}
		}
		return
	}
	if r.troubleSince.IsZero() {
		r.troubleSince = now
		if st.Err != "" {
			r.lastLog = now // the recorder logged this failure itself, at once
			return
		}
	}
	if !r.lastLog.IsZero() && now.Sub(r.lastLog) < r.every {
		return
	}
	r.lastLog = now
	attrs := []any{"for", now.Sub(r.troubleSince).Round(time.Second).String(), "backlog_points", st.Backlog, "dropped_points", st.Dropped}
	if st.Err != "" {
		r.log.Error("recording to InfluxDB still fails", append(attrs, "error", st.Err)...)
		return
	}
	r.log.Error("recording to InfluxDB stalled: points wait and no write gets through", attrs...)
}
