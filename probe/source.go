package probe

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// Source is one source agent and what was learnt about it across passes: how many
// tests it takes per POST, and how many batches it runs at once without queueing them
// (its observed parallelism). A Source runs one pass at a time, so a pair is never
// measured twice at once.
type Source struct {
	Agent mesh.Agent

	mu       sync.Mutex
	running  bool
	window   int                    // batches in flight; 0 until the first pass
	maxTests int                    // learnt from a "Max: N" refusal; 0 when not
	fastest  map[bool]time.Duration // quickest batch seen, by "carries traceroutes"
}

// NewSource starts with nothing learnt about the agent.
func NewSource(a mesh.Agent) *Source {
	return &Source{Agent: a, fastest: map[bool]time.Duration{}}
}

// Window is the number of batches the agent currently gets at once.
func (s *Source) Window() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.window
}

// Stamp says which time a pass's results carry: At for the batches sent within Within
// of At (0: all of them), the time each batch was sent for the others and when At is
// zero. A sweep that fits its interval thus shares one timestamp (SPEC 6), and one
// that overruns it does not age its late results by the overrun.
type Stamp struct {
	At     time.Time
	Within time.Duration
}

func (st Stamp) at(sent time.Time) time.Time {
	if st.At.IsZero() || (st.Within > 0 && sent.Sub(st.At) >= st.Within) {
		return sent.UTC().Round(time.Millisecond)
	}
	return st.At
}

// Pass measures every target from this source once, its results stamped by stamp.
// emit receives every result as it arrives, never concurrently; the returned status
// is the agent's state at the end of the pass. A Source refuses to run two passes at
// once (the second returns at once with an error status and no results).
func (s *Source) Pass(ctx context.Context, targets []mesh.Agent, opts Options, stamp Stamp, emit func(Event)) mesh.AgentStatus {
	opts = opts.withDefaults()
	var mu sync.Mutex
	send := func(e Event) {
		if emit != nil {
			mu.Lock()
			defer mu.Unlock()
			emit(e)
		}
	}
	return s.pass(ctx, targets, opts, stamp,
		func(r mesh.PingResult) { send(PingEvent{r}) },
		func(r mesh.TraceResult) { send(TraceEvent{r}) })
}

// Tests is how many tests a pass of this source towards targets holds.
func (s *Source) Tests(targets []mesh.Agent, opts Options) int {
	return len(planTests(s.Agent, targets, opts.withDefaults()))
}

// batchDone is the outcome of one batch.
type batchDone struct {
	tests  []test
	err    error
	took   time.Duration
	traces bool
}

