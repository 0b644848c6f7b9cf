// Package tui is meshtop's terminal UI: a PoP-by-PoP grid coloured by thresholds, a
// drill-down into one pair (both directions), a status bar and help, as Bubble Tea v2
// sub-models. It renders whatever a Source gives it: live sweeps (StoreSource) or
// InfluxDB history.
package tui

import (
	"context"

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
