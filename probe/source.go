package probe

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// Source is one source agent and what was learnt about it across passes: how many
// tests it takes per POST, how many ping batches it runs at once without queueing them
// (its observed parallelism), which tests are running now and which pairs failed last
// time.
//
// Pings and traceroutes never share a POST (a receipt is answered only when all of its
// tests are done, and a traceroute towards a dead destination walks every TTL with a
// second of silence each on upstream agents): a pass of each kind runs on its own, so
// a slow trace holds back no ping. Within a kind, a test whose pair failed last time
// (an outage, an unreachable destination) goes in a POST of its own, so that it holds
// back only itself. The same test (kind, destination) never runs twice at once: a pass
// leaves out the tests an earlier pass still runs (PassRun.Skipped).
type Source struct {
	Agent mesh.Agent

	mu       sync.Mutex
	sending  map[Kind]bool             // a pass of that kind still has tests to send
	window   int                       // ping batches in flight per pass; 0 until the first pass
	maxTests int                       // learnt from a "Max: N" refusal; 0 when not
	fastest  map[Kind]time.Duration    // quickest batch seen, by kind
	alone    map[testKey]time.Duration // how long the test last took in a POST of its own
	inflight map[testKey]bool          // tests planned by a pass and not reported yet
	suspect  map[testKey]bool          // the pair's last test of that kind failed
	traces   int                       // traceroute tests in flight, across passes
	lone     int                       // of which suspects (in POSTs of their own)
	freed    chan struct{}             // closed and replaced when traceroute slots free up
}

// testKey names one test of a source: its kind and destination.
type testKey struct {
	kind       Kind
	name, addr string
}

func keyOf(t test) testKey { return testKey{t.kind, t.target.Name, t.target.Address} }

// NewSource starts with nothing learnt about the agent.
func NewSource(a mesh.Agent) *Source {
	return &Source{Agent: a, sending: map[Kind]bool{}, fastest: map[Kind]time.Duration{}, alone: map[testKey]time.Duration{},
		inflight: map[testKey]bool{}, suspect: map[testKey]bool{}, freed: make(chan struct{})}
}

// Window is the number of ping batches the agent currently gets at once.
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

// PassRun is a pass in progress (Source.Start).
type PassRun struct {
	sent, done chan struct{}
	status     mesh.AgentStatus
	skipped    int
	tests      int
	left       atomic.Int64 // tests not reported yet
}

// Sent is closed once every test of the pass has been sent to the agent (or failed
// without being sent): a slow test may still be running, but a next pass can start.
func (r *PassRun) Sent() <-chan struct{} { return r.sent }

// Done is closed when every test of the pass has been reported.
func (r *PassRun) Done() <-chan struct{} { return r.done }

// Status waits for the pass to end and returns the agent's state at its end.
func (r *PassRun) Status() mesh.AgentStatus {
	<-r.done
	return r.status
}

// Skipped is how many tests the pass left out because the same test of an earlier pass
// was still running (it reports them when it is done).
func (r *PassRun) Skipped() int { return r.skipped }

// Tests is how many tests the pass runs.
func (r *PassRun) Tests() int { return r.tests }

// Running is how many of its tests have not been reported yet.
func (r *PassRun) Running() int { return int(r.left.Load()) }

// Pass measures every target from this source once, its results stamped by stamp,
// and returns the agent's state at the end of the pass. See Start.
func (s *Source) Pass(ctx context.Context, targets []mesh.Agent, opts Options, stamp Stamp, emit func(Event)) mesh.AgentStatus {
	return s.Start(ctx, targets, opts, stamp, emit).Status()
}

// Start begins a pass: every target once with each kind of opts.Kinds, each kind in
// POSTs of its own, traceroutes once the pings are sent. emit receives every result as it arrives, never
// concurrently. A Source refuses a pass of a kind while another pass of that kind is
// still sending its tests (the new one ends at once with an error status and no
// results); tests that an earlier pass still runs are left out (Skipped).
func (s *Source) Start(ctx context.Context, targets []mesh.Agent, opts Options, stamp Stamp, emit func(Event)) *PassRun {
	opts = opts.withDefaults()
	var mu sync.Mutex
	send := func(e Event) {
		if emit != nil {
			mu.Lock()
			defer mu.Unlock()
			emit(e)
		}
	}
	return s.start(ctx, targets, opts, stamp,
		func(r mesh.PingResult) { send(PingEvent{r}) },
		func(r mesh.TraceResult) { send(TraceEvent{r}) })
}

