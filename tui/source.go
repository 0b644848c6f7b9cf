// Package tui is meshtop's terminal UI: a PoP-by-PoP grid coloured by thresholds, a
// drill-down into one pair (both directions), a status bar and help, as Bubble Tea v2
// sub-models. It renders whatever a Source gives it: live sweeps (StoreSource) or
// InfluxDB history.
package tui

import (
	"context"
	"slices"

	"github.com/meshtop/meshtop/mesh"
)

// Source feeds the UI. Calls run in tea.Cmds, never in View, with the program's context:
// quitting cancels them.
type Source interface {
	// Name is "live" or "influx", shown in the status bar; it decides nothing (see
	// Capabilities).
	Name() string
	Matrix(ctx context.Context) (*mesh.Matrix, error)
	// PairHistory returns src→dst samples over the window, at most maxPoints, in time order.
	PairHistory(ctx context.Context, src, dst string, maxPoints int) ([]mesh.Sample, error)
	// PairTraces returns src→dst traceroutes over the window in time order.
	PairTraces(ctx context.Context, src, dst string) ([]mesh.TraceResult, error)
}

// QuickSource is a Source that can give a cheaper first matrix. InfluxDB history
// leaves out the p95 aggregates, which are most of the query on a large window; the
// full matrix follows.
type QuickSource interface {
	QuickMatrix(ctx context.Context) (*mesh.Matrix, error)
}

// Capabilities says what a source can do, so no view guesses it from the source's name.
type Capabilities struct {
	// Sweeps: data arrives sweep by sweep as it is measured (progress, "last sweep",
	// agent states: a DOWN row is possible).
	Sweeps bool
	// SweepNow: `r` asks for a sweep at once (the source is a SweepNower); otherwise `r`
	// re-reads the source.
	SweepNow bool
}

// CapabilitySource is a Source that says what it can do. A Source without it is read as
// history: no sweeps, no sweep-now.
type CapabilitySource interface {
	Capabilities() Capabilities
}

// SweepNower is a Source that can be asked for an immediate sweep (`r`).
type SweepNower interface {
	SweepNow()
}

// capabilitiesOf asks a source what it can do.
func capabilitiesOf(src Source) Capabilities {
	if cs, ok := src.(CapabilitySource); ok {
		c := cs.Capabilities()
		if _, ok := src.(SweepNower); !ok {
			c.SweepNow = false
		}
		return c
	}
	return Capabilities{}
}

// RouteChangeSource is a Source that can list the mesh's confirmed route changes (the
// grid's panel shows them among its events). It is read after each sweep, a slice of the
// pairs at a time, so a 300-PoP mesh costs a bounded amount per sweep.
type RouteChangeSource interface {
	// MeshRouteChanges lists the route changes confirmed within the newest traces of at
	// most max pairs, starting at pair index from (row-major over the matrix's PoPs), in
	// time order; next is where the following call goes on (0 after the last pair).
	MeshRouteChanges(ctx context.Context, from, max int) (changes []mesh.RouteChange, next int, err error)
}

// StoreSource serves the live store.
type StoreSource struct {
	Store *mesh.Store
	// Sweep asks the live loop for an immediate sweep (`r`); nil: `r` only re-reads.
	Sweep func()
}

// Name implements Source.
func (StoreSource) Name() string { return "live" }

// Capabilities implements CapabilitySource.
func (s StoreSource) Capabilities() Capabilities {
	return Capabilities{Sweeps: true, SweepNow: s.Sweep != nil}
}

// SweepNow implements SweepNower.
func (s StoreSource) SweepNow() {
	if s.Sweep != nil {
		s.Sweep()
	}
}

// Matrix implements Source.
func (s StoreSource) Matrix(context.Context) (*mesh.Matrix, error) { return s.Store.Matrix(), nil }

// PairHistory implements Source; it returns the newest maxPoints samples (the chart
// buckets them further to its width).
func (s StoreSource) PairHistory(_ context.Context, src, dst string, maxPoints int) ([]mesh.Sample, error) {
	h := s.Store.History(src, dst)
	if maxPoints > 0 && len(h) > maxPoints*4 {
		h = h[len(h)-maxPoints*4:]
	}
	return h, nil
}

// PairTraces implements Source.
func (s StoreSource) PairTraces(_ context.Context, src, dst string) ([]mesh.TraceResult, error) {
	return s.Store.Traces(src, dst), nil
}

// routeTail is how many of a pair's newest traces are searched for a route change: enough
// to see one confirmed since the last look (a pair gets a trace or two between sweeps).
const routeTail = 8

// MeshRouteChanges implements RouteChangeSource.
func (s StoreSource) MeshRouteChanges(ctx context.Context, from, limit int) ([]mesh.RouteChange, int, error) {
	pops := s.Store.Matrix().Pops
	n := len(pops)
	if from < 0 || from >= n*n {
		from = 0
	}
	var out []mesh.RouteChange
	i := from
	for ; i < n*n && i-from < limit; i++ {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, 0, err
			}
		}
		a, b := pops[i/n], pops[i%n]
		if a == b {
			continue
		}
		tr := s.Store.Traces(a, b)
		if len(tr) < 3 {
			continue
		}
		out = append(out, mesh.RouteChanges(tr[max(0, len(tr)-routeTail):])...)
	}
	if i >= n*n {
		i = 0
	}
	slices.SortStableFunc(out, func(x, y mesh.RouteChange) int { return x.Time.Compare(y.Time) })
	return out, i, nil
}
