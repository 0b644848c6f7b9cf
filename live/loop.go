// Package live runs sweeps continuously for `meshtop live`: pings every interval,
// traceroutes every traceroute interval, results into the live store as they arrive,
// finished sweeps to the recorder.
//
// Scheduling. Each source agent has a lane that runs one pass (its tests towards every
// destination) at a time, so a pair is never measured twice at once. Every interval a
// tick starts a sweep: every idle lane starts its pass, and all results of that sweep
// carry the tick's time (SPEC 6: one timestamp per sweep), which is what a mesh that
// fits its interval always sees. A lane whose pass took longer than the interval is
// behind: it is not waited for, and it works on continuously, pass after pass, each
// batch stamped with when it was sent, until a pass fits the interval again and it
// rejoins the ticks. Stats says whether the mesh is behind and by how much.
package live

import (
	"cmp"
	"context"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
)

// Recorder takes finished sweeps (influx.Recorder satisfies it).
type Recorder interface{ Record(probe.Sweep) }

// Hooks observe the loop; every field may be nil. They are called one at a time (never
// concurrently), from the loop's goroutines.
type Hooks struct {
	Event func(probe.Event) // results and progress, as they happen
	// Done: a sweep finished (all sources that started at its tick), or a behind
	// source finished a pass of its own (Time is then when that pass started). Agents
	// holds every source's latest state.
	Done  func(probe.Sweep)
	Error func(error) // re-discovery failed (the loop goes on with the agents it has)
}

// Defaults of Loop.
const (
	DefaultDiscoverTimeout = 3 * time.Minute
	maxJitter              = 3 * time.Second
)

// Loop is the sweep scheduler.
type Loop struct {
	Agents        []mesh.Agent  // the mesh at start; re-discovery replaces it (see CurrentAgents)
	Options       probe.Options // Kinds is set per sweep; Shard picks this collector's sources
	Interval      time.Duration // between ping sweeps
	TraceInterval time.Duration // between sweeps that also traceroute; 0 = never
	Store         *mesh.Store
	Recorder      Recorder
	Hooks         Hooks
	// Discover, when set, refreshes the agent list every RediscoverEvery (StackPath
	// workloads gain and lose instances). It runs beside the sweeps, bounded by
	// DiscoverTimeout (default 3 min); on failure the last good list stays.
	Discover        func(context.Context) ([]mesh.Agent, error)
	RediscoverEvery time.Duration
	DiscoverTimeout time.Duration
	// Jitter is the most a source's scheduled pass starts after its tick, spread by a
	// hash of the agent's name so agents are not all hit at once; results still carry
	// the tick's time. Default Interval/20, at most 3 s; negative: none. The first sweep
	// and sweep-now are not delayed.
	Jitter time.Duration

	initOnce sync.Once
	now      chan struct{}

	hookMu sync.Mutex // serialises hook calls

	mu       sync.Mutex // guards what follows
	agents   []mesh.Agent
	lanes    map[string]*lane
	statuses map[string]mesh.AgentStatus
	started  time.Time
	sweeps   uint64
	passes   uint64
}

// lane is one source agent's scheduling state; guarded by Loop.mu except src.
type lane struct {
	src       *probe.Source
	busy      bool
	retired   bool          // gone from the mesh; dropped when idle
	lastTook  time.Duration // duration of its last pass
	lastStart time.Time     // start of its last completed pass
	curStart  time.Time     // start of the pass running now
	nextTrace time.Time     // when its continuous passes traceroute again
}

// round is one tick's sweep: the lanes that were idle at the tick.
type round struct {
	mu      sync.Mutex
	sw      probe.Sweep
	pending int
	done    int
	total   int
}

// init makes what SweepNow and Run share, once, whichever comes first (SweepNow runs
// on the UI's goroutine, Run on its own).
func (l *Loop) init() {
	l.initOnce.Do(func() {
		l.now = make(chan struct{}, 1)
		l.lanes = map[string]*lane{}
		l.statuses = map[string]mesh.AgentStatus{}
	})
}

// SweepNow asks for a sweep at once (`r` in the UI). It never blocks; a request while one
// is pending is merged. Sources still busy with a pass are not started twice.
func (l *Loop) SweepNow() {
	l.init()
	select {
	case l.now <- struct{}{}:
	default:
	}
}

// CurrentAgents is the mesh as last discovered.
func (l *Loop) CurrentAgents() []mesh.Agent {
	l.init()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.agents == nil {
		return slices.Clone(l.Agents)
	}
	return slices.Clone(l.agents)
}

