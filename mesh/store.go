package mesh

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultKeep is how many sweeps the live store keeps per pair (--keep).
const DefaultKeep = 360

// Store keeps the live history: per PoP pair a compact ring of samples (series.go) and
// a ring of traces, and the agents' latest states. It is safe for concurrent use: the
// sweeper adds while the UI reads.
//
// Adding is cheap and reading is cheaper: an add updates the pair's running window
// statistics (winstats.go) and rebuilds the pair's cell from them in O(1); Matrix puts
// the cells changed since the last read into rows of cells that are shared with the
// matrices handed out until the store changes them (copy-on-write per row).
type Store struct {
	mu     sync.Mutex
	keep   int
	kcap   int // top values kept per metric for max and p95
	pings  map[Pair]*series
	traces map[Pair]*ring[TraceResult]
	// paths[src][dst]: the transit hops of each pair's newest measured trace, handed
	// to matrices as the cells are.
	paths   cowRows[[]Hop]
	agents  map[string]AgentStatus
	pops    map[string]bool
	last    time.Time
	version uint64

	// rows[src][dst] are the cells as of the last Matrix; dirty pairs changed since.
	rows  cowRows[*Cell]
	dirty []*series

	// The judgement of every pair as its tests arrive, and the events it tells
	// (judge.go, store_events.go).
	judgement Judgement
	lossBuf   []intCount
	popAgents map[string]int // agents per PoP: how many results make a pair's sweep whole
	events    []Event        // the newest told, oldest first; matrices share it
	evCap     int
	evSeq     uint64
	outbox    []Event // told under mu, handed to sink after it
	sink      func(Event)
	sinkMu    sync.Mutex
	routeTold map[routeKey]time.Time
	now       func() time.Time
}

// NewStore keeps at most keep sweeps per pair (DefaultKeep when keep <= 0).
func NewStore(keep int) *Store {
	if keep <= 0 {
		keep = DefaultKeep
	}
	return &Store{
		keep:      keep,
		kcap:      topNeeded(keep, 95),
		pings:     map[Pair]*series{},
		traces:    map[Pair]*ring[TraceResult]{},
		paths:     newCowRows[[]Hop](),
		agents:    map[string]AgentStatus{},
		pops:      map[string]bool{},
		rows:      newCowRows[*Cell](),
		popAgents: map[string]int{},
		evCap:     DefaultEventCapacity,
		routeTold: map[routeKey]time.Time{},
		now:       time.Now,
	}
}

// Version changes whenever the store does; a view compares it to skip rebuilding.
func (s *Store) Version() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version
}

// SetAgents records the agents and their states (replacing earlier ones); an agent
// that went down or came back is an event.
func (s *Store) SetAgents(as []AgentStatus) {
	s.mu.Lock()
	defer s.unlock()
	old := s.agents
	s.agents = make(map[string]AgentStatus, len(as))
	for _, a := range as {
		s.agentChanged(old, a)
		s.agents[a.Name] = a
		s.pops[a.Pop] = true
	}
	s.countPopAgents()
	s.version++
}

// SetAgent updates one agent's state.
func (s *Store) SetAgent(a AgentStatus) {
	s.mu.Lock()
	defer s.unlock()
	s.agentChanged(s.agents, a)
	_, known := s.agents[a.Name]
	s.agents[a.Name] = a
	s.pops[a.Pop] = true
	if !known {
		s.countPopAgents()
	}
	s.version++
}

// AddPing adds one agent-pair result of the sweep that started at r.Time. Results of the
// same sweep and PoP pair (a PoP with several agents) are folded into one sample.
//
// Each sample is judged as it arrives (judge.go): the pair's colours under the last
// stat, and the events of their changes, stamped with the test's time. A PoP with
// several agents tells a sample's events once every agent pair's result is in (or the
// next sweep's first arrives).
func (s *Store) AddPing(r PingResult) {
	s.mu.Lock()
	defer s.unlock()
	p := Pair{r.SrcPop, r.DstPop}
	s.pops[r.SrcPop] = true
	if r.DstPop != UnknownPop {
		s.pops[r.DstPop] = true
	}
	s.version++
	ser := s.pings[p]
	if ser == nil {
		ser = newSeries(p, s.keep, s.kcap)
		s.pings[p] = ser
	}
	ns := r.Time.UnixNano()
	if !r.Measured() {
		ser.err = r.Err
		if ser.n > 0 && ser.lastNs == ns {
			ser.arrived++
			s.tellIfWhole(ser)
		}
		s.changed(ser)
		return
	}
	ser.err = ""
	if ser.n > 0 && ser.lastNs == ns {
		merged, _ := FoldResults(r.Time, append(slices.Clone(ser.last.Results), r))
		ser.replaceLast(merged)
		ser.arrived++
		ser.judge(&s.judgement, false, &s.lossBuf)
	} else {
		if ser.n > 0 && ser.toldNs != ser.lastNs {
			s.tell(ser.tell(&s.judgement)) // the sweep before never became whole
		}
		smp, _ := FoldResults(r.Time, []PingResult{r})
		ser.push(smp)
		ser.arrived = 1
		ser.judge(&s.judgement, true, &s.lossBuf)
	}
	s.tellIfWhole(ser)
	if r.Time.After(s.last) {
		s.last = r.Time
	}
	s.changed(ser)
}

