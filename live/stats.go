package live

import (
	"fmt"
	"time"
)

// Stats is the loop's schedule at a glance, for the status bar and /metrics.
type Stats struct {
	Interval time.Duration
	Sources  int // source agents this collector runs (its shard of the mesh)
	// Behind counts the sources whose last pass took longer than the interval: they
	// work continuously instead of once per tick.
	Behind int
	// SweepDuration is the longest last pass of a source: how long measuring the whole
	// mesh takes now.
	SweepDuration time.Duration
	// Lag is how much SweepDuration exceeds the interval (0 while on time).
	Lag time.Duration
	// OldestAge bounds the age of every pair's newest measurement: the time since the
	// start of the least recently completed pass of any source.
	OldestAge time.Duration
	Sweeps    uint64 // ticks whose sweep completed
	Passes    uint64 // source passes completed, on ticks or continuous
}

// IsBehind reports whether the mesh cannot be measured within the interval.
func (s Stats) IsBehind() bool { return s.Behind > 0 }

// Stats reports the schedule now.
func (l *Loop) Stats() Stats {
	l.init()
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	st := Stats{Interval: l.Interval, Sources: len(l.lanes), Sweeps: l.sweeps, Passes: l.passes}
	for _, ln := range l.lanes {
		took := ln.lastTook
		if ln.busy && !ln.curStart.IsZero() {
			// A pass running longer than the last one counts as it goes.
			took = max(took, now.Sub(ln.curStart))
		}
		st.SweepDuration = max(st.SweepDuration, took)
		if took >= l.Interval {
			st.Behind++
		}
		since := ln.lastStart
		if since.IsZero() {
			since = l.started
		}
		if !since.IsZero() {
			st.OldestAge = max(st.OldestAge, now.Sub(since))
		}
	}
	st.Lag = max(st.SweepDuration-l.Interval, 0)
	return st
}

// Summary is a one-line status for the status bar: "" while on time, else e.g.
// "behind: a full sweep takes 2m38s > 1m0s interval (300 of 300 sources continuous)".
func (s Stats) Summary() string {
	if !s.IsBehind() {
		return ""
	}
	return fmt.Sprintf("behind: a full sweep takes %s > %s interval (%d of %d sources continuous, pairs up to %s old)",
		s.SweepDuration.Round(time.Second), s.Interval, s.Behind, s.Sources, s.OldestAge.Round(time.Second))
}