// Run sweeps until ctx ends. The first sweep starts at once and traceroutes too.
func (l *Loop) Run(ctx context.Context) {
	l.init()
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	start := time.Now()
	l.mu.Lock()
	if l.agents == nil {
		l.agents = slices.Clone(l.Agents)
	}
	l.started = start
	l.mu.Unlock()
	if l.Discover != nil && l.RediscoverEvery > 0 {
		wg.Go(func() { l.rediscover(ctx) })
	}
	tick, nextTrace := start, start
	first := true
	for {
		timer := time.NewTimer(time.Until(tick))
		manual := false
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-l.now:
			timer.Stop()
			manual = true
		case <-timer.C:
		}
		t := time.Now()
		kinds := probe.KindPing
		if l.TraceInterval > 0 && !t.Before(nextTrace) {
			kinds |= probe.KindTraceroute
			nextTrace = t.Add(l.TraceInterval)
		}
		l.startRound(ctx, &wg, t, kinds, !first && !manual)
		first = false
		tick = t.Add(l.Interval)
	}
}

// rediscover refreshes the agent list beside the sweeps.
func (l *Loop) rediscover(ctx context.Context) {
	timeout := l.DiscoverTimeout
	if timeout <= 0 {
		timeout = min(DefaultDiscoverTimeout, l.RediscoverEvery)
	}
	t := time.NewTicker(l.RediscoverEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		dctx, cancel := context.WithTimeout(ctx, timeout)
		as, err := l.Discover(dctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			l.hook(func() {
				if l.Hooks.Error != nil {
					l.Hooks.Error(err)
				}
			})
		case len(as) > 0:
			// An empty answer is more likely a broken listing than a mesh that is gone:
			// keep probing the last good one.
			l.mu.Lock()
			joined := l.joins(as)
			l.agents = slices.Clone(as)
			l.mu.Unlock()
			l.forgetGone()
			if joined {
				l.SweepNow() // a new agent is measured now, not at the next tick
			}
		}
	}
}

func (l *Loop) hook(f func()) {
	l.hookMu.Lock()
	defer l.hookMu.Unlock()
	f()
}

// syncLanes makes one lane per source this collector runs; l.mu is held.
func (l *Loop) syncLanes() {
	owned := map[string]mesh.Agent{}
	for _, a := range l.Options.Shard.Sources(l.agents) {
		owned[a.Name] = a
	}
	for name, ln := range l.lanes {
		if _, ok := owned[name]; !ok {
			ln.retired = true
			if !ln.busy {
				delete(l.lanes, name)
				delete(l.statuses, name)
			}
		}
	}
	for name, a := range owned {
		ln := l.lanes[name]
		switch {
		case ln == nil:
			l.lanes[name] = &lane{src: probe.NewSource(a)}
		case !ln.busy:
			ln.retired = false
			if ln.src.Agent.URL != a.URL || ln.src.Agent.Address != a.Address || ln.src.Agent.Pop != a.Pop {
				ln.src = probe.NewSource(a) // another agent under the old name: learn it anew
			} else {
				ln.src.Agent = a
			}
		default:
			ln.retired = false // busy with the old definition; picked up when idle
		}
	}
}

func (l *Loop) jitter(name string) time.Duration {
	spread := l.Jitter
	if spread == 0 {
		spread = min(l.Interval/20, maxJitter)
	}
	if spread <= 0 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	return time.Duration(h.Sum64() % uint64(spread))
}

// startRound starts the sweep of tick t on every idle lane.
func (l *Loop) startRound(ctx context.Context, wg *sync.WaitGroup, t time.Time, kinds probe.Kind, jitter bool) {
	opts := l.Options
	opts.Kinds = kinds
	r := &round{sw: probe.Sweep{Time: t.UTC().Round(time.Millisecond)}}
	l.mu.Lock()
	l.syncLanes()
	targets := slices.Clone(l.agents)
	var start []*lane
	for _, ln := range l.lanes {
		if ln.busy {
			continue // behind: still on its last pass
		}
		ln.busy = true
		start = append(start, ln)
		r.total += ln.src.Tests(targets, opts)
	}
	r.pending = len(start)
	l.mu.Unlock()
	if len(start) == 0 {
		return
	}
	l.hook(func() { l.event(probe.ProgressEvent{Total: r.total}) })
	for _, ln := range start {
		var delay time.Duration
		if jitter {
			delay = l.jitter(ln.src.Agent.Name)
		}
		wg.Go(func() { l.runLane(ctx, ln, r, targets, opts, delay) })
	}
}

