// Package live runs sweeps continuously for `meshtop live`: pings every interval,
// traceroutes every traceroute interval, results into the live store as they arrive,
// finished sweeps to the recorder.
//
// Scheduling. Each source agent has two lanes, one for pings and one for traceroutes,
// each on its own clock: pings every Interval, traces every TraceInterval, in POSTs
// (receipts) of their own, so that a traceroute, which on upstream agents costs a
// second per silent hop up to max_ttl, never holds back a ping result. At a tick every
// lane that is not still sending an earlier pass starts a pass (its tests towards every
// destination), and all results of that sweep carry the tick's time (SPEC 6: one
// timestamp per sweep), which is what a mesh that fits its interval always sees. A
// test still running from an earlier pass (a dead path's trace) is left out of the new
// pass and reported when it ends: a slow test holds back only itself. At a tick where
// both are due, a source's traceroutes go to its agent after its pings, and a source
// runs at most half of its agent's tests at once as traceroutes, so that pings do not
// queue behind them in the agent's worker processes.
//
// A lane whose pass is still sending at its next tick is behind: it works on
// continuously, pass after pass, each batch stamped with when it was sent, until a
// pass fits the interval again and it rejoins the ticks. Stats says whether pings are
// behind and by how much, and, on their own, how late traceroutes are.
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
	// Done: a sweep finished (all sources that started at its tick: a ping sweep, or
	// a traceroute sweep with only Traces), or a behind source finished a pass of its
	// own (Time is then when that pass started). Agents holds every source's latest
	// state (from its pings).
	Done  func(probe.Sweep)
	Error func(error) // re-discovery failed (the loop goes on with the agents it has)
	// Agents: re-discovery changed how many agents the mesh has (the status bar says it).
	Agents func(n int)
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
	wg       sync.WaitGroup // the goroutines of Run

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
	src     *probe.Source
	retired bool // gone from the mesh; dropped when idle
	ping    kindLane
	trace   kindLane
	// pingSent is closed once the ping pass in progress has sent its tests: a trace
	// pass of the same tick waits for it, so its pings reach the agent first.
	pingSent chan struct{}
}

func (ln *lane) of(k probe.Kind) *kindLane {
	if k == probe.KindTraceroute {
		return &ln.trace
	}
	return &ln.ping
}

func (ln *lane) idle() bool { return ln.ping.idle() && ln.trace.idle() }

// kindLane is one kind of test of a source lane.
type kindLane struct {
	sending    bool           // a pass is pending or sending its tests: a tick cannot start another
	catchUp    bool           // a tick came while sending: the next pass starts once this one has sent
	continuous bool           // its passes run back to back (behind), not on ticks
	running    []time.Time    // starts of the passes not finished yet
	latest     *probe.PassRun // the pass started last
	worst      time.Duration  // its last pass that left nothing out, or that overran the interval
	lastStart  time.Time      // start of its last finished pass
	covered    time.Time      // every pair has a result from a pass that started then or later
	skipped    int            // tests its last pass left out: still running from an earlier one
}

func (kl *kindLane) idle() bool { return !kl.sending && len(kl.running) == 0 }

// mostlyRunning: more than half of the latest pass's tests still run.
func (kl *kindLane) mostlyRunning() bool {
	return kl.latest != nil && kl.latest.Running()*2 > kl.latest.Tests()
}

// took is how long a pass of the lane takes now: its worst recent pass, or the one
// running longest when that is longer still.
func (kl *kindLane) took(now time.Time) time.Duration {
	d := kl.worst
	for _, t := range kl.running {
		d = max(d, now.Sub(t))
	}
	return d
}

