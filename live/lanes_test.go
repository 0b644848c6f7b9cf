package live

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/probe/scoutertest"
)

// TestDeadTraceHoldsBackOnlyItself: issue 18 item 1. Every source's traceroute to one
// destination walks every TTL in silence, as upstream's does towards a dead host (a
// second per hop: here scaled to 2.5 s, five intervals). Pings and the other traces
// keep to their interval: each pair's results keep coming while the dead trace runs,
// no source is called behind, and the slow traces are noted on their own.
func TestDeadTraceHoldsBackOnlyItself(t *testing.T) {
	const (
		interval = 500 * time.Millisecond
		deadTime = 5 * interval
	)
	dead := "198.18.0.2" // a01's address
	_, agents := fleet(t, 4, scoutertest.Config{EchoIDs: true, Procs: 10,
		TestTime: func(typ, dst string, _ int) time.Duration {
			if typ == "traceroute" && dst == dead {
				return deadTime
			}
			return 30 * time.Millisecond
		},
		RTT: func(dst string, count int) []float64 {
			out := make([]float64, count)
			for i := range out {
				out[i] = 20
				if dst == dead {
					out[i] = -1
				}
			}
			return out
		}})
	type key struct {
		src, dst string
		trace    bool
	}
	var mu sync.Mutex
	counts := map[key]int{}
	l := &Loop{Agents: agents, Options: probe.Options{Secret: "x", Count: 1}, Interval: interval, TraceInterval: interval,
		Store: mesh.NewStore(100), Hooks: Hooks{Event: func(e probe.Event) {
			mu.Lock()
			defer mu.Unlock()
			switch e := e.(type) {
			case probe.PingEvent:
				if e.Result.Err != "" {
					t.Errorf("ping %s→%s: %s", e.Result.Src, e.Result.Dst, e.Result.Err)
				}
				counts[key{e.Result.Src, e.Result.Dst, false}]++
			case probe.TraceEvent:
				if e.Result.Err != "" {
					t.Errorf("trace %s→%s: %s", e.Result.Src, e.Result.Dst, e.Result.Err)
				}
				counts[key{e.Result.Src, e.Result.Dst, true}]++
			}
		}}}
	var sc scheduleSeen
	runFor(t, l, 60*time.Second, func() bool {
		sc.see(l.Stats(), len(agents))
		mu.Lock()
		defer mu.Unlock()
		for _, a := range agents {
			if a.Address != dead && counts[key{a.Name, dead, true}] < 2 {
				return false
			}
		}
		return true
	})
	if sc.behind != "" {
		t.Errorf("pings called behind while only traces were slow: %s", sc.behind)
	}
	if !strings.Contains(sc.traces, "traceroute interval") {
		t.Errorf("the slow traces were never noted; last trace summary %q", sc.traces)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, src := range agents {
		if src.Address == dead {
			continue
		}
		slow := counts[key{src.Name, dead, true}]
		for _, dst := range agents {
			if dst.Name == src.Name {
				continue
			}
			// Two dead traces take ten intervals: the rest were measured about every
			// interval meanwhile, not once per dead trace.
			if n := counts[key{src.Name, dst.Address, false}]; n < 3*slow {
				t.Errorf("%s→%s: %d pings while %d dead traces ran: pings waited for them", src.Name, dst.Name, n, slow)
			}
			if n := counts[key{src.Name, dst.Address, true}]; dst.Address != dead && n < 3*slow {
				t.Errorf("%s→%s: %d traces while %d dead traces ran: traces waited for them", src.Name, dst.Name, n, slow)
			}
		}
	}
}

// TestTracesLeaveAgentProcessesToPings: agents with upstream's defaults (10 tests per
// POST, 10 worker processes shared by every receipt) whose traces all take eight
// intervals, 10 destinations each. Ten traces at once would take every process and
// the pings would queue behind them for eight intervals; within their budget (half of
// the tests a POST takes) the traces leave processes to the pings, which keep to the
// interval.
func TestTracesLeaveAgentProcessesToPings(t *testing.T) {
	const interval = 400 * time.Millisecond
	servers, agents := fleet(t, 11, scoutertest.Config{MaxTests: 10, Procs: 10,
		TestTime: func(typ, _ string, _ int) time.Duration {
			if typ == "traceroute" {
				return 8 * interval
			}
			return 40 * time.Millisecond
		}})
	var mu sync.Mutex
	pings := map[string]int{}
	l := &Loop{Agents: agents, Options: probe.Options{Secret: "x", Count: 1}, Interval: interval, TraceInterval: interval,
		Store: mesh.NewStore(100), Hooks: Hooks{Event: func(e probe.Event) {
			if p, ok := e.(probe.PingEvent); ok && p.Result.Err == "" {
				mu.Lock()
				pings[p.Result.Src]++
				mu.Unlock()
			}
		}}}
	var sc scheduleSeen
	runFor(t, l, 60*time.Second, func() bool {
		sc.see(l.Stats(), len(agents))
		// Ten intervals of pings from every source, the first traces done (and the
		// second ones running).
		mu.Lock()
		defer mu.Unlock()
		for _, a := range agents {
			if pings[a.Name] < 10*10 {
				return false
			}
		}
		return l.Stats().TraceDuration > 8*interval
	})
	// Whether the pings kept to the interval is up to the machine (-race, a loaded
	// CI box); how long they waited for the agents' processes is not: behind other
	// pings at most (10 pings on the 5 processes the traces leave: one ping's time,
	// a few with several passes at once), never for a trace to end.
	for i, s := range servers {
		if w := time.Duration(s.PingWait.Load()); w >= interval {
			t.Errorf("agent %d: a ping waited %s for a worker process: pings queued behind traces (schedule: %q)", i, w, sc.behind)
		}
	}
	// The schedule says what the slow traces cost: they cannot all be sent within
	// the interval, so they run back to back.
	if !strings.Contains(sc.traces, "trace continuously") {
		t.Errorf("trace summary %q: want the sources that trace continuously", sc.traces)
	}
	for i, s := range servers {
		if s.Overlaps.Load() != 0 {
			t.Errorf("agent %d: %d tests posted while the same test still ran", i, s.Overlaps.Load())
		}
	}
}

// scheduleSeen keeps what the loop said of its schedule while a test ran: the first
// "behind" once every source had a pass, and the last trace note.
type scheduleSeen struct{ behind, traces string }

func (sc *scheduleSeen) see(st Stats, sources int) {
	if st.Passes >= uint64(sources) && st.IsBehind() && sc.behind == "" {
		sc.behind = st.Summary()
	}
	if s := st.TraceSummary(); s != "" {
		sc.traces = s
	}
}