// runLane runs a lane's pass of round r, then, while its passes outlast the interval,
// further passes of its own until one fits.
func (l *Loop) runLane(ctx context.Context, ln *lane, r *round, targets []mesh.Agent, opts probe.Options, delay time.Duration) {
	defer func() {
		l.mu.Lock()
		ln.busy = false
		if ln.retired && l.lanes[ln.src.Agent.Name] == ln {
			delete(l.lanes, ln.src.Agent.Name)
			delete(l.statuses, ln.src.Agent.Name)
		}
		l.mu.Unlock()
	}()
	if delay > 0 {
		select {
		case <-ctx.Done():
			return // stopping: the round is not recorded
		case <-time.After(delay):
		}
	}
	begin := l.beginPass(ln)
	var res probe.Sweep
	st := ln.src.Pass(ctx, targets, opts, probe.Stamp{At: r.sw.Time, Within: l.Interval}, func(e probe.Event) {
		l.hook(func() {
			l.event(e)
			r.mu.Lock()
			switch e := e.(type) {
			case probe.PingEvent:
				r.sw.Pings = append(r.sw.Pings, e.Result)
			case probe.TraceEvent:
				r.sw.Traces = append(r.sw.Traces, e.Result)
			}
			r.done++
			p := probe.ProgressEvent{Done: r.done, Total: r.total}
			r.mu.Unlock()
			l.event(p)
		})
	})
	if ctx.Err() != nil {
		return
	}
	took := l.passDone(ln, st, begin, opts.Kinds)
	l.finishRound(r, st)
	for took >= l.Interval && ctx.Err() == nil {
		l.mu.Lock()
		if ln.retired {
			l.mu.Unlock()
			return
		}
		targets = slices.Clone(l.agents)
		l.mu.Unlock()
		o := l.Options
		o.Kinds = probe.KindPing
		begin = l.beginPass(ln)
		if l.TraceInterval > 0 && !begin.Before(ln.nextTrace) {
			o.Kinds |= probe.KindTraceroute
		}
		res = probe.Sweep{}
		var rmu sync.Mutex
		st = ln.src.Pass(ctx, targets, o, probe.Stamp{}, func(e probe.Event) {
			l.hook(func() { l.event(e) })
			rmu.Lock()
			defer rmu.Unlock()
			switch e := e.(type) {
			case probe.PingEvent:
				res.Pings = append(res.Pings, e.Result)
			case probe.TraceEvent:
				res.Traces = append(res.Traces, e.Result)
			}
		})
		if ctx.Err() != nil {
			return
		}
		took = l.passDone(ln, st, begin, o.Kinds)
		// Results carry their own batch times: the recorder gets no sweep time.
		if l.Recorder != nil {
			l.Recorder.Record(res)
		}
		done := res
		done.Time = begin.UTC().Round(time.Millisecond)
		done.Agents = l.agentStatuses()
		l.hook(func() {
			if l.Hooks.Done != nil {
				l.Hooks.Done(done)
			}
		})
	}
}

func (l *Loop) beginPass(ln *lane) time.Time {
	t := time.Now()
	l.mu.Lock()
	ln.curStart = t
	l.mu.Unlock()
	return t
}

// passDone files a finished pass of a lane and returns how long it took.
func (l *Loop) passDone(ln *lane, st mesh.AgentStatus, begin time.Time, kinds probe.Kind) time.Duration {
	took := time.Since(begin)
	l.mu.Lock()
	ln.lastTook, ln.lastStart = took, begin
	if kinds&probe.KindTraceroute != 0 {
		ln.nextTrace = begin.Add(l.TraceInterval)
	}
	l.statuses[st.Name] = st
	l.passes++
	l.mu.Unlock()
	l.hook(func() { l.event(probe.AgentEvent{Status: st}) })
	return took
}

// finishRound counts a lane out of its round; the last one out records the sweep.
func (l *Loop) finishRound(r *round, st mesh.AgentStatus) {
	r.mu.Lock()
	r.sw.Agents = append(r.sw.Agents, st)
	r.pending--
	last := r.pending == 0
	sw := r.sw
	r.mu.Unlock()
	if !last {
		return
	}
	l.mu.Lock()
	l.sweeps++
	l.mu.Unlock()
	all := l.agentStatuses()
	l.Store.SetAgents(all)
	l.forgetGone()
	if l.Recorder != nil {
		// Each result carries its time: the tick's, or its batch's when its source ran
		// past the interval (see probe.Stamp). No sweep time overrides them.
		rec := sw
		if !sharesTime(rec) {
			rec.Time = time.Time{}
		}
		l.Recorder.Record(rec)
	}
	sw.Agents = all
	l.hook(func() {
		if l.Hooks.Done != nil {
			l.Hooks.Done(sw)
		}
	})
}

// sharesTime reports whether every result of sw carries the sweep's time.
func sharesTime(sw probe.Sweep) bool {
	return !slices.ContainsFunc(sw.Pings, func(r mesh.PingResult) bool { return !r.Time.Equal(sw.Time) }) &&
		!slices.ContainsFunc(sw.Traces, func(r mesh.TraceResult) bool { return !r.Time.Equal(sw.Time) })
}

// agentStatuses is every current source's latest state, sorted.
func (l *Loop) agentStatuses() []mesh.AgentStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]mesh.AgentStatus, 0, len(l.statuses))
	for _, st := range l.statuses {
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b mesh.AgentStatus) int {
		return cmp.Or(cmp.Compare(a.Pop, b.Pop), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// event files each result into the store as it arrives, so the grid fills
// progressively; l.hookMu is held.
func (l *Loop) event(e probe.Event) {
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
