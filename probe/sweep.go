package probe

import (
	"context"
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
	Secret     string       // shared secret (SCOUTER_SECRET); mesh.Agent.Secret overrides it
	Kinds      Kind         // zero means KindPing
	Count      int          // pings per test, default 5
	MaxTests   int          // first batch size per POST, default 10; re-split on "Max: N"
	TraceProto string       // "ICMP" (default) or "TCP"
	Targets    []mesh.Agent // destinations; nil means every agent (the full mesh)
	// Timeout caps one source agent's whole pass and each of its batches; 0 means no cap
	// on the pass and a per-batch deadline derived from Count and Kinds.
	Timeout    time.Duration
	HTTPClient *http.Client // nil: DefaultHTTPClient()
	// Window is how many batches a source agent gets at once at first (default 8). It
	// then follows the agent's observed parallelism: it grows while batches come back as
	// fast as the fastest seen, and shrinks when they queue behind each other.
	Window int
	// Shard selects the source agents this collector runs (--shard K/N); the zero
	// value runs them all. Destinations stay the whole mesh.
	Shard Shard
}

// Defaults of Options.
const (
	DefaultCount    = 5
	DefaultMaxTests = 10
	DefaultWindow   = 8
	// MaxWindow bounds the batches in flight per agent however fast it is.
	MaxWindow = 16
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
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	o.Window = min(o.Window, MaxWindow)
	if o.HTTPClient == nil {
		// One client for every sweep: a new transport per sweep would open new
		// connections to every agent each time and leave the old ones idling.
		o.HTTPClient = sharedHTTPClient()
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

var sharedHTTPClient = sync.OnceValue(DefaultHTTPClient)

// batchTimeout is the deadline of one batch: Timeout when given, else what its slowest
// test can take. A lost probe costs about 2 s upstream; a traceroute up to ~1 s per
// silent hop of 32. The margin covers a batch queued behind another in the agent's
// process pool (the window keeps that to about one batch).
//
// queued is how many batches the agent holds with this one: an agent that runs fewer
// at once works through them in turn, so a deadline that did not stretch with them
// would fail the last ones of a first pass before the window has learnt to shrink.
func (o Options) batchTimeout(traces bool, queued int) time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	d := time.Duration(o.Count)*2*time.Second + 30*time.Second
	if traces {
		d = max(d, 32*time.Second+60*time.Second)
	}
	return d * time.Duration(max(queued, 1))
}

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

// Run does one sweep: every source agent (all of them, or this collector's shard) pings
// (and with KindTraceroute traceroutes) every target's address. Agents work at once, each
// with as many batches in flight as it takes without queueing them (see Source), pings
// and traceroutes in POSTs of their own, so a small mesh takes about as long as its
// slowest test. One slow or dead agent holds back nobody: its tests end with an error
// when their deadline passes.
func Run(ctx context.Context, agents []mesh.Agent, opts Options, emit func(Event)) Sweep {
	opts = opts.withDefaults()
	sw := Sweep{Time: time.Now().UTC().Round(time.Millisecond)}
	targets := opts.Targets
	if targets == nil {
		targets = agents
	}
	sources := opts.Shard.Sources(agents)
	total := 0
	for _, a := range sources {
		total += len(planTests(a, targets, opts))
	}
	col := &collector{emit: emit, sw: &sw, total: total}
	if emit != nil {
		emit(ProgressEvent{0, total})
	}
	var wg sync.WaitGroup
	for _, a := range sources {
		wg.Go(func() {
			src := NewSource(a)
			st := src.start(ctx, targets, opts, Stamp{At: sw.Time}, col.ping, col.trace).Status()
			col.agent(st)
		})
	}
	wg.Wait()
	return sw
}