// round is one tick's sweep of one kind: the lanes that were idle at the tick.
type round struct {
	kind    probe.Kind
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

// Run sweeps until ctx ends. The first sweep starts at once, and traceroutes too.
func (l *Loop) Run(ctx context.Context) {
	l.init()
	ctx, cancel := context.WithCancel(ctx)
	defer l.wg.Wait()
	defer cancel()
	start := time.Now()
	l.mu.Lock()
	if l.agents == nil {
		l.agents = slices.Clone(l.Agents)
	}
	l.started = start
	l.mu.Unlock()
	if l.Discover != nil && l.RediscoverEvery > 0 {
		l.wg.Go(func() { l.rediscover(ctx) })
	}
	pingAt, traceAt := start, start
	first, firstTrace := true, true
	for {
		next := pingAt
		if l.TraceInterval > 0 && traceAt.Before(next) {
			next = traceAt
		}
		timer := time.NewTimer(time.Until(next))
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
		if manual || !t.Before(pingAt) {
			l.startRound(ctx, t, probe.KindPing, !first && !manual)
			first = false
			pingAt = t.Add(l.Interval)
		}
		if l.TraceInterval > 0 && !t.Before(traceAt) {
			l.startRound(ctx, t, probe.KindTraceroute, !firstTrace)
			firstTrace = false
			traceAt = t.Add(l.TraceInterval)
		}
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
			resized := len(as) != len(l.agents)
			l.agents = slices.Clone(as)
			l.mu.Unlock()
			if resized {
				l.hook(func() {
					if l.Hooks.Agents != nil {
						l.Hooks.Agents(len(as))
					}
				})
			}
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
			if ln.idle() {
				delete(l.lanes, name)
				delete(l.statuses, name)
			}
		}
	}
	for name, a := range owned {
		ln := l.lanes[name]
		switch {
		case ln == nil:
			l.lanes[name] = newLane(a)
		case ln.idle():
			ln.retired = false
			if ln.src.Agent.URL != a.URL || ln.src.Agent.Address != a.Address || ln.src.Agent.Pop != a.Pop {
				*ln = *newLane(a) // another agent under the old name: learn it anew
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

func newLane(a mesh.Agent) *lane {
	sent := make(chan struct{})
	close(sent)
	return &lane{src: probe.NewSource(a), pingSent: sent}
}

func (l *Loop) intervalOf(k probe.Kind) time.Duration {
	if k == probe.KindTraceroute {
		return l.TraceInterval
	}
	return l.Interval
}

// startRound starts the sweep of kind at tick t on every lane not still sending.
func (l *Loop) startRound(ctx context.Context, t time.Time, kind probe.Kind, jitter bool) {
	opts := l.Options
	opts.Kinds = kind
	r := &round{kind: kind, sw: probe.Sweep{Time: t.UTC().Round(time.Millisecond)}}
	l.mu.Lock()
	l.syncLanes()
	targets := slices.Clone(l.agents)
	var start []*lane
	for _, ln := range l.lanes {
		kl := ln.of(kind)
		if kl.sending || kl.mostlyRunning() {
			// Behind: its pass is still sending, or most of its tests still run (not
			// a few slow ones: those a new pass would leave out). The next pass
			// follows that one at once.
			kl.sending, kl.catchUp = true, true
			continue
		}
		kl.sending, kl.continuous = true, false
		if kind == probe.KindPing {
			ln.pingSent = make(chan struct{})
			r.total += ln.src.Tests(targets, opts)
		}
		start = append(start, ln)
	}
	r.pending = len(start)
	l.mu.Unlock()
	if len(start) == 0 {
		return
	}
	if kind == probe.KindPing {
		l.hook(func() { l.event(probe.ProgressEvent{Total: r.total}) })
	}
	for _, ln := range start {
		var delay time.Duration
		if jitter {
			delay = l.jitter(ln.src.Agent.Name)
		}
		l.wg.Go(func() { l.runLane(ctx, ln, r, targets, opts, delay) })
	}
}

// runLane runs a lane's pass of round r after delay (and, for traceroutes, after the
// source's pings of the moment have been sent).
func (l *Loop) runLane(ctx context.Context, ln *lane, r *round, targets []mesh.Agent, opts probe.Options, delay time.Duration) {
	var pings <-chan struct{}
	l.mu.Lock()
	if r.kind == probe.KindTraceroute {
		pings = ln.pingSent
	}
	l.mu.Unlock()
	if delay > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
	}
	if pings != nil {
		select {
		case <-ctx.Done():
		case <-pings:
		}
	}
	if ctx.Err() != nil {
		l.mu.Lock()
		kl := ln.of(r.kind)
		kl.sending = false
		if r.kind == probe.KindPing {
			close(ln.pingSent)
		}
		l.dropRetired(ln)
		l.mu.Unlock()
		return // stopping: the round is not recorded
	}
	l.runPass(ctx, ln, r.kind, targets, opts, probe.Stamp{At: r.sw.Time, Within: l.intervalOf(r.kind)}, r)
}

// runPass runs one pass of a lane (of round r, or a continuous one when r is nil) and
// files it. On time, once the pass has sent its tests the lane takes the next tick,
// and the pass's slow tests run on beside the next pass; behind, the next pass starts
// when this one is done.
func (l *Loop) runPass(ctx context.Context, ln *lane, kind probe.Kind, targets []mesh.Agent, opts probe.Options, stamp probe.Stamp, r *round) {
	begin := time.Now()
	l.mu.Lock()
	kl := ln.of(kind)
	kl.running = append(kl.running, begin)
	pingSent := ln.pingSent
	l.mu.Unlock()
	var own probe.Sweep // a continuous pass's results
	var omu sync.Mutex
	run := ln.src.Start(ctx, targets, opts, stamp, func(e probe.Event) {
		if ctx.Err() != nil {
			return // stopping: the tests end with our cancellation, not the agents' doing
		}
		l.hook(func() {
			l.event(e)
			if r == nil {
				omu.Lock()
				defer omu.Unlock()
				addResult(&own, e)
				return
			}
			r.mu.Lock()
			addResult(&r.sw, e)
			r.done++
			p := probe.ProgressEvent{Done: r.done, Total: r.total}
			r.mu.Unlock()
			if r.kind == probe.KindPing {
				l.event(p)
			}
		})
	})
	l.mu.Lock()
	kl.latest = run
	l.mu.Unlock()
	if r != nil && run.Skipped() > 0 {
		r.mu.Lock()
		r.total -= run.Skipped() // still running from an earlier pass: reported there
		r.mu.Unlock()
	}
	<-run.Sent()
	l.mu.Lock()
	if kind == probe.KindPing {
		close(pingSent)
	}
	// On time, the lane takes the next tick now, beside this pass's slow tests (the
	// next pass leaves them out). Behind (a tick came while this pass was still
	// sending, or it is a continuous pass), the next pass follows when this one is
	// done, as a whole: a pass that started beside this one's last tests would leave
	// them out every time, and the same pairs would starve.
	if !kl.catchUp && !kl.continuous {
		kl.sending = false
	}
	l.mu.Unlock()
	st := run.Status()
	took := time.Since(begin)
	l.mu.Lock()
	kl.running = slices.DeleteFunc(kl.running, func(t time.Time) bool { return t.Equal(begin) })
	stopping := ctx.Err() != nil
	// Only the lane's latest pass decides what follows: an older one ending now is a
	// slow test that the passes after it left out.
	var next bool
	if kl.latest == run && (kl.catchUp || kl.continuous) {
		next = !stopping && !ln.retired && (kl.catchUp || took >= l.intervalOf(kind))
		kl.catchUp = false
		kl.sending, kl.continuous = next, next
		if next && kind == probe.KindPing {
			ln.pingSent = make(chan struct{})
		}
	}
	nextTargets := slices.Clone(l.agents)
	if !stopping {
		kl.lastStart, kl.skipped = begin, run.Skipped()
		if run.Skipped() == 0 {
			kl.covered = begin // no earlier pass ran on: every pair has this pass's result
		}
		// A pass that left out a slow test of an earlier one says nothing of it: that
		// test counts while it runs (took) and with its own pass when it ends.
		if run.Skipped() == 0 || took >= l.intervalOf(kind) {
			kl.worst = took
		}
		if kind == probe.KindPing {
			l.statuses[st.Name] = st
			l.passes++
		}
	}
	l.dropRetired(ln)
	l.mu.Unlock()
	if stopping {
		return
	}
	if next {
		o := l.Options
		o.Kinds = kind
		// Results carry their own batch times: the recorder gets no sweep time.
		l.wg.Go(func() { l.runPass(ctx, ln, kind, nextTargets, o, probe.Stamp{}, nil) })
	}
	if kind == probe.KindPing {
		l.hook(func() { l.event(probe.AgentEvent{Status: st}) })
	}
	if r != nil {
		l.finishRound(r, st)
		return
	}
	if l.Recorder != nil && !empty(own) {
		l.Recorder.Record(own)
	}
	own.Time = begin.UTC().Round(time.Millisecond)
	own.Agents = l.agentStatuses()
	l.hook(func() {
		if l.Hooks.Done != nil {
			l.Hooks.Done(own)
		}
	})
}

// dropRetired removes a lane gone from the mesh once it is idle; l.mu is held.
func (l *Loop) dropRetired(ln *lane) {
	if ln.retired && ln.idle() && l.lanes[ln.src.Agent.Name] == ln {
		delete(l.lanes, ln.src.Agent.Name)
		delete(l.statuses, ln.src.Agent.Name)
	}
}

func addResult(sw *probe.Sweep, e probe.Event) {
	switch e := e.(type) {
	case probe.PingEvent:
		sw.Pings = append(sw.Pings, e.Result)
	case probe.TraceEvent:
		sw.Traces = append(sw.Traces, e.Result)
	}
}

// finishRound counts a lane out of its round; the last one out records the sweep.
func (l *Loop) finishRound(r *round, st mesh.AgentStatus) {
	r.mu.Lock()
	if r.kind == probe.KindPing {
		r.sw.Agents = append(r.sw.Agents, st)
	}
	r.pending--
	last := r.pending == 0
	sw := r.sw
	r.mu.Unlock()
	if !last {
		return
	}
	all := l.agentStatuses()
	if r.kind == probe.KindPing {
		l.mu.Lock()
		l.sweeps++
		l.mu.Unlock()
		l.Store.SetAgents(all)
	}
	l.forgetGone()
	if l.Recorder != nil && !empty(sw) {
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

// empty: a sweep whose every test was left out (still running from the one before).
func empty(sw probe.Sweep) bool { return len(sw.Pings) == 0 && len(sw.Traces) == 0 }

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