// pass runs with opts already defaulted; ping and trace are called concurrently.
func (s *Source) pass(ctx context.Context, targets []mesh.Agent, opts Options, stamp Stamp,
	ping func(mesh.PingResult), trace func(mesh.TraceResult)) mesh.AgentStatus {
	st := mesh.AgentStatus{Agent: s.Agent, State: mesh.StateOK}
	st.Secret = ""
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		st.State, st.Error = mesh.StateError, "a pass of this agent is already running"
		return st
	}
	s.running = true
	if s.window == 0 {
		s.window = opts.Window
	}
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.running = false; s.mu.Unlock() }()

	tests := planTests(s.Agent, targets, opts)
	if len(tests) == 0 {
		return st
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	// Giving up on the agent also ends the batches it still holds.
	ctx, stopBatches := context.WithCancel(ctx)
	defer stopBatches()
	b := &batcher{c: &Client{Agent: s.Agent, Secret: opts.Secret, HTTP: opts.HTTPClient}, opts: opts, ping: ping, trace: trace}
	queue := split(tests, s.batchSize(opts))
	done := make(chan batchDone)
	inflight, succeeded, failed, timeouts := 0, 0, 0, 0
	var firstErr, abort *AgentError
	for len(queue) > 0 || inflight > 0 {
		for abort == nil && ctx.Err() == nil && len(queue) > 0 && inflight < s.Window() {
			batch := queue[0]
			queue = queue[1:]
			if n := s.batchSize(opts); len(batch) > n {
				parts := split(batch, n)
				batch, queue = parts[0], append(parts[1:], queue...)
			}
			inflight++
			queued := inflight
			go func() {
				start := time.Now()
				traces := hasTraces(batch)
				err := b.runOnce(ctx, batch, stamp.at(start), opts.batchTimeout(traces, queued), s.quickest(traces))
				done <- batchDone{tests: batch, err: err, took: time.Since(start), traces: traces}
			}()
		}
		if len(queue) > 0 && (abort != nil || ctx.Err() != nil) {
			// The agent as a whole failed (or we are stopping): the tests not sent yet
			// get that error instead of a POST each that would fail the same way.
			why := abort
			if why == nil {
				why = b.c.fail("run tests", mesh.StateUnreachable, 0, "stopped before these tests were sent")
			}
			for _, batch := range queue {
				b.failAll(batch, stamp.at(time.Now()), why)
			}
			queue = nil
		}
		if inflight == 0 {
			break
		}
		d := <-done
		inflight--
		ae, isAgentErr := AsAgentError(d.err)
		switch {
		case d.err == nil:
			succeeded++
			s.observe(d.traces, d.took, len(queue) > 0)
			continue
		case isAgentErr && ae.Max > 0 && ae.Max < len(d.tests):
			// The agent takes fewer tests per request than we assumed: re-split, carry on.
			s.mu.Lock()
			s.maxTests = ae.Max
			s.mu.Unlock()
			queue = append(split(d.tests, ae.Max), queue...)
			continue
		case !isAgentErr:
			ae = b.c.fail("run tests", mesh.StateError, 0, d.err.Error())
		}
		failed++
		if firstErr == nil {
			firstErr = ae
		}
		switch {
		case abort != nil:
		case ae.State == mesh.StateUnreachable || ae.State == mesh.StateAuthFailed:
			abort = ae
			stopBatches()
		case ae.Op == opWait:
			// Tests that outlast their deadline: the agent is overloaded. One batch at a
			// time from here; a second timeout in the same pass gives up on the rest.
			timeouts++
			s.mu.Lock()
			s.window = 1
			s.mu.Unlock()
			if timeouts >= 2 {
				abort = ae
				stopBatches()
			}
		}
	}
	switch {
	case failed > 0 && succeeded == 0:
		st.State, st.Error = firstErr.State, firstErr.Error()
	case failed > 0:
		st.Error = fmt.Sprintf("%d of %d batches failed: %s", failed, failed+succeeded, firstErr.Error())
	}
	return st
}

func (s *Source) batchSize(opts Options) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.maxTests > 0 {
		return min(s.maxTests, opts.MaxTests)
	}
	return opts.MaxTests
}

// observe adapts the window to a batch that took took: as fast as the fastest batch of
// its kind means the agent had room, so one more goes at once (while there is more to
// send); half again as slow means batches queue in the agent, so one fewer (half as
// many when three times as slow). This keeps
// an agent with upstream's 10 worker processes at about one batch of 10 in flight and
// lets a more parallel agent take more, without knowing either's configuration.
func (s *Source) observe(traces bool, took time.Duration, more bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.fastest[traces]
	if !ok || took < f {
		s.fastest[traces], f = took, took
	}
	switch {
	case took <= f*5/4 && more:
		s.window = min(s.window+1, MaxWindow)
	case took > f*3:
		s.window = max(s.window/2, 1)
	case took > f*3/2:
		s.window = max(s.window-1, 1)
	}
}

// quickest is the fastest batch of this kind seen so far (0 before the first).
func (s *Source) quickest(traces bool) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fastest[traces]
}

func hasTraces(tests []test) bool {
	return slices.ContainsFunc(tests, func(t test) bool { return t.kind == KindTraceroute })
}

// test is one planned test of a source agent.
type test struct {
	id     string
	kind   Kind
	target mesh.Agent
}

// planTests lists the tests of a pass. Each source starts its destination list at its
// own offset (a stable hash of its name), so that a mesh's sources do not all probe the
// same destination first.
func planTests(src mesh.Agent, targets []mesh.Agent, opts Options) []test {
	var ts []test
	off := 0
	if len(targets) > 0 {
		h := fnv.New32a()
		_, _ = h.Write([]byte(src.Name))
		off = int(h.Sum32() % uint32(len(targets)))
	}
	for _, k := range []Kind{KindPing, KindTraceroute} {
		if opts.Kinds&k == 0 {
			continue
		}
		for i := range targets {
			t := targets[(off+i)%len(targets)]
			if t.Name == src.Name && t.Address == src.Address {
				continue
			}
			ts = append(ts, test{id: fmt.Sprintf("mt-%d", len(ts)), kind: k, target: t})
		}
	}
	return ts
}

func split(tests []test, n int) [][]test {
	var out [][]test
	for len(tests) > n {
		out = append(out, tests[:n:n])
		tests = tests[n:]
	}
	return append(out, tests)
}
