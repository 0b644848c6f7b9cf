package influx

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/influxdata/influxdb1-client/models"

	"github.com/meshtop/meshtop/mesh"
)

// Incremental refresh of a window ending now. A complete read is kept as per-pair sums,
// counts and maxima of two parts: settled tests (older than refreshLag) and fresh ones
// (the last refreshLag, re-read every time because a sweep's points carry its start time
// and arrive when it ends). A refresh reads three small ranges — the tests that settled
// since, the fresh part anew, and the head that slid out of the window — and merges them,
// instead of re-reading the whole window: on 24 h of 50 PoPs that is minutes of data
// instead of a day.
//
// Sums and counts merge exactly (up to float rounding); a maximum cannot be subtracted,
// so when the head that left held a pair's maximum, that metric's max is read again over
// the window if it is on screen (else it is read when asked for). p95 is read again only
// when on screen.

// refreshLag is how long points of a sweep may arrive after its timestamp.
const refreshLag = 5 * time.Minute

// part is one pair's aggregates over a range.
type part struct {
	n, good, bad  float64
	sum, max, min map[mesh.Metric]float64
	last          map[mesh.Metric]float64
	// hist counts the tests' values (raw rows always; rollup pieces when p95 is read).
	hist     sketch
	lastRTT  float64
	lastTime time.Time
	// broken says what impossible value a rollup gave (hybrid reads).
	broken string
}

func newPart() *part {
	return &part{sum: map[mesh.Metric]float64{}, max: map[mesh.Metric]float64{}, min: map[mesh.Metric]float64{}, last: map[mesh.Metric]float64{}}
}

// MeshRead is a complete read of a window ending now, which Refresh brings forward.
type MeshRead struct {
	end     time.Time // absolute end of the read
	window  time.Duration
	settled map[mesh.Pair]*part
	fresh   map[mesh.Pair]*part
	stale   map[mesh.Metric]bool // a pair's max is unknown (see above)
	p95     map[mesh.Pair][]float64
	Step    Step
}

// End is the absolute end of the window read.
func (m *MeshRead) End() time.Time { return m.end }

