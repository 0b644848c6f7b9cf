// Package tui is meshtop's terminal UI: a PoP-by-PoP grid coloured by thresholds, a
// drill-down into one pair (both directions), a status bar and help, as Bubble Tea v2
// sub-models. It renders whatever a Source gives it: live sweeps (StoreSource) or
// InfluxDB history.
package tui

import (
	"context"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// Source feeds the UI. Calls run in tea.Cmds, never in View.
type Source interface {
	// Name is "live" or "influx", shown in the status bar.
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

// StoreSource serves the live store.
type StoreSource struct{ Store *mesh.Store }

// Name implements Source.
func (StoreSource) Name() string { return "live" }

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

// Palette names.
const (
	PaletteDefault    = "default"
	PaletteColorblind = "colorblind"
)

// Config shapes the UI.
type Config struct {
	Thresholds map[mesh.Metric]mesh.Thresholds // nil: mesh.DefaultThresholds()
	Metric     mesh.Metric
	Stat       mesh.Stat
	Palette    string // PaletteDefault or PaletteColorblind
	NoColor    bool   // NO_COLOR: states carried by text markers alone
	// Confirm is how many successive sweeps must agree before a cell changes colour
	// (hysteresis); 0 or 1 shows every change at once.
	Confirm int
	// Refresh re-reads the source on this interval (history mode); 0 = only when told.
	Refresh time.Duration
	// SweepNow asks the live loop for an immediate sweep (`r`); nil when not live.
	SweepNow func()
	// Window describes the data window for the status bar, e.g. "last 360 sweeps", "1h".
	Window string
	// Range is history's first time range (HistorySource); zero Window: 1h.
	Range TimeRange
	// Now is the clock (tests pin it for stable golden views).
	Now func() time.Time
}

func (c *Config) defaults() {
	if c.Thresholds == nil {
		c.Thresholds = mesh.DefaultThresholds()
	}
	if c.Palette == "" {
		c.Palette = PaletteDefault
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}
