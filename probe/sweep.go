package probe

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// Kind selects the test types of a sweep.
type Kind int

// Test kinds; combine with |.
const (
	KindPing Kind = 1 << iota
	KindTraceroute
)

// Options configure a sweep.
type Options struct {
	Secret     string        // shared secret (SCOUTER_SECRET); mesh.Agent.Secret overrides it
	Kinds      Kind          // zero means KindPing
	Count      int           // pings per test, default 5
	MaxTests   int           // first batch size per POST, default 10; re-split on "Max: N"
	TraceProto string        // "ICMP" (default) or "TCP"
	Targets    []mesh.Agent  // destinations; nil means every agent (the full mesh)
	Timeout    time.Duration // per source agent, whole sweep; 0 derives it from Count and Kinds
	HTTPClient *http.Client  // nil: DefaultHTTPClient()
}

// Defaults of Options.
const (
	DefaultCount    = 5
	DefaultMaxTests = 10
)

func (o Options) withDefaults() Options {
	if o.Kinds == 0 {
		o.Kinds = KindPing
	}
	if o.Count <= 0 {
		o.Count = DefaultCount
	}
	if o.MaxTests <= 0 {
		o.MaxTests = DefaultMaxTests
	}
	if o.TraceProto == "" {
		o.TraceProto = "ICMP"
	}
	o.TraceProto = strings.ToUpper(o.TraceProto)
	if o.Timeout <= 0 {
		// A lost probe costs about 2 s upstream; a traceroute up to ~1 s per silent hop
		// of 32. The margin covers queueing behind the agent's process pool.
		o.Timeout = time.Duration(o.Count)*2*time.Second + 30*time.Second
		if o.Kinds&KindTraceroute != 0 {
			o.Timeout = max(o.Timeout, 32*time.Second+60*time.Second)
		}
	}
	if o.HTTPClient == nil {
		o.HTTPClient = DefaultHTTPClient()
	}
	return o
}

// Event is something that happened during a sweep.
type Event interface{ isEvent() }

// PingEvent carries one agent-pair ping result (Err set when it could not be measured).
type PingEvent struct{ Result mesh.PingResult }

// TraceEvent carries one traceroute result.
type TraceEvent struct{ Result mesh.TraceResult }

// AgentEvent reports an agent's state at the end of its part of the sweep.
type AgentEvent struct{ Status mesh.AgentStatus }

// ProgressEvent counts finished tests.
type ProgressEvent struct{ Done, Total int }

func (PingEvent) isEvent()     {}
func (TraceEvent) isEvent()    {}
func (AgentEvent) isEvent()    {}
func (ProgressEvent) isEvent() {}

// Sweep is the outcome of one sweep.
type Sweep struct {
	Time   time.Time // sweep start; every result carries it
	Pings  []mesh.PingResult
	Traces []mesh.TraceResult
	Agents []mesh.AgentStatus
}

// collector serialises events from the per-agent goroutines.
type collector struct {
	mu          sync.Mutex
	emit        func(Event)
	sw          *Sweep
	done, total int
}

func (c *collector) ping(r mesh.PingResult) {
	c.result(func() { c.sw.Pings = append(c.sw.Pings, r) }, PingEvent{r})
}

func (c *collector) trace(r mesh.TraceResult) {
	c.result(func() { c.sw.Traces = append(c.sw.Traces, r) }, TraceEvent{r})
}

// result files one test's outcome with keep and reports it, then the progress.
func (c *collector) result(keep func(), e Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	keep()
	c.done++
	if c.emit != nil {
		c.emit(e)
		c.emit(ProgressEvent{c.done, c.total})
	}
}

func (c *collector) agent(s mesh.AgentStatus) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sw.Agents = append(c.sw.Agents, s)
	if c.emit != nil {
		c.emit(AgentEvent{s})
	}
}

