package mesh

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultKeep is how many sweeps the live store keeps per pair (--keep).
const DefaultKeep = 360

// Store keeps the live history: a bounded ring of samples and of traces per PoP pair,
// and the agents' latest states. It is safe for concurrent use: the sweeper adds while
// the UI reads. Cells are recomputed when their pair changes, never on read, so building
// a Matrix costs a map copy.
type Store struct {
	mu      sync.Mutex
	keep    int
	pings   map[Pair]*ring[Sample]
	traces  map[Pair]*ring[TraceResult]
	cells   map[Pair]*Cell
	errs    map[Pair]string
	agents  map[string]AgentStatus
	pops    map[string]bool
	last    time.Time
	version uint64
}

// NewStore keeps at most keep sweeps per pair (DefaultKeep when keep <= 0).
func NewStore(keep int) *Store {
	if keep <= 0 {
		keep = DefaultKeep
	}
	return &Store{
		keep:   keep,
		pings:  map[Pair]*ring[Sample]{},
		traces: map[Pair]*ring[TraceResult]{},
		cells:  map[Pair]*Cell{},
		errs:   map[Pair]string{},
		agents: map[string]AgentStatus{},
		pops:   map[string]bool{},
	}
}

// Version changes whenever the store does; a view compares it to skip rebuilding.
func (s *Store) Version() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version
}

// SetAgents records the agents and their states (replacing earlier ones).
func (s *Store) SetAgents(as []AgentStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.agents = make(map[string]AgentStatus, len(as))
	for _, a := range as {
		s.agents[a.Name] = a
		s.pops[a.Pop] = true
	}
	s.version++
}

// SetAgent updates one agent's state.
func (s *Store) SetAgent(a AgentStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.agents[a.Name] = a
	s.pops[a.Pop] = true
	s.version++
}

// AddPing adds one agent-pair result of the sweep that started at r.Time. Results of the
// same sweep and PoP pair (a PoP with several agents) are folded into one sample.
func (s *Store) AddPing(r PingResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := Pair{r.SrcPop, r.DstPop}
	s.pops[r.SrcPop] = true
	if r.DstPop != UnknownPop {
		s.pops[r.DstPop] = true
	}
	s.version++
	if !r.Measured() {
		s.errs[p] = r.Err
		s.recompute(p)
		return
	}
	delete(s.errs, p)
	rg := s.pings[p]
	if rg == nil {
		rg = newRing[Sample](s.keep)
		s.pings[p] = rg
	}
	if last, ok := rg.last(); ok && last.Time.Equal(r.Time) {
		merged, _ := FoldResults(r.Time, append(slices.Clone(last.Results), r))
		rg.setLast(merged)
	} else {
		smp, _ := FoldResults(r.Time, []PingResult{r})
		rg.push(smp)
	}
	if r.Time.After(s.last) {
		s.last = r.Time
	}
	s.recompute(p)
}

// AddTrace adds one traceroute result.
func (s *Store) AddTrace(r TraceResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := Pair{r.SrcPop, r.DstPop}
	rg := s.traces[p]
	if rg == nil {
		rg = newRing[TraceResult](s.keep)
		s.traces[p] = rg
	}
	rg.push(r)
	s.version++
}

// recompute replaces the pair's cell with a new one (copy-on-write: matrices handed out
// earlier keep the old cell).
func (s *Store) recompute(p Pair) {
	var c Cell
	if rg := s.pings[p]; rg != nil {
		c = ReduceSamples(rg.items())
	} else {
		c = EmptyCell()
	}
	c.Err = s.errs[p]
	s.cells[p] = &c
}

// Matrix snapshots the store.
func (s *Store) Matrix() *Matrix {
	s.mu.Lock()
	defer s.mu.Unlock()
	cells := make(map[Pair]*Cell, len(s.cells))
	for p, c := range s.cells {
		cells[p] = c
	}
	pops := make([]string, 0, len(s.pops))
	for p := range s.pops {
		pops = append(pops, p)
	}
	agents := make([]AgentStatus, 0, len(s.agents))
	for _, a := range s.agents {
		agents = append(agents, a)
	}
	slices.SortFunc(agents, func(a, b AgentStatus) int {
		if a.Pop != b.Pop {
			return strings.Compare(a.Pop, b.Pop)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return NewMatrix(s.last, "live", pops, agents, cells)
}

// History returns the pair's samples in time order.
func (s *Store) History(src, dst string) []Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rg := s.pings[Pair{src, dst}]; rg != nil {
		return rg.items()
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

// items copies the contents out, oldest first.
func (r *ring[T]) items() []T {
	out := make([]T, r.n)
	for i := range r.n {
		out[i] = r.buf[(r.start+i)%len(r.buf)]
	}
	return out
}
