package tui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/meshtop/meshtop/mesh"
)

// DataChangedMsg tells the UI that the source has new data (live: a result arrived). The
// UI re-reads the source at most every refetchDelay, however many arrive.
type DataChangedMsg struct{}

// SweepStartedMsg marks the start of a live sweep of total tests.
type SweepStartedMsg struct {
	Total int
}

// ProgressMsg counts finished tests of the running sweep.
type ProgressMsg struct{ Done, Total int }

// AgentsMsg says how many agents the live mesh has now (re-discovery changed it).
type AgentsMsg struct{ N int }

// SweepDoneMsg marks the end of a live sweep.
type SweepDoneMsg struct {
	Time   time.Time
	Agents []mesh.AgentStatus
}

// ScheduleMsg says whether live sweeps keep to their interval: Behind is "" while the
// pings do, else a one-line account (how long a full sweep takes, how old pairs get);
// Traces likewise for traceroutes, which run on their own clock and are only noted
// (slow ones run on past their interval without holding anything back).
type ScheduleMsg struct{ Behind, Traces string }

// RecordStatusMsg reports the InfluxDB recorder's state (--record).
type RecordStatusMsg struct {
	Backlog int
	Dropped int64
	Err     string
}

// SourceErrMsg reports a failure of the feed itself (e.g. discovery).
type SourceErrMsg struct{ Err error }

// matrixMsg carries a freshly read matrix; quick marks one without p95 values.
// superseded is set by the root on a quick matrix that arrives after a full one: the
// grid keeps the full one.
type matrixMsg struct {
	m          *mesh.Matrix
	err        error
	quick      bool
	superseded bool
}

// openPairMsg asks the root to drill down into src→dst (the grid sends it on enter or a
// click on the selected cell).
type openPairMsg struct{ src, dst string }

// detailMsg carries the data of a drill-down.
type detailMsg struct {
	src, dst       string
	fwd, rev       []mesh.Sample
	fwdTr, revTr   []mesh.TraceResult
	err            error
	requestedAtGen int
}

// refreshTickMsg re-reads the source (history mode).
type refreshTickMsg struct{}

const refetchDelay = 100 * time.Millisecond

// contextWithReadTimeout is a read's context: quitting cancels it, and there is no
// deadline of its own below the user's (a wide history window can take minutes; a
// source bounds its own requests, InfluxDB by --influx-timeout).
func contextWithReadTimeout(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithCancel(parent)
}

// fetchMatrix reads the whole matrix under the program's context.
func fetchMatrix(parent context.Context, src Source) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := contextWithReadTimeout(parent)
		defer cancel()
		m, err := src.Matrix(ctx)
		return matrixMsg{m: m, err: err}
	}
}

// fetchQuickMatrix reads the cheap first matrix (no p95).
func fetchQuickMatrix(parent context.Context, src QuickSource) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := contextWithReadTimeout(parent)
		defer cancel()
		m, err := src.QuickMatrix(ctx)
		return matrixMsg{m: m, err: err, quick: true}
	}
}

// fetchDetail reads both directions of a pair for the drill-down.
func fetchDetail(parent context.Context, src Source, a, b string, points, gen int) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := contextWithReadTimeout(parent)
		defer cancel()
		r, err := readPair(ctx, src, a, b, points, true)
		return detailMsg{src: a, dst: b, requestedAtGen: gen, fwd: r.fwd, rev: r.rev, fwdTr: r.fwdTr, revTr: r.revTr, err: err}
	}
}

// pairRead is both directions of a pair: samples and traces.
type pairRead struct {
	fwd, rev     []mesh.Sample
	fwdTr, revTr []mesh.TraceResult
}

// readPair reads both directions of a pair a⇄b: samples in at most points buckets, with
// each test's probes filed in when probes is set (the drill-down's Packet rows; see
// readProbes), and traces. The first error ends it.
func readPair(ctx context.Context, src Source, a, b string, points int, probes bool) (pairRead, error) {
	var r pairRead
	var err error
	if r.fwd, err = src.PairHistory(ctx, a, b, points); err != nil {
		return r, err
	}
	if r.rev, err = src.PairHistory(ctx, b, a, points); err != nil {
		return r, err
	}
	if probes {
		if r.fwd, err = readProbes(ctx, src, a, b, r.fwd); err != nil {
			return r, err
		}
		if r.rev, err = readProbes(ctx, src, b, a, r.rev); err != nil {
			return r, err
		}
	}
	if r.fwdTr, err = src.PairTraces(ctx, a, b); err != nil {
		return r, err
	}
	r.revTr, err = src.PairTraces(ctx, b, a)
	return r, err
}
