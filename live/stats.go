package live

import (
	"fmt"
	"time"
)

// Stats is the loop's schedule at a glance, for the status bar and /metrics. Behind,
// SweepDuration, Lag and OldestAge are about pings; traceroutes, on their own clock,
// have their own fields.
type Stats struct {
	Interval time.Duration
	Sources  int // source agents this collector runs (its shard of the mesh)
	// Behind counts the sources whose pings cannot be measured every interval: a recent
	// ping pass took longer than the interval (or left out a ping still running from
	// the pass before). Those whose passes overrun the next tick work continuously.
	Behind int
	// SweepDuration is the longest recent ping pass of a source: how long measuring
	// the whole mesh takes now.
	SweepDuration time.Duration
	// Lag is how much SweepDuration exceeds the interval (0 while on time).
	Lag time.Duration
	// OldestAge bounds the age of every pair's newest ping: the time since the start
	// of the oldest pass whose results every pair of a source has.
	OldestAge time.Duration
	Sweeps    uint64 // ping ticks whose sweep completed
	Passes    uint64 // source ping passes completed, on ticks or continuous

	TraceInterval time.Duration
	// TraceDuration is the longest recent traceroute pass of a source, its slowest
	// trace included (a trace towards a dead destination walks every TTL).
	TraceDuration time.Duration
	// TracesLate counts the traceroutes the last passes left out because the same
	// trace was still running: they run on past their tick, the others keep to it.
	TracesLate int
	// TraceBehind counts the sources that cannot even send their traceroutes within
	// the traceroute interval: they trace continuously, at the pace their agent allows.
	TraceBehind int
}

// IsBehind reports whether the mesh's pings cannot be measured within the interval.
func (s Stats) IsBehind() bool { return s.Behind > 0 }

// Stats reports the schedule now.
func (l *Loop) Stats() Stats {
	l.init()
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	st := Stats{Interval: l.Interval, TraceInterval: l.TraceInterval, Sources: len(l.lanes), Sweeps: l.sweeps, Passes: l.passes}
	for _, ln := range l.lanes {
		took := ln.ping.took(now)
		st.SweepDuration = max(st.SweepDuration, took)
		if took >= l.Interval {
			st.Behind++
		}
		since := ln.ping.covered
		if since.IsZero() {
			since = l.started
		}
		if !since.IsZero() {
			st.OldestAge = max(st.OldestAge, now.Sub(since))
		}
		if l.TraceInterval > 0 {
			st.TraceDuration = max(st.TraceDuration, ln.trace.took(now))
			st.TracesLate += ln.trace.skipped
			if ln.trace.continuous || ln.trace.catchUp {
				st.TraceBehind++
			}
		}
	}
	st.Lag = max(st.SweepDuration-l.Interval, 0)
	return st
}

// Summary is a one-line status of the pings for the status bar: "" while on time, else
// e.g. "behind: a full sweep takes 2m38s > 1m0s interval (300 of 300 sources
// continuous, pairs up to 2m50s old)".
func (s Stats) Summary() string {
	if !s.IsBehind() {
		return ""
	}
	return fmt.Sprintf("behind: a full sweep takes %s > %s interval (%d of %d sources continuous, pairs up to %s old)",
		roundDur(s.SweepDuration), s.Interval, s.Behind, s.Sources, roundDur(s.OldestAge))
}

// TraceSummary is a one-line status of the traceroutes: "" while they keep to their
// interval, else how the schedule copes with slow ones (upstream agents spend a
// second on every silent hop): the slow traces run on past their tick and the others
// keep to it, or, when a source's traces cannot all be sent within the interval, they
// run back to back and are that much further apart.
func (s Stats) TraceSummary() string {
	switch {
	case s.TraceInterval <= 0 || s.TraceDuration < s.TraceInterval:
		return ""
	case s.TraceBehind > 0:
		return fmt.Sprintf("traces: a trace sweep takes %s > %s traceroute interval (%d of %d sources trace continuously)",
			roundDur(s.TraceDuration), s.TraceInterval, s.TraceBehind, s.Sources)
	case s.TracesLate > 0:
		return fmt.Sprintf("traces: %d slow (up to %s) run on past the %s traceroute interval, the others keep to it",
			s.TracesLate, roundDur(s.TraceDuration), s.TraceInterval)
	default:
		return fmt.Sprintf("traces: slow ones take up to %s > %s traceroute interval, the others keep to it",
			roundDur(s.TraceDuration), s.TraceInterval)
	}
}

// roundDur rounds to the second, or to 100 ms below 10 s (short intervals: tests, a
// lab at a few seconds).
func roundDur(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
