package probe

import (
	"context"
	"fmt"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// opWait is the AgentError.Op of a batch that did not finish before its deadline.
const opWait = "wait for results"

// batcher runs the batches of one source agent's pass.
type batcher struct {
	c     *Client
	opts  Options
	ping  func(mesh.PingResult)
	trace func(mesh.TraceResult)
	// done, when set, learns of every test as it is reported, before its result is
	// emitted: whether it was measured and nothing came back (a dead path, not an
	// agent's error: a timeout of an overloaded agent must not multiply its POSTs).
	done func(t test, failed bool)
}

// runOnce submits, polls and reads one batch within timeout. Every test is reported,
// with its result or with the error that kept it from one, except when the agent
// refused the batch as too large (an *AgentError with Max set): the caller re-splits.
//
// quiet is how long the agent has taken at the least for such a batch: after the first
// poll (which sees the {} state and early refusals) the next waits until then, so a
// 5 s batch costs a handful of polls instead of dozens.
//
// posted, when set, is called once the agent has taken the batch (or it failed for
// good): from then on none of its tests can come back to be re-split.
func (b *batcher) runOnce(ctx context.Context, tests []test, at time.Time, timeout, quiet time.Duration, posted func()) error {
	if posted == nil {
		posted = func() {}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req := TestRequest{}
	for _, t := range tests {
		switch t.kind {
		case KindPing:
			count := b.opts.Count
			req.Ping = append(req.Ping, PingOptions{Dst: t.target.Address, Count: &count, ID: t.id})
		case KindTraceroute:
			req.Traceroute = append(req.Traceroute, TracerouteOptions{Dst: t.target.Address, Proto: b.opts.TraceProto, Probes: traceProbes(), ID: t.id})
		}
	}
	pending := map[string]test{}
	for _, t := range tests {
		pending[t.id] = t
	}
	receipt, err := b.c.Submit(ctx, req)
	if err != nil {
		if ae, ok := AsAgentError(err); ok && ae.Max > 0 && ae.Max < len(tests) {
			return err // re-split: posted when its parts are
		}
		posted()
		b.failRest(pending, at, err)
		return err
	}
	posted()
	defer func() {
		// Best effort, also after cancellation: a receipt left behind costs the agent
		// memory for 10 minutes.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = b.c.Delete(dctx, receipt)
	}()
	start := time.Now()
	misses, answers := 0, 0
	notBefore := quiet * 9 / 10
	// Poll at 1/20 of the time waited so far: results are picked up within ~5% of when
	// they are ready, without hammering an agent busy for seconds. A traceroute is
	// read at 1/8 (its hop table waits for nothing; a dead one runs for half a minute
	// on upstream agents, one POST each).
	frac, least := time.Duration(20), 20*time.Millisecond
	if tests[0].kind == KindTraceroute {
		frac, least = 8, 100*time.Millisecond
	}
	for {
		wait := min(max(time.Since(start)/frac, least), time.Second)
		if rest := notBefore - time.Since(start); answers > 0 && rest > wait {
			wait = rest
		}
		select {
		case <-ctx.Done():
			var err error
			if answers > 0 {
				// It answered every poll, just never with "done": not unreachable.
				err = b.c.fail(opWait, mesh.StateError, 0,
					fmt.Sprintf("tests still running after %s (the agent answers but has not finished them)", time.Since(start).Round(time.Millisecond)))
			} else {
				err = b.c.fail(opWait, mesh.StateUnreachable, 0,
					fmt.Sprintf("no answer about the tests within %s", time.Since(start).Round(time.Millisecond)))
			}
			b.failRest(pending, at, err)
			return err
		case <-time.After(wait):
		}
		resp, err := b.c.PollFor(ctx, receipt, req.AnswerLimits())
		if err != nil {
			ae, _ := AsAgentError(err)
			// A lost answer is retried a few times; a refusal (expired receipt, 403) is final.
			if ae != nil && ae.State == mesh.StateUnreachable && misses < 3 && ctx.Err() == nil {
				misses++
				continue
			}
			if ctx.Err() != nil {
				continue // the deadline case above words it
			}
			// Results already in are kept; only the rest fail.
			b.failRest(pending, at, err)
			return err
		}
		misses = 0
		answers++
		b.take(resp, pending, at)
		if !resp.Running() {
			break
		}
	}
	for _, t := range pending {
		b.report(t, at, nil, nil, fmt.Sprintf("agent %s returned no result for this test", b.c.Agent.Name))
	}
	return nil
}

// failAll reports every test of a batch that was never sent with err.
func (b *batcher) failAll(tests []test, at time.Time, err error) {
	for _, t := range tests {
		b.report(t, at, nil, nil, err.Error())
	}
}

func (b *batcher) failRest(pending map[string]test, at time.Time, err error) {
	for id, t := range pending {
		b.report(t, at, nil, nil, err.Error())
		delete(pending, id)
	}
}

// take reports the entries of a poll answer that were not reported yet. Entries are
// matched by the id we sent; an agent that does not echo ids is matched by destination.
func (b *batcher) take(resp TestsResponse, pending map[string]test, at time.Time) {
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
			b.report(t, at, &e, nil, "")
		}
	}
	for _, e := range resp.Results.Traceroute {
		if t, ok := match(e.ID, e.Result.Dst, KindTraceroute); ok {
			b.report(t, at, nil, &e, "")
		}
	}
}

// report emits the result of one test: from an entry, or an error. A result with an
// impossible value (mesh Check) becomes that pair's error, never a measurement.
func (b *batcher) report(t test, at time.Time, pe *PingEntry, te *TracerouteEntry, errMsg string) {
	src := b.c.Agent
	dstPop := t.target.Pop
	if dstPop == "" {
		// Set per result: the workshop's collector let an unknown destination inherit
		// the previous result's PoP.
		dstPop = mesh.UnknownPop
	}
	switch t.kind {
	case KindPing:
		base := mesh.PingResult{Time: at, Src: src.Name, SrcPop: src.Pop, Dst: t.target.Address, DstName: t.target.Name, DstPop: dstPop}
		r := base
		if pe != nil {
			r = pingFromEntry(*pe, base, b.opts.Count)
			if err := r.Check(); err != nil {
				r = base
				r.Err = err.Error()
			}
		} else {
			r.Err = errMsg
		}
		if b.done != nil {
			b.done(t, r.Err == "" && r.Failed)
		}
		b.ping(r)
	case KindTraceroute:
		base := mesh.TraceResult{Time: at, Src: src.Name, SrcPop: src.Pop, Dst: t.target.Address, DstName: t.target.Name, DstPop: dstPop, Proto: b.opts.TraceProto, DPort: 80}
		r := base
		if te != nil {
			r = traceFromEntry(*te, base)
			if err := r.Check(); err != nil {
				r = base
				r.Err = err.Error()
			}
		} else {
			r.Err = errMsg
		}
		if b.done != nil {
			b.done(t, r.Err == "" && r.Failed)
		}
		b.trace(r)
	}
}
