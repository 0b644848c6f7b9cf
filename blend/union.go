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

	mu    sync.Mutex
	other *mesh.Matrix
	err   error
}

// UnionSource names a blended matrix: the live store's with other collectors' pairs.
const UnionSource = "live+shards"

// Refresh reads the other shards' newest values once. A failed read keeps the last good
// values (their age keeps growing on the grid) and is returned.
func (u *Union) Refresh(ctx context.Context) error {
	m, err := u.Read(ctx)
	u.mu.Lock()
	was := u.err
	u.err = err
	if err == nil {
		u.other = m
	}
	u.mu.Unlock()
	if err != nil && was == nil && u.Report != nil {
		u.Report(fmt.Errorf("the other shards' pairs from InfluxDB (showing the last read): %w", err))
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
		_ = u.Refresh(ctx) // Err says; the grid keeps the last good values
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Blend is the live matrix with the other shards' pairs added; live without any read yet.
func (u *Union) Blend(live *mesh.Matrix) *mesh.Matrix {
	u.mu.Lock()
	other := u.other
	u.mu.Unlock()
	return Merge(live, other, u.Owns)
}

// Merge takes the pairs of the source PoPs owns accepts from live and every other pair
// from other. The other collectors' cells hold their newest test only, so every stat of
// such a cell shows it (one test's mean, max and p95 are its value). Agent states (the
// DOWN rows) are this collector's: it knows nothing of the others' agents.
func Merge(live, other *mesh.Matrix, owns func(pop string) bool) *mesh.Matrix {
	if other == nil || owns == nil {
		return live
	}
	cells := map[mesh.Pair]*mesh.Cell{}
	set := map[string]bool{}
	t := live.Time
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
	for _, a := range other.Pops {
		set[a] = true
		if owns(a) {
			continue
		}
		for _, b := range other.Pops {
			c := other.Cell(a, b)
			if c == nil {
				continue
			}
			cells[mesh.Pair{Src: a, Dst: b}] = newestOnly(c)
			if c.Last.Time.After(t) {
				t = c.Last.Time
			}
		}
	}
	pops := make([]string, 0, len(set))
	for p := range set {
		pops = append(pops, p)
	}
	return mesh.NewMatrix(t, UnionSource, pops, live.Agents, cells)
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
