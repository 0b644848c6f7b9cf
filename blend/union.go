package blend

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// Union is a sharded collector's view of the whole mesh: the pairs whose source PoP it
// runs come from its store, every other pair from InfluxDB, where the other collectors
// record theirs. It reads the newest test of every pair once an interval (Run); the
// grid's stale mark shows how old those values are.
type Union struct {
	// Read returns the newest test of every pair (influx.Reader.NewestMatrix).
	Read func(ctx context.Context) (*mesh.Matrix, error)
	// Owns reports whether this collector measures the pairs of source PoP pop.
	Owns func(pop string) bool
	// Report, when set, is told when reads start failing (once, not every interval).
	Report func(error)
	// Changed, when set, is called after each read that worked, so viewers re-read the
	// grid without waiting for the next sweep (live.Feed.Changed).
	Changed func()

	mu    sync.Mutex
	other *others
	err   error
	// cache is the last blend: the grid re-reads the matrix more often than the store or
	// the other shards change, and a 300-PoP blend costs a map of 89,700 cells.
	cache struct {
		version uint64
		other   *others
		m       *mesh.Matrix
	}
}

// others is one read of the other shards' pairs, ready to merge.
type others struct {
	cells map[mesh.Pair]*mesh.Cell
	pops  []string
	time  time.Time
}

// UnionSource names a blended matrix: the live store's with other collectors' pairs.
const UnionSource = "live+shards"

// Refresh reads the other shards' newest values once. A failed read keeps the last good
// values (their age keeps growing on the grid) and is returned.
func (u *Union) Refresh(ctx context.Context) error {
	m, err := u.Read(ctx)
	var o *others
	if err == nil {
		o = othersOf(m, u.Owns)
	}
	u.mu.Lock()
	was := u.err
	u.err = err
	if err == nil {
		u.other = o
	}
	u.mu.Unlock()
	if err != nil && was == nil && u.Report != nil {
		u.Report(fmt.Errorf("the other shards' pairs from InfluxDB (showing the last read): %w", err))
	}
	if err == nil && u.Changed != nil {
		u.Changed()
	}
	return err
}

// Err is the newest read's error (nil after one that worked).
func (u *Union) Err() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.err
}

// Run refreshes at once and then every interval until ctx ends.
func (u *Union) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		_ = u.Refresh(ctx) // Err and Report say; the grid keeps the last good values
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Blend is the live matrix with the other shards' pairs added; live itself before the
// first read. version is the store's version of live (mesh.Store.Version): the same
// version and read give the same matrix, built once.
func (u *Union) Blend(live *mesh.Matrix, version uint64) *mesh.Matrix {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.other == nil || u.Owns == nil {
		return live
	}
	if c := &u.cache; c.m != nil && c.version == version && c.other == u.other {
		return c.m
	}
	m := merge(live, u.other, u.Owns)
	u.cache.version, u.cache.other, u.cache.m = version, u.other, m
	return m
}

// Merge takes the pairs of the source PoPs owns accepts from live and every other pair
// from other. The other collectors' cells hold their newest test only, so every stat of
// such a cell shows it (one test's mean, max and p95 are its value). Agent states (the
// DOWN rows) are this collector's: it knows nothing of the others' agents.
func Merge(live, other *mesh.Matrix, owns func(pop string) bool) *mesh.Matrix {
	if other == nil || owns == nil {
		return live
	}
	return merge(live, othersOf(other, owns), owns)
}

// othersOf keeps the pairs of the source PoPs this collector does not run.
func othersOf(m *mesh.Matrix, owns func(pop string) bool) *others {
	o := &others{cells: map[mesh.Pair]*mesh.Cell{}, pops: m.Pops}
	for _, a := range m.Pops {
		if owns(a) {
			continue
		}
		for _, b := range m.Pops {
			c := m.Cell(a, b)
			if c == nil {
				continue
			}
			o.cells[mesh.Pair{Src: a, Dst: b}] = newestOnly(c)
			if c.Last.Time.After(o.time) {
				o.time = c.Last.Time
			}
		}
	}
	return o
}

func merge(live *mesh.Matrix, o *others, owns func(pop string) bool) *mesh.Matrix {
	cells := make(map[mesh.Pair]*mesh.Cell, len(o.cells)+len(live.Pops)*len(live.Pops)/2)
	set := make(map[string]bool, len(live.Pops)+len(o.pops))
	for _, a := range live.Pops {
		set[a] = true
		if !owns(a) {
			continue
		}
		for _, b := range live.Pops {
			if c := live.Cell(a, b); c != nil {
				cells[mesh.Pair{Src: a, Dst: b}] = c
			}
		}
	}
	for p, c := range o.cells {
		cells[p] = c
	}
	for _, p := range o.pops {
		set[p] = true
	}
	t := live.Time
	if o.time.After(t) {
		t = o.time
	}
	pops := make([]string, 0, len(set))
	for p := range set {
		pops = append(pops, p)
	}
	m := mesh.NewMatrix(t, UnionSource, pops, live.Agents, cells)
	// The events are this collector's store's (the others' are in their own logs).
	m.Events, m.TellsEvents = live.Events, live.TellsEvents
	return m
}

// newestOnly is a copy of an other collector's cell with its newest test under every stat.
func newestOnly(c *mesh.Cell) *mesh.Cell {
	n := *c
	for m := range n.Values {
		for st := range n.Values[m] {
			n.Values[m][st] = c.Values[m][mesh.Last]
		}
	}
	for st := range n.Failed {
		n.Failed[st] = c.Failed[mesh.Last]
	}
	return &n
}
