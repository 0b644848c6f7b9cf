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
	Total      int
	Traceroute bool
}

// ProgressMsg counts finished tests of the running sweep.
type ProgressMsg struct{ Done, Total int }

// SweepDoneMsg marks the end of a live sweep.
type SweepDoneMsg struct {
	Time   time.Time
	Agents []mesh.AgentStatus
}

// RecordStatusMsg reports the InfluxDB recorder's state (--record).
type RecordStatusMsg struct {
	Backlog int
	Dropped int64
	Err     string
}

// SourceErrMsg reports a failure of the feed itself (e.g. discovery).
type SourceErrMsg struct{ Err error }

// matrixMsg carries a freshly read matrix; quick marks one without p95 values.
type matrixMsg struct {
	m     *mesh.Matrix
	err   error
	quick bool
}

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

// readCtx is a read's context: no deadline of its own below the user's (a wide history
// window can take minutes; a source bounds its own requests by --influx-timeout).
func readCtx(timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout > 0 {
		return context.WithTimeout(context.Background(), timeout)
	}
	return context.WithCancel(context.Background())
}

func fetchMatrix(src Source) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := readCtx(0)
		defer cancel()
		m, err := src.Matrix(ctx)
		return matrixMsg{m: m, err: err}
	}
}

func fetchQuickMatrix(src QuickSource) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := readCtx(0)
		defer cancel()
		m, err := src.QuickMatrix(ctx)
		return matrixMsg{m: m, err: err, quick: true}
	}
}

func fetchDetail(src Source, a, b string, points, gen int) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := readCtx(0)
		defer cancel()
		msg := detailMsg{src: a, dst: b, requestedAtGen: gen}
		var err error
		if msg.fwd, err = src.PairHistory(ctx, a, b, points); err != nil {
			msg.err = err
			return msg
		}
		if msg.rev, err = src.PairHistory(ctx, b, a, points); err != nil {
			msg.err = err
			return msg
		}
		if msg.fwdTr, err = src.PairTraces(ctx, a, b); err != nil {
			msg.err = err
			return msg
		}
		msg.revTr, msg.err = src.PairTraces(ctx, b, a)
		return msg
	}
}