// Run does one sweep: every agent pings (and with KindTraceroute traceroutes) every
// target's address, all agents at once and every batch of an agent at once, so the sweep
// takes about as long as its slowest test. One slow or dead agent holds back nobody:
// its tests end with an error when its own deadline passes.
func Run(ctx context.Context, agents []mesh.Agent, opts Options, emit func(Event)) Sweep {
	opts = opts.withDefaults()
	sw := Sweep{Time: time.Now().UTC().Round(time.Millisecond)}
	targets := opts.Targets
	if targets == nil {
		targets = agents
	}
	plans := make([][]test, len(agents))
	total := 0
	for i, a := range agents {
		plans[i] = planTests(a, targets, opts)
		total += len(plans[i])
	}
	col := &collector{emit: emit, sw: &sw, total: total}
	if emit != nil {
		emit(ProgressEvent{0, total})
	}
	var wg sync.WaitGroup
	for i, a := range agents {
		wg.Go(func() {
			c := &Client{Agent: a, Secret: opts.Secret, HTTP: opts.HTTPClient}
			runAgent(ctx, c, plans[i], sw.Time, opts, col)
		})
	}
	wg.Wait()
	return sw
}

// test is one planned test of a source agent.
type test struct {
	id     string
	kind   Kind
	target mesh.Agent
}

func planTests(src mesh.Agent, targets []mesh.Agent, opts Options) []test {
	var ts []test
	for _, k := range []Kind{KindPing, KindTraceroute} {
		if opts.Kinds&k == 0 {
			continue
		}
		for _, t := range targets {
			if t.Name == src.Name && t.Address == src.Address {
				continue
			}
			ts = append(ts, test{id: fmt.Sprintf("mt-%d", len(ts)), kind: k, target: t})
		}
	}
	return ts
}

// runAgent runs all tests of one source agent and reports its state.
func runAgent(ctx context.Context, c *Client, tests []test, at time.Time, opts Options, col *collector) {
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	st := mesh.AgentStatus{Agent: c.Agent, State: mesh.StateOK}
	st.Secret = ""
	if len(tests) == 0 {
		col.agent(st)
		return
	}
	b := &batcher{c: c, at: at, opts: opts, col: col}
	var wg sync.WaitGroup
	for _, batch := range split(tests, opts.MaxTests) {
		wg.Go(func() { b.run(ctx, batch) })
	}
	wg.Wait()
	switch {
	case b.failed > 0 && b.succeeded == 0:
		st.State, st.Error = b.firstErr.State, b.firstErr.Error()
	case b.failed > 0:
		st.Error = fmt.Sprintf("%d of %d batches failed: %s", b.failed, b.failed+b.succeeded, b.firstErr.Error())
	}
	col.agent(st)
}

func split(tests []test, n int) [][]test {
	var out [][]test
	for len(tests) > n {
		out = append(out, tests[:n:n])
		tests = tests[n:]
	}
	return append(out, tests)
}

// batcher runs the batches of one agent.
type batcher struct {
	c    *Client
	at   time.Time
	opts Options
	col  *collector

	mu                sync.Mutex
	succeeded, failed int
	firstErr          *AgentError
}

