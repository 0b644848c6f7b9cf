package influx

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// Needs narrows a read to what its reader shows (snapshot): one stat of some metrics,
// and perhaps the test counts and each metric's range over the window. The TUI reads
// progressively instead (MatrixSteps), every stat but p95 unless it is on screen.
type Needs struct {
	Stat mesh.Stat
	// Metrics are shown under Stat (nil: every metric).
	Metrics []mesh.Metric
	// Counts: how many tests each pair has (snapshot's samples).
	Counts bool
	// Range: the lowest and highest test RTT over the window (latency's min and max).
	Range bool
}

func (n Needs) metrics() []mesh.Metric {
	if len(n.Metrics) == 0 {
		return mesh.Metrics
	}
	return n.Metrics
}

// ReadNeeds reads the window as the TUI does (the hybrid read with rollups, a rollup
// level for long windows, the raw tests otherwise, text fields raw) but only what n
// needs, each part as a concurrent request, and returns the complete step. The numbers
// are the TUI's: the same statements, the same reductions.
func (r *Reader) ReadNeeds(ctx context.Context, n Needs) (Step, error) {
	t0 := time.Now()
	var last Step
	stringly, err := r.stringMetrics(ctx)
	if err != nil {
		return last, err
	}
	keep := func(s Step) { last = s }
	if stringly {
		// Text fields: one raw read of everything, as the TUI's.
		_, err := r.matrixSteps(ctx, n.Stat, keep)
		return last, err
	}
	ms := n.metrics()
	var p95 []mesh.Metric
	if n.Stat == mesh.P95 {
		p95 = ms
	}
	if h := r.planHybrid(ctx); h != nil {
		// The pieces' sums and extremes of what is shown; the p95 of the shown metrics
		// comes from the histograms.
		covered, stop := coverSteps(ctx, r.At(r.window, h.end), h.usedLevels(), keep, false)
		_, late, err := r.hybridSteps(ctx, h, n.pieceCols(ms), p95, covered)
		stop()
		if err != nil || late == nil {
			return last, err
		}
		// Too many pairs' rollups behind: the raw tests, as the TUI falls back.
		rr := *r
		rr.rollupMode = "raw"
		st, err := rr.ReadNeeds(ctx, n)
		st.Via = fmt.Sprintf("raw (rollup behind for %d pairs, e.g. %s→%s)", len(late), late[0].Src, late[0].Dst)
		return st, err
	}
	rd := newRead(r)
	lvls := rd.pickLevel(ctx)
	step, stop := coverSteps(ctx, r, lvls, keep, true)
	defer stop()
	wrap := func(err error) error { return fmt.Errorf("read the mesh over %s: %w", r.describe(), err) }
	stmts := rd.needStmts(n, ms)
	if err := rd.run(ctx, stmts, false); err != nil {
		return last, wrap(err)
	}
	if n.Stat == mesh.P95 && rd.lvl != nil {
		if err := rd.readHists(ctx, []piece{rd.levelPiece()}, ms); err != nil {
			return last, wrap(err)
		}
		rd.finishHists(ctx, ms)
	}
	if rd.lvl == nil {
		if note := r.rollupAdvice(ctx, time.Since(t0)); note != "" {
			rd.notes = append(rd.notes, note)
		}
	}
	step(rd.step(""))
	return last, nil
}

// needStmts are the statements of a narrowed read, sent all at once: the newest test of
// every pair (it defines the pairs, their newest time and whether it failed), the stat
// of the shown metrics, their min and max when the range is shown, the counts, and the
// implausible-point check over the shown metrics' fields.
func (rd *mread) needStmts(n Needs, ms []mesh.Metric) []stmt {
	var out []stmt
	last := rd.lastStmts()
	out = append(out, last[0]) // last(avg_rtt_ms): its time, and whether it failed
	if n.Stat == mesh.Last {
		out = append(out, last[1])
	}
	switch {
	case n.Stat == mesh.Last:
	case n.Stat == mesh.P95 && rd.lvl != nil:
		// From the histograms, inside each pair's min and max (read below).
	default:
		out = append(out, rd.statStmtsOf(ms, n.Stat)...)
	}
	// The range: latency's, or every shown metric's where a rollup's p95 is kept inside
	// it (readHists).
	var ranged []mesh.Metric
	switch {
	case n.Stat == mesh.P95 && rd.lvl != nil:
		ranged = ms
	case n.Range:
		ranged = []mesh.Metric{mesh.Latency}
	}
	if len(ranged) > 0 && n.Stat != mesh.Max {
		out = append(out, rd.statStmtsOf(ranged, mesh.Max)...)
	}
	out = append(out, rd.minStmts(ranged)...)
	if rd.lvl != nil {
		// On a rollup the counts are cheap and every mean needs them.
		return append(out, rd.countStmts()...)
	}
	counts := rd.countStmts() // n, good, bad
	if n.Counts {
		out = append(out, counts[0])
	}
	if n.Stat != mesh.Last && slices.ContainsFunc(ms, goodOnly) && !slices.ContainsFunc(out, func(s stmt) bool { return s.good }) {
		// Whether a pair has a successful test at all (else it is failed).
		out = append(out, counts[1])
	}
	return append(out, badStmt(ms))
}

// pieceCols are what a hybrid read of n asks its pieces for: the shown metrics' sums
// (means); maxima under --stat max; latency's range; the range of every shown metric
// when its p95 is read (kept inside it).
func (n Needs) pieceCols(ms []mesh.Metric) pieceCols {
	pc := pieceCols{sums: ms}
	switch {
	case n.Stat == mesh.P95:
		pc.maxes, pc.mins = ms, ms
	case n.Stat == mesh.Max:
		pc.maxes = ms
	}
	if n.Range {
		if !slices.Contains(pc.maxes, mesh.Latency) {
			pc.maxes = append(slices.Clone(pc.maxes), mesh.Latency)
		}
		if !slices.Contains(pc.mins, mesh.Latency) {
			pc.mins = append(slices.Clone(pc.mins), mesh.Latency)
		}
	}
	return pc
}
