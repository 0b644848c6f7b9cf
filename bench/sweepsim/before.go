package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"github.com/meshtop/meshtop/live"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
)

// beforeLoop is meshtop's live scheduling as it was before issue 18 (live/loop.go and
// probe/source.go at 2577ec7), for the before/after comparison in one run: one lane
// per source that runs one pass at a time, pings and traceroutes planned together
// (every ping, then every traceroute) and split into POSTs of up to 10 tests, so a POST
// can hold pings and a traceroute and answers when its slowest test ends; a window of
// POSTs in flight (8 at first, +1 while as fast as the fastest, -1 at 1.5x, halved at
// 3x); a tick starts the idle lanes, results carry the tick's time, and a lane whose
// pass took the interval or more goes on at once, stamping each POST with its send
// time. Polling is the same as after (1/20 of the time waited, first poll at 90% of
// the fastest POST of its kind). Results are filed with their time and loss only, and
// traceroutes not at all: this is for the schedule's figures (ages, sweep, requests,
// CPU), not for values; its heap and RSS are not comparable with the live loop's.
type beforeLoop struct {
	agents        []mesh.Agent
	opts          probe.Options
	interval      time.Duration
	traceInterval time.Duration
	store         *mesh.Store

	mu      sync.Mutex
	lanes   []*beforeLane
	passes  uint64
	started time.Time
}

type beforeLane struct {
	a         mesh.Agent
	busy      bool
	window    int
	fastest   map[bool]time.Duration
	lastTook  time.Duration
	curStart  time.Time
	nextTrace time.Time
}

type beforeTest struct {
	trace  bool
	target mesh.Agent
}

func (l *beforeLoop) Run(ctx context.Context) {
	l.mu.Lock()
	l.started = time.Now()
	for _, a := range l.agents {
		l.lanes = append(l.lanes, &beforeLane{a: a, window: 8, fastest: map[bool]time.Duration{}})
	}
	l.mu.Unlock()
	var wg sync.WaitGroup
	defer wg.Wait()
	tick, nextTrace := time.Now(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(tick)):
		}
		t := time.Now()
		traces := l.traceInterval > 0 && !t.Before(nextTrace)
		if traces {
			nextTrace = t.Add(l.traceInterval)
		}
		l.mu.Lock()
		for _, ln := range l.lanes {
			if ln.busy {
				continue
			}
			ln.busy = true
			wg.Go(func() { l.lane(ctx, ln, t, traces) })
		}
		l.mu.Unlock()
		tick = t.Add(l.interval)
	}
}

// lane runs a tick's pass, then passes of its own while they outlast the interval.
func (l *beforeLoop) lane(ctx context.Context, ln *beforeLane, tick time.Time, traces bool) {
	defer func() { l.mu.Lock(); ln.busy = false; l.mu.Unlock() }()
	took := l.pass(ctx, ln, traces, func(sent time.Time) time.Time {
		if sent.Sub(tick) >= l.interval {
			return sent
		}
		return tick
	})
	for took >= l.interval && ctx.Err() == nil {
		l.mu.Lock()
		due := l.traceInterval > 0 && !time.Now().Before(ln.nextTrace)
		l.mu.Unlock()
		took = l.pass(ctx, ln, due, func(sent time.Time) time.Time { return sent })
	}
}