func (b *batcher) run(ctx context.Context, tests []test) {
	err := b.runOnce(ctx, tests)
	if ae, ok := AsAgentError(err); ok && ae.Max > 0 && ae.Max < len(tests) {
		// The agent allows fewer tests per request than we assumed: re-split and carry on.
		var wg sync.WaitGroup
		for _, part := range split(tests, ae.Max) {
			wg.Go(func() { b.run(ctx, part) })
		}
		wg.Wait()
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err == nil {
		b.succeeded++
		return
	}
	b.failed++
	if b.firstErr == nil {
		ae, ok := AsAgentError(err)
		if !ok {
			ae = b.c.fail("run tests", mesh.StateError, 0, err.Error())
		}
		b.firstErr = ae
	}
}

// runOnce submits, polls and reads one batch. Every test is reported, with its result or
// with the error that kept it from one, except when the agent refused the batch as too
// large (an *AgentError with Max set): the caller re-splits those tests.
func (b *batcher) runOnce(ctx context.Context, tests []test) error {
	req := TestRequest{}
	for _, t := range tests {
		switch t.kind {
		case KindPing:
			count := b.opts.Count
			req.Ping = append(req.Ping, PingOptions{Dst: t.target.Address, Count: &count, ID: t.id})
		case KindTraceroute:
			req.Traceroute = append(req.Traceroute, TracerouteOptions{Dst: t.target.Address, Proto: b.opts.TraceProto, ID: t.id})
		}
	}
	pending := map[string]test{}
	for _, t := range tests {
		pending[t.id] = t
	}
	receipt, err := b.c.Submit(ctx, req)
	if err != nil {
		if ae, ok := AsAgentError(err); ok && ae.Max > 0 && ae.Max < len(tests) {
			return err
		}
		b.failRest(pending, err)
		return err
	}
	defer func() {
		// Best effort, also after cancellation: a receipt left behind costs the agent
		// memory for 10 minutes.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = b.c.Delete(dctx, receipt)
	}()
	start := time.Now()
	misses := 0
	for {
		// Poll at 1/20 of the time waited so far: results are picked up within ~5% of
		// when they are ready, without hammering an agent busy for seconds.
		wait := min(max(time.Since(start)/20, 20*time.Millisecond), time.Second)
		select {
		case <-ctx.Done():
			err := b.c.fail("wait for results", mesh.StateUnreachable, 0,
				fmt.Sprintf("tests did not finish within %s", b.opts.Timeout))
			b.failRest(pending, err)
			return err
		case <-time.After(wait):
		}
		resp, err := b.c.Poll(ctx, receipt)
		if err != nil {
			ae, _ := AsAgentError(err)
			// A lost answer is retried a few times; a refusal (expired receipt, 403) is final.
			if ae != nil && ae.State == mesh.StateUnreachable && misses < 3 && ctx.Err() == nil {
				misses++
				continue
			}
			// Results already in are kept; only the rest fail.
			b.failRest(pending, err)
			return err
		}
		misses = 0
		b.take(resp, pending)
		if !resp.Running() {
			break
		}
	}
	for _, t := range pending {
		b.report(t, nil, nil, fmt.Sprintf("agent %s returned no result for this test", b.c.Agent.Name))
	}
	return nil
}

func (b *batcher) failRest(pending map[string]test, err error) {
	for id, t := range pending {
		b.report(t, nil, nil, err.Error())
		delete(pending, id)
	}
}

// take reports the entries of a poll answer that were not reported yet. Entries are
// matched by the id we sent; an agent that does not echo ids is matched by destination.
func (b *batcher) take(resp TestsResponse, pending map[string]test) {
	if resp.Results == nil {
		return
	}
	match := func(id, dst string, kind Kind) (test, bool) {
		if t, ok := pending[id]; ok && t.kind == kind {
			delete(pending, id)
			return t, true
		}
		for k, t := range pending {
			if t.kind == kind && t.target.Address == dst {
				delete(pending, k)
				return t, true
			}
		}
		return test{}, false
	}
	for _, e := range resp.Results.Ping {
		if t, ok := match(e.ID, e.Result.Dst, KindPing); ok {
			b.report(t, &e, nil, "")
		}
	}
	for _, e := range resp.Results.Traceroute {
		if t, ok := match(e.ID, e.Result.Dst, KindTraceroute); ok {
			b.report(t, nil, &e, "")
		}
	}
}

// report emits the result of one test: from an entry, or an error.
func (b *batcher) report(t test, pe *PingEntry, te *TracerouteEntry, errMsg string) {
	src := b.c.Agent
	dstPop := t.target.Pop
	if dstPop == "" {
		// Set per result: the workshop's collector let an unknown destination inherit
		// the previous result's PoP.
		dstPop = mesh.UnknownPop
	}
	switch t.kind {
	case KindPing:
		base := mesh.PingResult{Time: b.at, Src: src.Name, SrcPop: src.Pop, Dst: t.target.Address, DstName: t.target.Name, DstPop: dstPop}
		r := base
		if pe != nil {
			r = pingFromEntry(*pe, base, b.opts.Count)
		} else {
			r.Err = errMsg
		}
		b.col.ping(r)
	case KindTraceroute:
		base := mesh.TraceResult{Time: b.at, Src: src.Name, SrcPop: src.Pop, Dst: t.target.Address, DstName: t.target.Name, DstPop: dstPop, Proto: b.opts.TraceProto, DPort: 80}
		r := base
		if te != nil {
			r = traceFromEntry(*te, base)
		} else {
			r.Err = errMsg
		}
		b.col.trace(r)
	}
}
