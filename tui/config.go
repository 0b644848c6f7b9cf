package tui

import (
	"context"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// Palette names.
const (
	PaletteDefault    = "default"
	PaletteColorblind = "colorblind"
)

// Config shapes the UI.
type Config struct {
	// Context is the program's context: every read of the source runs under it, and
	// quitting the UI cancels it. nil: context.Background().
	Context    context.Context
	Thresholds map[mesh.Metric]mesh.Thresholds // nil: mesh.DefaultThresholds()
	// View is what the grid shows first: the zero value is health (the worst of
	// latency, jitter ms and loss), else one metric; m cycles through mesh.Views.
	View    mesh.View
	Stat    mesh.Stat
	Palette string // PaletteDefault or PaletteColorblind
	NoColor bool   // NO_COLOR: states carried by text markers alone
	// Confirm is how many successive tests must agree before latency or jitter changes
	// colour (hysteresis); 0 or 1 shows every change at once. The live store judges
	// with it (mesh.Judgement); the UI itself only for a source that does not judge
	// (history).
	Confirm int
	// NoLossHysteresis: loss changes colour test by test rather than on evidence
	// (mesh.Judgement; history's drill-down timeline).
	NoLossHysteresis bool
	// Interval is how often the source measures (live: --interval); a cell whose newest
	// test is older than two intervals is stale: it loses its colour and shows its age
	// (unknown now). 0: never stale.
	Interval time.Duration
	// Refresh re-reads the source on this interval (history mode); 0 = only when told.
	Refresh time.Duration
	// Window describes the data window for the status bar, e.g. "last 360 sweeps", "1h".
	Window string
	// Agents, when not 0, is how many agents a live mesh has; the status bar says it
	// before Window and follows AgentsMsg (re-discovery adds and removes agents).
	Agents int
	// Range is history's first time range (HistorySource, see timerange.go); zero
	// Window: 1h.
	Range TimeRange
	// Now is the clock (tests pin it for stable golden views).
	Now func() time.Time
}

func (c *Config) defaults() {
	if c.Context == nil {
		c.Context = context.Background()
	}
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