// readParts reads several ranges' parts in one request. The ranges are short (minutes),
// so their tests are read as they are and reduced here: InfluxDB's cost is per aggregate
// and series, and twenty aggregates over 2,450 series cost seconds even over a minute of
// data, where the points themselves are a few thousand rows.
func (r *Reader) readParts(ctx context.Context, ranges ...[2]time.Time) ([]map[mesh.Pair]*part, error) {
	qs := make([]string, len(ranges))
	fields := make([]string, 0, len(mesh.Metrics))
	for _, m := range mesh.Metrics {
		fields = append(fields, QuoteIdent(m.Field()))
	}
	for i, rg := range ranges {
		qs[i] = "SELECT " + strings.Join(fields, ", ") + ` FROM "ping" WHERE time > ` + timeLiteral(rg[0]) + " AND time <= " + timeLiteral(rg[1]) +
			" AND " + knownDst + ` GROUP BY "src_pop", "dst_pop"`
	}
	res, err := r.c.queryRows(ctx, strings.Join(qs, "; "), true)
	if err != nil {
		return nil, err
	}
	if len(res) != len(qs) {
		return nil, fmt.Errorf("InfluxDB answered %d results to %d statements", len(res), len(qs))
	}
	out := make([]map[mesh.Pair]*part, len(ranges))
	for i := range ranges {
		if out[i], err = rawRowParts(res[i].Series); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// partOf is the part of a series' pair (tags already sanitised), made when new.
func partOf(parts map[mesh.Pair]*part, s series) *part {
	p := mesh.Pair{Src: s.tags["src_pop"], Dst: s.tags["dst_pop"]}
	pt := parts[p]
	if pt == nil {
		pt = newPart()
		parts[p] = pt
	}
	return pt
}

// rawRowParts adds up raw tests (rows of the metric fields, grouped by pair) into
// per-pair parts, as the aggregates would: counts of all and of successful tests, sums
// and maxima over successful tests (loss: all), implausible points counted.
func rawRowParts(rows []models.Row) (map[mesh.Pair]*part, error) {
	parts := map[mesh.Pair]*part{}
	for _, s := range allSeries(rows) {
		pt := partOf(parts, s)
		for _, row := range s.rows {
			t, err := s.time(row)
			if err != nil {
				return nil, err
			}
			if _, ok := s.float(row, mesh.Loss.Field()); !ok {
				continue // not a ping the aggregates would count
			}
			vals := map[mesh.Metric]float64{}
			for _, m := range mesh.Metrics {
				if v, ok := s.float(row, m.Field()); ok {
					vals[m] = v
				}
			}
			pt.n++
			rtt, hasRTT := vals[mesh.Latency]
			good := hasRTT && rtt > 0
			if good {
				pt.good++
			}
			for m, v := range vals {
				if checkValue(m, v) != nil {
					pt.bad++
					break
				}
			}
			for m, v := range vals {
				if goodOnly(m) && !good {
					continue
				}
				pt.sum[m] += v
				if cur, ok := pt.max[m]; !ok || v > cur {
					pt.max[m] = v
				}
				if cur, ok := pt.min[m]; !ok || v < cur {
					pt.min[m] = v
				}
				if pt.hist == nil {
					pt.hist = sketch{}
				}
				pt.hist.add(m, v)
			}
			if hasRTT && !t.Before(pt.lastTime) {
				pt.lastTime, pt.lastRTT = t, rtt
				for m, v := range vals {
					pt.last[m] = v
				}
			}
		}
	}
	return parts, nil
}

// ReadMesh is MatrixSteps over a window ending now, pinned to an absolute end, keeping
// what Refresh needs. Windows read from a rollup or from text-typed data, and windows
// with a fixed end, are read whole (nil MeshRead).
func (r *Reader) ReadMesh(ctx context.Context, want mesh.Stat, step func(Step)) (*MeshRead, error) {
	if !r.end.IsZero() || r.pickRollup(ctx) != nil {
		return nil, r.MatrixSteps(ctx, want, step)
	}
	end := r.nowUTC()
	pinned := r.At(r.window, end)
	var last Step
	rd, err := pinned.matrixSteps(ctx, want, func(s Step) { last = s; step(s) })
	if err != nil || rd == nil {
		return nil, err
	}
	parts, err := r.readParts(ctx, [2]time.Time{end.Add(-refreshLag), end})
	if err != nil {
		return nil, nil // the grid stands; the next refresh reads whole
	}
	mr := &MeshRead{end: end, window: r.window, settled: map[mesh.Pair]*part{}, fresh: parts[0], stale: map[mesh.Metric]bool{}, Step: last}
	// settled = total - fresh.
	for p, a := range rd.accs {
		tot := accPart(a)
		if f := parts[0][p]; f != nil {
			sub(tot, f, mr.stale)
		}
		mr.settled[p] = tot
	}
	return mr, nil
}

// accPart turns a complete read's accumulator into sums, counts and maxima.
func accPart(a *pairAcc) *part {
	pt := newPart()
	pt.n, pt.good, pt.bad = a.n, a.good, a.bad
	for _, m := range mesh.Metrics {
		den := a.good
		if !goodOnly(m) {
			den = a.n
		}
		if v := a.cell.Values[m][mesh.Mean]; !math.IsNaN(v) && den > 0 {
			pt.sum[m] = v * den
		}
		if v := a.cell.Values[m][mesh.Max]; !math.IsNaN(v) {
			pt.max[m] = v
		}
		if v := a.cell.Min[m]; !math.IsNaN(v) {
			pt.min[m] = v
		}
		pt.last[m] = a.cell.Values[m][mesh.Last]
	}
	pt.lastRTT, pt.lastTime = a.lastRTT, a.cell.Last.Time
	return pt
}

// sub takes part h out of pt; a max h held (or may have held) becomes unknown.
func sub(pt, h *part, stale map[mesh.Metric]bool) {
	pt.n, pt.good, pt.bad = pt.n-h.n, pt.good-h.good, pt.bad-h.bad
	for _, m := range mesh.Metrics {
		pt.sum[m] -= h.sum[m]
		if hm, ok := h.max[m]; ok {
			if pm, ok := pt.max[m]; !ok || hm >= pm {
				delete(pt.max, m)
				if pt.n > 0 {
					stale[m] = true
				}
			}
		}
		if hm, ok := h.min[m]; ok {
			if pm, ok := pt.min[m]; !ok || hm <= pm {
				delete(pt.min, m) // unknown until read again (only snapshot shows it)
			}
		}
	}
}

// add puts part b into pt (newest last wins).
func add(pt, b *part) {
	pt.n, pt.good, pt.bad = pt.n+b.n, pt.good+b.good, pt.bad+b.bad
	if b.broken != "" {
		pt.broken = b.broken
	}
	for _, m := range mesh.Metrics {
		pt.sum[m] += b.sum[m]
		if bm, ok := b.max[m]; ok {
			if pm, ok := pt.max[m]; !ok || bm > pm {
				pt.max[m] = bm
			}
		}
		if bm, ok := b.min[m]; ok {
			if pm, ok := pt.min[m]; !ok || bm < pm {
				pt.min[m] = bm
			}
		}
	}
	if b.hist != nil {
		if pt.hist == nil {
			pt.hist = sketch{}
		}
		pt.hist.merge(b.hist)
	}
	if !b.lastTime.IsZero() && !b.lastTime.Before(pt.lastTime) {
		pt.lastTime, pt.lastRTT = b.lastTime, b.lastRTT
		for m, v := range b.last {
			pt.last[m] = v
		}
	}
}

func clonePart(pt *part) *part {
	c := newPart()
	c.n, c.good, c.bad, c.lastRTT, c.lastTime = pt.n, pt.good, pt.bad, pt.lastRTT, pt.lastTime
	for m, v := range pt.sum {
		c.sum[m] = v
	}
	for m, v := range pt.max {
		c.max[m] = v
	}
	for m, v := range pt.min {
		c.min[m] = v
	}
	if pt.hist != nil {
		c.hist = sketch{}
		c.hist.merge(pt.hist)
	}
	for m, v := range pt.last {
		c.last[m] = v
	}
	return c
}

// Refresh brings a complete read forward to now: it reads the tests that settled since,
// the fresh part anew and the head that left the window, merges, and steps the matrix;
// then, when the stat on screen needs it, max (if the head held one) or p95 over the
// window. A read too old to bring forward (more than a window ago) is read whole.
func (r *Reader) Refresh(ctx context.Context, prev *MeshRead, want mesh.Stat, step func(Step)) (*MeshRead, error) {
	end := r.nowUTC()
	// p95 of a read from rollups comes from their histograms, which a refresh has not
	// (it would read percentile() of the raw tests, another p95 than a moment ago):
	// such a read is read whole (the hybrid read is quick).
	hist := want == mesh.P95 && prev != nil && strings.HasPrefix(prev.Step.Via, "rollup")
	if prev == nil || prev.window != r.window || end.Sub(prev.end) >= r.window-refreshLag || !r.end.IsZero() || hist {
		return r.ReadMesh(ctx, want, step)
	}
	if !end.After(prev.end) {
		step(prev.Step)
		return prev, nil
	}
	// How much of the window holds data, as the complete read said it.
	step, stop := coverSteps(ctx, r.At(r.window, end), nil, step, true)
	defer stop()
	parts, err := r.readParts(ctx,
		[2]time.Time{prev.end.Add(-refreshLag), end.Add(-refreshLag)}, // settled since
		[2]time.Time{prev.end.Add(-r.window), end.Add(-r.window)},     // left the window
		[2]time.Time{end.Add(-refreshLag), end})                       // fresh
	if err != nil {
		return nil, fmt.Errorf("refresh the mesh over %s: %w", r.describe(), err)
	}
	next := &MeshRead{end: end, window: r.window, settled: map[mesh.Pair]*part{}, fresh: parts[2], stale: map[mesh.Metric]bool{}}
	for m := range prev.stale {
		next.stale[m] = true
	}
	for p, pt := range prev.settled {
		next.settled[p] = clonePart(pt)
	}
	for p, pt := range parts[0] {
		if next.settled[p] == nil {
			next.settled[p] = newPart()
		}
		add(next.settled[p], pt)
	}
	for p, pt := range parts[1] {
		if s := next.settled[p]; s != nil {
			sub(s, pt, next.stale)
		}
	}
	// The merged totals come from where the complete read's did (raw, or a checked
	// hybrid read) plus raw tails: the status bar goes on saying so.
	rd := newRead(r.At(r.window, end))
	rd.ranGood, rd.via = true, prev.Step.Via
	for p, s := range next.settled {
		tot := clonePart(s)
		if f := next.fresh[p]; f != nil {
			add(tot, f)
		}
		if tot.n <= 0 {
			continue // the pair has left the window
		}
		rd.setTotals(p, tot, next.stale)
	}
	for p, f := range next.fresh { // a pair new in the fresh part only
		if next.settled[p] == nil {
			next.settled[p] = newPart()
			rd.setTotals(p, clonePart(f), nil)
		}
	}
	for _, m := range mesh.Metrics {
		rd.have[statKey{m, mesh.Last}], rd.have[statKey{m, mesh.Mean}] = true, true
		rd.have[statKey{m, mesh.Max}] = !next.stale[m]
	}
	var extra []mesh.Stat
	var stale []mesh.Metric
	for m := range next.stale {
		stale = append(stale, m)
	}
	if want == mesh.Max && len(stale) > 0 {
		extra = append(extra, mesh.Max)
	}
	if want == mesh.P95 {
		extra = append(extra, mesh.P95)
	}
	if len(extra) == 0 {
		next.Step = rd.step("")
		step(next.Step)
		return next, nil
	}
	names := make([]string, len(extra))
	for i, st := range extra {
		names[i] = st.String()
	}
	step(rd.step(strings.Join(names, ", ")))
	if err := rd.run(ctx, rd.statStmts(extra...), false); err != nil {
		return nil, fmt.Errorf("refresh the mesh over %s: %w", r.describe(), err)
	}
	if containsStat(extra, mesh.Max) {
		// The max over the whole window is also the settled part's bound from now on.
		for p, a := range rd.accs {
			if s := next.settled[p]; s != nil {
				for _, m := range mesh.Metrics {
					if v := a.cell.Values[m][mesh.Max]; !math.IsNaN(v) {
						s.max[m] = v
					}
				}
			}
		}
		next.stale = map[mesh.Metric]bool{}
	}
	next.Step = rd.step("")
	step(next.Step)
	return next, nil
}

// setTotals puts a pair's merged part into the read: sums, counts, maxima (not those
// whose max is stale) and the newest test.
func (rd *mread) setTotals(p mesh.Pair, pt *part, stale map[mesh.Metric]bool) {
	for m := range stale {
		delete(pt.max, m)
	}
	rd.setPart(p, pt)
	rd.setLast(p, pt)
}

func (r *Reader) nowUTC() time.Time {
	now := time.Now
	if r.clock != nil {
		now = r.clock
	}
	return now().UTC().Truncate(time.Second)
}

// SetClock pins "now" for ReadMesh and Refresh (benchmarks replaying old data).
func (r *Reader) SetClock(now func() time.Time) { r.clock = now }