// Tests is how many tests a pass of this source towards targets holds.
func (s *Source) Tests(targets []mesh.Agent, opts Options) int {
	return len(planTests(s.Agent, targets, opts.withDefaults()))
}

// batchDone is the outcome of one batch.
type batchDone struct {
	tests []test
	err   error
	took  time.Duration
	lone  bool
}

// outcome counts a kind's batches in a pass.
type outcome struct {
	succeeded, failed int
	firstErr          *AgentError
}

// start runs with opts already defaulted; ping and trace are called concurrently.
func (s *Source) start(ctx context.Context, targets []mesh.Agent, opts Options, stamp Stamp,
	ping func(mesh.PingResult), trace func(mesh.TraceResult)) *PassRun {
	pr := &PassRun{sent: make(chan struct{}), done: make(chan struct{})}
	pr.status = mesh.AgentStatus{Agent: s.Agent, State: mesh.StateOK}
	pr.status.Secret = ""
	byKind := map[Kind][]test{}
	s.mu.Lock()
	for _, k := range []Kind{KindPing, KindTraceroute} {
		if opts.Kinds&k != 0 && s.sending[k] {
			s.mu.Unlock()
			pr.status.State, pr.status.Error = mesh.StateError, "a pass of this agent is already sending its tests"
			close(pr.sent)
			close(pr.done)
			return pr
		}
	}
	if s.window == 0 {
		s.window = opts.Window
	}
	for _, t := range planTests(s.Agent, targets, opts) {
		if s.inflight[keyOf(t)] {
			pr.skipped++
			continue
		}
		s.inflight[keyOf(t)] = true
		byKind[t.kind] = append(byKind[t.kind], t)
		pr.tests++
	}
	for k := range byKind {
		s.sending[k] = true
	}
	s.mu.Unlock()
	pr.left.Store(int64(pr.tests))
	ping0, trace0 := ping, trace
	ping = func(r mesh.PingResult) { pr.left.Add(-1); ping0(r) }
	trace = func(r mesh.TraceResult) { pr.left.Add(-1); trace0(r) }
	if len(byKind) == 0 {
		close(pr.sent)
		close(pr.done)
		return pr
	}
	go func() {
		defer close(pr.done)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var all outcome
		sending := len(byKind)
		// Traceroutes go to the agent once the pings are sent: in a process pool that
		// takes work in order (upstream's), the pings run first.
		pingsSent := make(chan struct{})
		if byKind[KindPing] == nil {
			close(pingsSent)
		}
		for _, k := range []Kind{KindPing, KindTraceroute} {
			tests := byKind[k]
			if tests == nil {
				continue
			}
			wg.Go(func() {
				if k == KindTraceroute {
					<-pingsSent
				}
				o := s.passKind(ctx, k, tests, opts, stamp, ping, trace, func() {
					mu.Lock()
					defer mu.Unlock()
					if k == KindPing {
						close(pingsSent)
					}
					if sending--; sending == 0 {
						close(pr.sent)
					}
				})
				mu.Lock()
				all.succeeded += o.succeeded
				all.failed += o.failed
				if all.firstErr == nil || (o.firstErr != nil && k == KindPing) {
					all.firstErr = o.firstErr
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		switch {
		case all.failed > 0 && all.succeeded == 0:
			pr.status.State, pr.status.Error = all.firstErr.State, all.firstErr.Error()
		case all.failed > 0:
			pr.status.Error = fmt.Sprintf("%d of %d batches failed: %s", all.failed, all.failed+all.succeeded, all.firstErr.Error())
		}
	}()
	return pr
}

// passKind sends the tests of one kind, calling sent once all of them have been sent
// (or failed unsent), and returns when every one is reported.
func (s *Source) passKind(ctx context.Context, kind Kind, tests []test, opts Options, stamp Stamp,
	ping func(mesh.PingResult), trace func(mesh.TraceResult), sent func()) outcome {
	sentOnce := sync.OnceFunc(func() {
		s.mu.Lock()
		s.sending[kind] = false
		s.mu.Unlock()
		sent()
	})
	defer sentOnce()
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	// Giving up on the agent also ends the batches it still holds.
	ctx, stopBatches := context.WithCancel(ctx)
	defer stopBatches()
	b := &batcher{c: &Client{Agent: s.Agent, Secret: opts.Secret, HTTP: opts.HTTPClient}, opts: opts,
		ping: ping, trace: trace, done: s.reported}
	queue := s.batches(kind, tests, opts)
	done := make(chan batchDone)
	// A batch out but not yet taken by the agent may come back, refused as too
	// large, to be re-split: the pass has sent its tests once none is left.
	posted := make(chan struct{}, len(tests))
	inflight, unposted, loneOut := 0, 0, 0
	var o outcome
	var abort *AgentError
	timeouts := 0
	for len(queue) > 0 || inflight > 0 {
		// Taken before trying: a slot freed after a refused try still wakes us.
		freed := s.freedChan()
		for abort == nil && ctx.Err() == nil && len(queue) > 0 {
			if n := s.batchSize(opts); len(queue[0]) > n {
				queue = append(split(queue[0], n), queue[1:]...)
			}
			batch := queue[0]
			lone := len(batch) == 1 && s.isSuspect(batch[0])
			if !s.admit(kind, len(batch), lone, inflight, loneOut, opts) {
				break
			}
			queue = queue[1:]
			inflight++
			if lone {
				loneOut++
			}
			unposted++
			queued := inflight
			go func() {
				start := time.Now()
				err := b.runOnce(ctx, batch, stamp.at(start), opts.batchTimeout(kind == KindTraceroute, queued), s.expected(kind, batch),
					func() { posted <- struct{}{} })
				if kind == KindTraceroute {
					s.releaseTraces(len(batch), lone)
				}
				done <- batchDone{tests: batch, err: err, took: time.Since(start), lone: lone}
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
		if len(queue) == 0 && unposted == 0 {
			sentOnce()
		}
		if inflight == 0 && len(queue) == 0 {
			break
		}
		// Traceroute slots held by other passes may free up first; with none of our
		// own batches out, stopping must wake us too.
		var stop <-chan struct{}
		if len(queue) == 0 || kind != KindTraceroute {
			freed = nil
		}
		if inflight == 0 {
			stop = ctx.Done()
		}
		var d batchDone
		select {
		case <-posted:
			unposted--
			continue
		case d = <-done:
		case <-freed:
			continue
		case <-stop:
			continue
		}
		inflight--
		if d.lone {
			loneOut--
		}
		ae, isAgentErr := AsAgentError(d.err)
		switch {
		case d.err == nil:
			o.succeeded++
			if len(d.tests) == 1 {
				s.mu.Lock()
				s.alone[keyOf(d.tests[0])] = d.took
				s.mu.Unlock()
			}
			if !d.lone {
				s.observe(kind, d.took, len(queue) > 0)
			}
			continue
		case isAgentErr && ae.Max > 0 && ae.Max < len(d.tests):
			// The agent takes fewer tests per request than we assumed: re-split, carry on.
			s.mu.Lock()
			s.maxTests = ae.Max
			s.mu.Unlock()
			unposted-- // it never will be: its parts are queued instead
			queue = append(split(d.tests, ae.Max), queue...)
			continue
		case !isAgentErr:
			ae = b.c.fail("run tests", mesh.StateError, 0, d.err.Error())
		}
		o.failed++
		if o.firstErr == nil {
			o.firstErr = ae
		}
		switch {
		case abort != nil:
		case ae.State == mesh.StateUnreachable || ae.State == mesh.StateAuthFailed:
			abort = ae
			stopBatches()
		case ae.Op == opWait && !d.lone:
			// Tests that outlast their deadline: the agent is overloaded. One batch at a
			// time from here; a second timeout in the same pass gives up on the rest.
			// (A test of a failing pair alone is slow by itself, not the agent.)
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
	return o
}

// batches splits a pass's tests of one kind into POSTs: a test whose pair failed last
// time alone (it takes longest, so it goes first for pings; for traceroutes, which
// share the agent's slots across passes, it goes last so that it never keeps a
// healthy trace waiting), the others together up to the agent's maximum. Traceroutes
// go one per POST too while a source has at most 32 destinations: a trace towards a
// destination that died since the last one then holds back no other; beyond that they
// are grouped to bound the requests of a pass.
func (s *Source) batches(kind Kind, tests []test, opts Options) [][]test {
	size := s.batchSize(opts)
	var lone, rest []test
	s.mu.Lock()
	for _, t := range tests {
		if s.suspectLocked(t) {
			lone = append(lone, t)
		} else {
			rest = append(rest, t)
		}
	}
	s.mu.Unlock()
	if kind == KindTraceroute {
		size = min(size, s.traceSlots(opts), (len(rest)+maxTracePosts-1)/maxTracePosts)
	}
	first, last := split(lone, 1), split(rest, max(size, 1))
	if kind == KindTraceroute {
		first, last = last, first
	}
	return slices.DeleteFunc(append(first, last...), func(b []test) bool { return len(b) == 0 })
}

// maxTracePosts is how many traceroute POSTs a pass makes at most (before splitting by
// the agent's slots): one per destination up to it.
const maxTracePosts = 32

// traceSlots is how many traceroute tests of this source may run at once: half of
// what the agent takes per POST (upstream's default of 10 worker processes: 5), so
// that a slow trace (a second per silent hop, up to max_ttl) never takes the worker
// processes the next pings need.
func (s *Source) traceSlots(opts Options) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.traceSlotsLocked(opts)
}

func (s *Source) traceSlotsLocked(opts Options) int {
	return max(1, s.batchSizeLocked(opts)/2)
}

// admit says whether a batch may be sent now: pings within the pass's window of
// batches (inflight of them out, loneOut of which suspects alone) and suspects alone
// beside it, up to a POST's worth of them (a window that had shrunk to one would
// otherwise send a dead pair's ping and the others' batch one after the other);
// traceroutes within the source's slots (suspects within half of them). A traceroute
// batch that is admitted holds its slots until releaseTraces.
func (s *Source) admit(kind Kind, n int, lone bool, inflight, loneOut int, opts Options) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if kind == KindPing {
		if lone {
			return loneOut < s.batchSizeLocked(opts)
		}
		return inflight-loneOut < s.window
	}
	slots := s.traceSlotsLocked(opts)
	if s.traces > 0 && s.traces+n > slots {
		return false
	}
	if lone && s.lone > 0 && s.lone+1 > max(1, slots/2) {
		return false
	}
	s.traces += n
	if lone {
		s.lone++
	}
	return true
}

func (s *Source) releaseTraces(n int, lone bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.traces -= n
	if lone {
		s.lone--
	}
	close(s.freed)
	s.freed = make(chan struct{})
}

func (s *Source) freedChan() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.freed
}

// reported files a test's outcome: it is no longer running, and whether its pair
// failed (measured, nothing came back) decides whether its next test goes alone.
func (s *Source) reported(t test, failed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := keyOf(t)
	delete(s.inflight, k)
	if failed {
		s.suspect[k] = true
	} else {
		delete(s.suspect, k)
	}
}

func (s *Source) isSuspect(t test) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.suspectLocked(t)
}

// suspectLocked: the pair failed its last test of this kind; a traceroute also when
// the pair's last ping failed (a trace towards a dead destination is the slowest).
func (s *Source) suspectLocked(t test) bool {
	k := keyOf(t)
	if s.suspect[k] {
		return true
	}
	k.kind = KindPing
	return t.kind == KindTraceroute && s.suspect[k]
}

func (s *Source) batchSize(opts Options) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.batchSizeLocked(opts)
}

func (s *Source) batchSizeLocked(opts Options) int {
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
// Traceroutes only teach the fastest (for polling): they run within their slots.
func (s *Source) observe(kind Kind, took time.Duration, more bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.fastest[kind]
	if !ok || took < f {
		s.fastest[kind], f = took, took
	}
	if kind != KindPing {
		return
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

// expected is how long a batch will take at the least, for polling: what the same
// test took the last time it went alone, else the fastest batch of its kind so far (0
// before the first). A traceroute alone takes from a few milliseconds to half a
// minute, by destination.
func (s *Source) expected(kind Kind, batch []test) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(batch) == 1 {
		if d, ok := s.alone[keyOf(batch[0])]; ok {
			return d
		}
	}
	return s.fastest[kind]
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