// changed rebuilds the pair's cell while its data is at hand (O(1): the window
// statistics are kept up to date) and queues it for the next Matrix. The new cell is a
// new object: matrices handed out earlier keep the old one.
func (s *Store) changed(ser *series) {
	c := new(Cell)
	ser.cellInto(c)
	if ser.n > 0 {
		ser.nowInto(c, &s.judgement)
	}
	ser.cell = c
	if !ser.dirty {
		ser.dirty = true
		s.dirty = append(s.dirty, ser)
	}
}

// AddTrace adds one traceroute result; a route change it confirms is an event.
func (s *Store) AddTrace(r TraceResult) {
	s.mu.Lock()
	defer s.unlock()
	p := Pair{r.SrcPop, r.DstPop}
	rg := s.traces[p]
	if rg == nil {
		rg = newRing[TraceResult](s.keep)
		s.traces[p] = rg
	}
	rg.push(r)
	s.version++
	if r.Measured() {
		s.routeChanged(p, rg)
		if hops := transitHops(r); len(hops) > 0 {
			s.paths.own(p.Src)[p.Dst] = hops
		} else if _, ok := s.paths.rows[p.Src][p.Dst]; ok {
			delete(s.paths.own(p.Src), p.Dst) // straight to the destination now
		}
	}
}

// Matrix snapshots the store. Cells of pairs that changed are rebuilt (copy-on-write:
// matrices handed out earlier keep their cells and rows).
func (s *Store) Matrix() *Matrix {
	s.mu.Lock()
	defer s.mu.Unlock()
	var src string
	var row map[string]*Cell
	for _, ser := range s.dirty {
		ser.dirty = false
		if row == nil || ser.pair.Src != src {
			src = ser.pair.Src
			row = s.rows.own(src)
		}
		row[ser.pair.Dst] = ser.cell
	}
	clear(s.dirty)
	s.dirty = s.dirty[:0]
	rows := s.rows.publish()
	pops := slices.Collect(maps.Keys(s.pops))
	agents := slices.Collect(maps.Values(s.agents))
	slices.SortFunc(agents, func(a, b AgentStatus) int {
		if a.Pop != b.Pop {
			return strings.Compare(a.Pop, b.Pop)
		}
		return strings.Compare(a.Name, b.Name)
	})
	m := newRowMatrix(s.last, "live", pops, agents, rows)
	m.Events, m.TellsEvents = s.events[:len(s.events):len(s.events)], true
	m.Paths = s.paths.publish()
	return m
}

// History returns the pair's samples in time order.
func (s *Store) History(src, dst string) []Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ser := s.pings[Pair{src, dst}]; ser != nil {
		return ser.samples(src, dst)
	}
	return nil
}

// Traces returns the pair's traces in time order.
func (s *Store) Traces(src, dst string) []TraceResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rg := s.traces[Pair{src, dst}]; rg != nil {
		return rg.items()
	}
	return nil
}

// ring is a bounded FIFO that overwrites its oldest item when full.
type ring[T any] struct {
	buf   []T
	start int
	n     int
}

func newRing[T any](capacity int) *ring[T] { return &ring[T]{buf: make([]T, capacity)} }

func (r *ring[T]) push(v T) {
	if r.n < len(r.buf) {
		r.buf[(r.start+r.n)%len(r.buf)] = v
		r.n++
		return
	}
	r.buf[r.start] = v
	r.start = (r.start + 1) % len(r.buf)
}

func (r *ring[T]) last() (T, bool) {
	var zero T
	if r.n == 0 {
		return zero, false
	}
	return r.buf[(r.start+r.n-1)%len(r.buf)], true
}

func (r *ring[T]) setLast(v T) { r.buf[(r.start+r.n-1)%len(r.buf)] = v }

// tail copies the newest k items out, oldest first.
func (r *ring[T]) tail(k int) []T {
	k = min(k, r.n)
	out := make([]T, k)
	for i := range k {
		out[i] = r.buf[(r.start+r.n-k+i)%len(r.buf)]
	}
	return out
}

// items copies the contents out, oldest first.
func (r *ring[T]) items() []T {
	out := make([]T, r.n)
	for i := range r.n {
		out[i] = r.buf[(r.start+i)%len(r.buf)]
	}
	return out
}