func (l *beforeLoop) pass(ctx context.Context, ln *beforeLane, traces bool, at func(time.Time) time.Time) time.Duration {
	begin := time.Now()
	l.mu.Lock()
	ln.curStart = begin
	l.mu.Unlock()
	var tests []beforeTest
	h := fnv.New32a()
	_, _ = h.Write([]byte(ln.a.Name))
	off := int(h.Sum32() % uint32(len(l.agents)))
	for _, trace := range []bool{false, true} {
		if trace && !traces {
			continue
		}
		for i := range l.agents {
			if t := l.agents[(off+i)%len(l.agents)]; t.Name != ln.a.Name {
				tests = append(tests, beforeTest{trace, t})
			}
		}
	}
	var queue [][]beforeTest
	for len(tests) > 0 {
		n := min(len(tests), l.opts.MaxTests)
		queue, tests = append(queue, tests[:n]), tests[n:]
	}
	type done struct {
		took   time.Duration
		traces bool
	}
	ch := make(chan done)
	inflight := 0
	for len(queue) > 0 || inflight > 0 {
		for len(queue) > 0 && ctx.Err() == nil && inflight < l.window(ln) {
			batch := queue[0]
			queue = queue[1:]
			inflight++
			go func() {
				start := time.Now()
				tr := slices.ContainsFunc(batch, func(t beforeTest) bool { return t.trace })
				l.batch(ctx, ln, batch, at(start), l.quickest(ln, tr))
				ch <- done{time.Since(start), tr}
			}()
		}
		if ctx.Err() != nil {
			queue = nil
		}
		if inflight == 0 {
			break
		}
		d := <-ch
		inflight--
		l.observe(ln, d.traces, d.took, len(queue) > 0)
	}
	took := time.Since(begin)
	l.mu.Lock()
	ln.lastTook = took
	if traces {
		ln.nextTrace = begin.Add(l.traceInterval)
	}
	l.passes++
	l.mu.Unlock()
	return took
}

func (l *beforeLoop) window(ln *beforeLane) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return ln.window
}

func (l *beforeLoop) quickest(ln *beforeLane, traces bool) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return ln.fastest[traces]
}

func (l *beforeLoop) observe(ln *beforeLane, traces bool, took time.Duration, more bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := ln.fastest[traces]
	if !ok || took < f {
		ln.fastest[traces], f = took, took
	}
	switch {
	case took <= f*5/4 && more:
		ln.window = min(ln.window+1, probe.MaxWindow)
	case took > f*3:
		ln.window = max(ln.window/2, 1)
	case took > f*3/2:
		ln.window = max(ln.window-1, 1)
	}
}

// batch submits, polls and reads one POST; its results are filed when it is done.
func (l *beforeLoop) batch(ctx context.Context, ln *beforeLane, tests []beforeTest, at time.Time, quiet time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	c := &probe.Client{Agent: ln.a, Secret: l.opts.Secret, HTTP: l.opts.HTTPClient}
	var req probe.TestRequest
	for i, t := range tests {
		id := fmt.Sprintf("mt-%d", i)
		if t.trace {
			req.Traceroute = append(req.Traceroute, probe.TracerouteOptions{Dst: t.target.Address, ID: id})
		} else {
			count := l.opts.Count
			req.Ping = append(req.Ping, probe.PingOptions{Dst: t.target.Address, Count: &count, ID: id})
		}
	}
	receipt, err := c.Submit(ctx, req)
	if err != nil {
		return
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = c.Delete(dctx, receipt)
	}()
	start := time.Now()
	answers := 0
	for ctx.Err() == nil {
		wait := min(max(time.Since(start)/20, 20*time.Millisecond), time.Second)
		if rest := quiet*9/10 - time.Since(start); answers > 0 && rest > wait {
			wait = rest
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		resp, err := c.Poll(ctx, receipt)
		if err != nil {
			continue
		}
		answers++
		if resp.Running() || resp.Results == nil {
			continue
		}
		byAddr := map[string]mesh.Agent{}
		for _, t := range tests {
			byAddr[t.target.Address] = t.target
		}
		for _, e := range resp.Results.Ping {
			t := byAddr[e.Result.Dst]
			loss, avg := e.Result.Loss.Float(100), 0.0
			if e.Result.RTT != nil && loss < 100 {
				avg = e.Result.RTT.Avg.Float(0)
			}
			l.store.AddPing(mesh.PingResult{Time: at, Src: ln.a.Name, SrcPop: ln.a.Pop, Dst: t.Address, DstName: t.Name,
				DstPop: t.Pop, Sent: l.opts.Count, LossPct: loss, Failed: loss >= 100, AvgRTT: avg})
		}
		return
	}
}

// Stats is the old loop's account of its schedule (pings and traces together).
func (l *beforeLoop) Stats() live.Stats {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	st := live.Stats{Interval: l.interval, Sources: len(l.lanes), Passes: l.passes}
	for _, ln := range l.lanes {
		took := ln.lastTook
		if ln.busy && !ln.curStart.IsZero() {
			took = max(took, now.Sub(ln.curStart))
		}
		st.SweepDuration = max(st.SweepDuration, took)
		if took >= l.interval {
			st.Behind++
		}
	}
	return st
}
