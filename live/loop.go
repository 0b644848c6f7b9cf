// Package live runs sweeps continuously for `meshtop live`: pings every interval,
// traceroutes every traceroute interval, results into the live store as they arrive,
// every finished sweep to the recorder.
package live

import (
	"context"
	"time"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
)

// Recorder takes finished sweeps (influx.Recorder satisfies it).
type Recorder interface{ Record(probe.Sweep) }

// Hooks observe the loop; every field may be nil. They are called from the loop's
// goroutine, never concurrently.
type Hooks struct {
	Event func(probe.Event) // results and progress, as they happen
	Done  func(probe.Sweep) // a sweep finished
	Error func(error)       // re-discovery failed (the loop goes on with the agents it has)
}

// Loop is the sweep scheduler.
type Loop struct {
	Agents        []mesh.Agent
	Options       probe.Options // Kinds is set per sweep
	Interval      time.Duration // between ping sweeps
	TraceInterval time.Duration // between sweeps that also traceroute; 0 = never
	Store         *mesh.Store
	Recorder      Recorder
	Hooks         Hooks
	// Discover, when set, refreshes the agent list every RediscoverEvery (StackPath
	// workloads gain and lose instances).
	Discover        func(context.Context) ([]mesh.Agent, error)
	RediscoverEvery time.Duration

	now chan struct{}
}

// SweepNow asks for a sweep at once (`r` in the UI). It never blocks; a request while one
// is pending is merged.
func (l *Loop) SweepNow() {
	select {
	case l.nowCh() <- struct{}{}:
	default:
	}
}

func (l *Loop) nowCh() chan struct{} {
	if l.now == nil {
		l.now = make(chan struct{}, 1)
	}
	return l.now
}

// Run sweeps until ctx ends. The first sweep starts at once and traceroutes too.
func (l *Loop) Run(ctx context.Context) {
	now := l.nowCh()
	var nextPing, nextTrace, nextDiscover time.Time
	start := time.Now()
	nextPing, nextTrace = start, start
	nextDiscover = start.Add(l.RediscoverEvery)
	for {
		due := nextPing
		if l.TraceInterval > 0 && nextTrace.Before(due) {
			due = nextTrace
		}
		timer := time.NewTimer(time.Until(due))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-now:
			timer.Stop()
		case <-timer.C:
		}
		t := time.Now()
		if l.Discover != nil && l.RediscoverEvery > 0 && !t.Before(nextDiscover) {
			nextDiscover = t.Add(l.RediscoverEvery)
			if as, err := l.Discover(ctx); err != nil {
				if l.Hooks.Error != nil {
					l.Hooks.Error(err)
				}
			} else {
				l.Agents = as
			}
		}
		opts := l.Options
		opts.Kinds = probe.KindPing
		if l.TraceInterval > 0 && !t.Before(nextTrace) {
			opts.Kinds |= probe.KindTraceroute
			nextTrace = t.Add(l.TraceInterval)
		}
		nextPing = t.Add(l.Interval)
		sw := probe.Run(ctx, l.Agents, opts, l.take)
		if ctx.Err() != nil {
			return
		}
		l.Store.SetAgents(sw.Agents)
		if l.Recorder != nil {
			l.Recorder.Record(sw)
		}
		if l.Hooks.Done != nil {
			l.Hooks.Done(sw)
		}
	}
}

// take files each result into the store as it arrives, so the grid fills progressively.
func (l *Loop) take(e probe.Event) {
	switch e := e.(type) {
	case probe.PingEvent:
		l.Store.AddPing(e.Result)
	case probe.TraceEvent:
		l.Store.AddTrace(e.Result)
	case probe.AgentEvent:
		l.Store.SetAgent(e.Status)
	}
	if l.Hooks.Event != nil {
		l.Hooks.Event(e)
	}
}
