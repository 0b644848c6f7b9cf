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
	mu      sync.Mutex
	keep    int
	kcap    int // top values kept per metric for max and p95
	pings   map[Pair]*series
	traces  map[Pair]*ring[TraceResult]
	agents  map[string]AgentStatus
	pops    map[string]bool
	last    time.Time
	version uint64

	// rows[src][dst] are the cells as of the last Matrix; dirty pairs changed since.
	// A row in shared is referenced by a published matrix and is copied before a change.
	rows   map[string]map[string]*Cell
	shared map[string]bool
	dirty  []*series
}

// NewStore keeps at most keep sweeps per pair (DefaultKeep when keep <= 0).
func NewStore(keep int) *Store {
	if keep <= 0 {
		keep = DefaultKeep
	}
	return &Store{
		keep:   keep,
		kcap:   topNeeded(keep, 95),
		pings:  map[Pair]*series{},
		traces: map[Pair]*ring[TraceResult]{},
		agents: map[string]AgentStatus{},
		pops:   map[string]bool{},
		rows:   map[string]map[string]*Cell{},
		shared: map[string]bool{},
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
	ser := s.pings[p]
	if ser == nil {
		ser = newSeries(p, s.keep, s.kcap)
		s.pings[p] = ser
	}
	defer s.changed(ser)
	if !r.Measured() {
		ser.err = r.Err
		return
	}
	ser.err = ""
	if ser.n > 0 && ser.lastNs == r.Time.UnixNano() {
		merged, _ := FoldResults(r.Time, append(slices.Clone(ser.last.Results), r))
		ser.replaceLast(merged)
	} else {
		smp, _ := FoldResults(r.Time, []PingResult{r})
		ser.push(smp)
	}
	if r.Time.After(s.last) {
		s.last = r.Time
	}
}

// changed rebuilds the pair's cell while its data is at hand (O(1): the window
// statistics are kept up to date) and queues it for the next Matrix. The new cell is a
// new object: matrices handed out earlier keep the old one.
func (s *Store) changed(ser *series) {
	c := new(Cell)
	ser.cellInto(c)
	ser.cell = c
	if !ser.dirty {
		ser.dirty = true
		s.dirty = append(s.dirty, ser)
	}
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
			row = s.rows[src]
			if row == nil || s.shared[src] {
				row = maps.Clone(row)
				if row == nil {
					row = map[string]*Cell{}
				}
				s.rows[src] = row
				delete(s.shared, src)
			}
		}
		row[ser.pair.Dst] = ser.cell
	}
	clear(s.dirty)
	s.dirty = s.dirty[:0]
	rows := maps.Clone(s.rows)
	for src := range rows {
		s.shared[src] = true
	}
	pops := slices.Collect(maps.Keys(s.pops))
	agents := slices.Collect(maps.Values(s.agents))
	slices.SortFunc(agents, func(a, b AgentStatus) int {
		if a.Pop != b.Pop {
			return strings.Compare(a.Pop, b.Pop)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return newRowMatrix(s.last, "live", pops, agents, rows)
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

// items copies the contents out, oldest first.
func (r *ring[T]) items() []T {
	out := make([]T, r.n)
	for i := range r.n {
		out[i] = r.buf[(r.start+i)%len(r.buf)]
	}
	return out
}
