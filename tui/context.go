package tui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/meshtop/meshtop/mesh"
)

// uiContext is what every sub-model shares, by pointer (like soft-serve's common.Common
// or gh-dash's ProgramContext): configuration, styles, key bindings, the source and
// what it can do, the program's context and the terminal's size. The root model owns
// it; sub-models read it and never replace it.
type uiContext struct {
	cfg    Config
	st     *styles
	keys   keyMap
	src    Source
	caps   Capabilities
	ctx    context.Context
	cancel context.CancelFunc // quitting cancels every read in flight
	// width and height of the terminal.
	width, height int
	// agents is when each agent went down and came back, as seen in successive
	// matrices (the root observes each one before the screens get it): the drill-down
	// and the grid's pair chart tell it.
	agents *agentLog
	// cells is the grid's newest matrix of values (not a delta grid; nil in one): the
	// drill-down's and the pair chart's mean and p95 are its cell's, the grid's.
	cells *mesh.Matrix
	// panelDelay: the cursor rests this long before the panel reads the pair's history
	// (tests set 0: read at once).
	panelDelay time.Duration
}

func newUIContext(src Source, cfg Config) *uiContext {
	cfg.defaults()
	st := newStyles(cfg.Palette, cfg.NoColor)
	ctx, cancel := context.WithCancel(cfg.Context)
	caps := capabilitiesOf(src)
	return &uiContext{cfg: cfg, st: &st, keys: newKeyMap(caps), src: src, caps: caps, ctx: ctx, cancel: cancel,
		width: 80, height: 24, panelDelay: panelDelay, agents: &agentLog{}}
}

// component is the method set every sub-model (grid, detail, status, help) has. Each
// handles its own messages and keys in Update and keeps its invariants in its own file;
// View returns the rendering cached by Update and SetSize (no work in View).
type component interface {
	Update(msg tea.Msg) tea.Cmd
	View() string
	SetSize(width, height int)
}

var (
	_ component = (*gridModel)(nil)
	_ component = (*detailModel)(nil)
	_ component = (*statusModel)(nil)
	_ component = (*helpModel)(nil)
)
