package influx

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/influxdata/influxdb1-client/models"

	"github.com/meshtop/meshtop/internal/textsafe"
	"github.com/meshtop/meshtop/mesh"
)

// A hybrid read of a window of hours: the whole rollup buckets inside the window from
// the rollups, the partial buckets at its edges from finer levels and, below 10 minutes,
// from the raw tests, so the grid is exactly the raw tests' (sums, counts and maxima add
// up) at a fraction of the cost. InfluxDB 1.x pays per series and aggregate: over 24 h of
// 2,450 pairs a raw aggregate costs ~0.4 s, one over the 1 h level ~0.05 s, and reading
// a few rows per pair (the edges) costs less than aggregating them.
//
// For a window of 24 h ending at 10:02:01 with both levels settled:
//
//	raw rows   (09:02:01, 09:10)   the partial 10 min bucket at the start
//	10m rows   [09:10, 10:00)      the partial hour
//	1h sums    [10:00, 09:00)      23 whole hours, aggregated by InfluxDB
//	10m rows   [09:00, 10:00)      whole 10 min buckets of the last partial hour
//	raw rows   [10:00, 10:02:01]   the partial 10 min bucket at the end
//
// A rollup bucket is used only once its continuous query has stopped re-computing it
// (settleLag) and the level has been kept up to it (its newest bucket); younger data is
// read raw. Continuous queries miss tests written later than they look back (a recorder
// flushing after an outage) and intervals when influxd was down, so the read then
// checks itself: the test count of every pair over the window, from the raw tests, must
// equal the hybrid's. A pair that differs is read again from raw data (many: the whole
// window is), and the status bar says so.

// hybridMinWindow: shorter windows read the raw tests, which cost little there. Longer
// windows than hybridMaxWindow read a rollup alone (pickRollup): raw tests may be kept
// less long than that, and the hybrid read checks itself against them.
const hybridMinWindow = 3 * time.Hour

// hybridCheckMax: windows up to this long are checked against the raw tests' counts;
// longer ones reach back beyond the raw tests a database keeps (and a count over a week
// of tests costs as much as the read).
const hybridCheckMax = 24 * time.Hour

// hybridRawMax bounds the raw tests a hybrid read takes as rows; beyond it the rollups
// lag behind (not kept up) and the window is read from raw data.
const hybridRawMax = 2 * time.Hour

// hybridRowsMax: a piece of at most this many buckets per pair is read as rows and summed
// here: InfluxDB's per-series cost of an aggregate is more than a few rows cost (23 rows
// of the 1 h level per pair, 2,450 pairs: 0.45-0.56 s as rows, 0.25-0.57 s as five
// concurrent aggregating requests; 5 rows: 0.17 s against ~0.5 s).
const hybridRowsMax = 12

// hybridRereadMax: up to this many pairs whose rollup is behind are read again from raw
// data by themselves; more, and the whole window is.
var hybridRereadMax = 100

// settleLag is how long after a bucket starts its rollup may still change. A continuous
// query RESAMPLE EVERY e FOR 2b over buckets b last re-computes a bucket at its start +
// 2b (InfluxDB's CQ service rounds the range to whole buckets), so the 10 min level is
// final 20 min after a bucket starts, with tests written until then; the 1 h level sums
// the 10 min one, so an hour is final once its last 10 min bucket is and the next 1 h run
// (every 10 min) has read it. Two minutes more for the queries' own run time.
func settleLag(l *rollupLevel) time.Duration {
	if l.from == nil {
		return 2*l.bucket + 2*time.Minute
	}
	return l.bucket - l.from.bucket + settleLag(l.from) + 10*time.Minute
}

// piece is one part of a hybrid read's window.
type piece struct {
	lvl      *rollupLevel // nil: raw tests
	lo, hi   time.Time
	loOpen   bool // time > lo (the window's start) rather than time >= lo
	hiClosed bool // time <= hi (the window's end) rather than time < hi
	rows     bool // read rows and add them up here
}

func (p piece) cond() string {
	lo, hi := "time >= ", " AND time < "
	if p.loOpen {
		lo = "time > "
	}
	if p.hiClosed {
		hi = " AND time <= "
	}
	return lo + timeLiteral(p.lo) + hi + timeLiteral(p.hi)
}

func (p piece) String() string {
	src := "raw"
	if p.lvl != nil {
		src = p.lvl.name
	}
	how := "sums"
	if p.rows {
		how = "rows"
	}
	return src + " " + how + " " + p.lo.UTC().Format("15:04:05") + "-" + p.hi.UTC().Format("15:04:05")
}

// levelBounds is the span a level can answer for: buckets starting at or after first
// and before end.
type levelBounds struct {
	lvl        *rollupLevel
	first, end time.Time
}

// planPieces covers [lo, hi] (lo open when loOpen, hi closed when hiClosed) with the
// coarsest level's whole buckets inside it, and the rest with finer ones (levels are
// coarsest first); raw rows where no level reaches.
func planPieces(lo time.Time, loOpen bool, hi time.Time, hiClosed bool, levels []levelBounds, rowsMax int) []piece {
	if !lo.Before(hi) && !(lo.Equal(hi) && hiClosed && !loOpen) {
		return nil
	}
	if len(levels) == 0 {
		return []piece{{lo: lo, hi: hi, loOpen: loOpen, hiClosed: hiClosed, rows: true}}
	}
	lb := levels[0]
	b := lb.lvl.bucket
	a := lo.Truncate(b)
	if a.Before(lo) || (a.Equal(lo) && loOpen) {
		a = a.Add(b)
	}
	if a.Before(lb.first) {
		a = lb.first
	}
	e := hi.Truncate(b)
	if lb.end.Before(e) {
		e = lb.end.Truncate(b)
	}
	if !a.Before(e) {
		return planPieces(lo, loOpen, hi, hiClosed, levels[1:], rowsMax)
	}
	mid := piece{lvl: lb.lvl, lo: a, hi: e, rows: int(e.Sub(a)/b) <= rowsMax}
	out := planPieces(lo, loOpen, a, false, levels[1:], rowsMax)
	out = append(out, mid)
	return append(out, planPieces(e, false, hi, hiClosed, levels[1:], rowsMax)...)
}

// hybridPlan is how a window is read in pieces, or nil when it is read from raw data.
type hybridPlan struct {
	start, end time.Time
	pieces     []piece
	levels     []string // the levels used, coarsest first
}

// via names where the grid comes from, for the status bar.
func (h *hybridPlan) via() string {
	return "rollup " + strings.Join(h.levels, "+") + " and raw edges"
}

// planHybrid plans the hybrid read of the window, nil when it is read raw: a short
// window, rollups not set up or not kept up, or a mode other than auto.
func (r *Reader) planHybrid(ctx context.Context) *hybridPlan {
	if (r.rollupMode != "" && r.rollupMode != "auto") || r.window < hybridMinWindow {
		return nil
	}
	now := r.nowUTC()
	end := r.end
	if end.IsZero() {
		end = now
	}
	start := end.Add(-r.window)
	// Levels whose buckets are small beside the window (a 24 h window: 1 h and 10 min).
	var cands []*rollupLevel
	for _, l := range rollupLevels {
		if l.bucket*6 <= r.window {
			cands = append(cands, l)
		}
	}
	// The oldest and newest bucket of each level, as concurrent requests.
	edges := make([][2]time.Time, len(cands))
	var wg sync.WaitGroup
	for i, l := range cands {
		for k, fn := range []string{"first", "last"} {
			wg.Go(func() { edges[i][k] = r.levelEdge(ctx, l, fn, start.Truncate(l.bucket).Add(-l.bucket)) })
		}
	}
	wg.Wait()
	var levels []levelBounds
	for i := len(cands) - 1; i >= 0; i-- { // coarsest first
		l, first, last := cands[i], edges[i][0], edges[i][1]
		if first.IsZero() || last.IsZero() {
			continue // not set up, not backfilled, or not readable
		}
		// Settled buckets only, up to the newest the level holds.
		e := now.Add(-settleLag(l)).Truncate(l.bucket).Add(l.bucket)
		if ne := last.Add(l.bucket); ne.Before(e) {
			e = ne
		}
		levels = append(levels, levelBounds{lvl: l, first: first, end: e})
	}
	if len(levels) == 0 {
		return nil
	}
	rowsMax := hybridRowsMax
	if r.rowsMax != 0 {
		rowsMax = r.rowsMax
	}
	pieces := planPieces(start, true, end, true, levels, rowsMax)
	var raw time.Duration
	used := map[string]bool{}
	for _, p := range pieces {
		if p.lvl == nil {
			raw += p.hi.Sub(p.lo)
		} else {
			used[p.lvl.name] = true
		}
	}
	if raw > hybridRawMax || len(used) == 0 {
		return nil
	}
	h := &hybridPlan{start: start, end: end, pieces: pieces}
	for _, l := range levels {
		if used[l.lvl.name] {
			h.levels = append(h.levels, l.lvl.name)
		}
	}
	return h
}

// levelEdge is the time of a level's oldest (fn "first") or newest ("last") bucket from
// since on; zero when it has none or cannot be read (the read goes raw). Bounded in time,
// so InfluxDB opens only the shards of the window.
func (r *Reader) levelEdge(ctx context.Context, l *rollupLevel, fn string, since time.Time) time.Time {
	ts, err := r.rowTimes(ctx, "SELECT "+fn+`("n")`+levelFrom(l)+" WHERE time >= "+timeLiteral(since))
	if err != nil {
		return time.Time{}
	}
	return ts[0]
}

// pieceCols are what a hybrid read asks its pieces for, besides the test counts: the
// sums (means) of some metrics, their maxima and minima. The TUI reads every mean and
// max; snapshot what it prints.
type pieceCols struct{ sums, maxes, mins []mesh.Metric }

// aggs are the rollup columns and how each is added up: (sum, n), (max, <f>_max), ...
func (pc pieceCols) aggs() [][2]string {
	out := [][2]string{{"sum", "n"}, {"sum", "good"}, {"sum", "bad"}}
	for _, m := range pc.sums {
		out = append(out, [2]string{"sum", m.Field() + "_sum"})
	}
	for _, m := range pc.maxes {
		out = append(out, [2]string{"max", m.Field() + "_max"})
	}
	for _, m := range pc.mins {
		out = append(out, [2]string{"min", m.Field() + "_min"})
	}
	return out
}

// rawFields are the raw tests' fields a raw piece reads: latency and loss always (the
// counts of tests and of successful ones), the others when asked for.
func (pc pieceCols) rawFields() []string {
	var out []string
	for _, m := range mesh.Metrics {
		if m == mesh.Latency || m == mesh.Loss || slices.Contains(pc.sums, m) || slices.Contains(pc.maxes, m) || slices.Contains(pc.mins, m) {
			out = append(out, QuoteIdent(m.Field()))
		}
	}
	return out
}

// addRollupValue puts one rollup column's value (a bucket's, or a sum or max of buckets)
// into a part.
func addRollupValue(pt *part, col string, v float64) {
	switch col {
	case "n":
		pt.n += v
	case "good":
		pt.good += v
	case "bad":
		pt.bad += v
	default:
		for _, m := range mesh.Metrics {
			switch col {
			case m.Field() + "_sum":
				pt.sum[m] += v
			case m.Field() + "_max":
				if cur, ok := pt.max[m]; !ok || v > cur {
					pt.max[m] = v
				}
			case m.Field() + "_min":
				if cur, ok := pt.min[m]; !ok || v < cur {
					pt.min[m] = v
				}
			}
		}
	}
}

// pieceQueries are the requests of one piece: raw rows, rollup rows, or the rollup's
// sums and extremes split over a few concurrent requests.
func (r *Reader) pieceQueries(p piece, pc pieceCols) []string {
	cond := " WHERE " + p.cond() + " AND " + knownDst + ` GROUP BY "src_pop", "dst_pop"`
	if p.lvl == nil {
		return []string{"SELECT " + strings.Join(pc.rawFields(), ", ") + ` FROM "ping"` + cond}
	}
	from := levelFrom(p.lvl)
	aggs := pc.aggs()
	if p.rows {
		cols := make([]string, len(aggs))
		for i, a := range aggs {
			cols[i] = QuoteIdent(a[1])
		}
		return []string{"SELECT " + strings.Join(cols, ", ") + from + cond}
	}
	// Requests of up to three aggregates: they run on every core (one request's
	// statements, and a statement's aggregates, are worked one after another) and each
	// answers a row per pair.
	var out []string
	for len(aggs) > 0 {
		n := min(3, len(aggs))
		parts := make([]string, n)
		for i, a := range aggs[:n] {
			parts[i] = a[0] + "(" + QuoteIdent(a[1]) + ") AS " + QuoteIdent(a[1])
		}
		out = append(out, "SELECT "+strings.Join(parts, ", ")+from+cond)
		aggs = aggs[n:]
	}
	return out
}

// readPiece reads one query of a piece into per-pair parts.
func (r *Reader) readPiece(ctx context.Context, p piece, q string) (map[mesh.Pair]*part, error) {
	res, err := r.c.queryRows(ctx, q, true)
	if err != nil {
		return nil, err
	}
	if len(res) == 0 {
		return map[mesh.Pair]*part{}, nil
	}
	if p.lvl == nil {
		return rawRowParts(res[0].Series)
	}
	return rollupRowParts(res[0].Series), nil
}

// maxRollupCount bounds a rollup's test counts: a bucket of 10 min holds a few tests per
// pair and agent, a window's sum some thousands; more is a broken writer.
const maxRollupCount = 1e9

// rollupRowParts adds up rollup rows (buckets, or sums and maxima of buckets) per pair.
// A value no rollup can hold (a negative or fractional count, more successful tests than
// tests, a sum or max that is not finite) marks the pair broken: it is read from raw
// data, never shown from the rollup.
func rollupRowParts(rows []models.Row) map[mesh.Pair]*part {
	out := map[mesh.Pair]*part{}
	for _, s := range allSeries(rows) {
		pt := partOf(out, s)
		for _, row := range s.rows {
			var n, good float64
			for col := range s.col {
				if col == "time" {
					continue
				}
				v, ok := s.float(row, col)
				if !ok {
					continue
				}
				switch col {
				case "n", "good", "bad":
					if v < 0 || v > maxRollupCount || v != math.Trunc(v) {
						pt.broken = fmt.Sprintf("rollup holds %s = %g", col, v)
						continue
					}
				}
				if math.IsInf(v, 0) || math.IsNaN(v) {
					pt.broken = fmt.Sprintf("rollup holds %s = %g", col, v)
					continue
				}
				switch col {
				case "n":
					n = v
				case "good":
					good = v
				}
				addRollupValue(pt, col, v)
			}
			if good > n {
				pt.broken = fmt.Sprintf("rollup holds %g successful tests of %g", good, n)
			}
		}
	}
	return out
}

// hybridRead reads pieces as concurrent requests and adds their parts up per pair. The
// first request starts at once, the others when gate closes (nil: at once): the first
// paint's request then shares the cores with one other only.
func (r *Reader) hybridRead(ctx context.Context, pieces []piece, gate <-chan struct{}, pc pieceCols) (map[mesh.Pair]*part, error) {
	// One failed request ends the others: the read fails as a whole.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type job struct {
		p piece
		q string
	}
	var jobs []job
	for _, p := range pieces {
		for _, q := range r.pieceQueries(p, pc) {
			jobs = append(jobs, job{p, q})
		}
	}
	results := make([]map[mesh.Pair]*part, len(jobs))
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() {
			if i > 0 && gate != nil {
				select {
				case <-gate:
				case <-ctx.Done():
				}
			}
			if results[i], errs[i] = r.readPiece(ctx, j.p, j.q); errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	var first error
	for i, err := range errs {
		// The first error that is not the others' cancellation.
		if err != nil && (first == nil || (errors.Is(first, context.Canceled) && !errors.Is(err, context.Canceled))) {
			first = fmt.Errorf("read %s: %w", jobs[i].p, err)
		}
	}
	if first != nil {
		return nil, first
	}
	total := map[mesh.Pair]*part{}
	for _, res := range results {
		for p, pt := range res {
			if total[p] == nil {
				total[p] = newPart()
			}
			add(total[p], pt)
		}
	}
	return total, nil
}

// rawCounts is the number of tests of every pair over the window, from the raw tests.
func (r *Reader) rawCounts(ctx context.Context, h *hybridPlan) (map[mesh.Pair]float64, error) {
	p := piece{lo: h.start, hi: h.end, loOpen: true, hiClosed: true}
	res, err := r.c.query(ctx, `SELECT count("loss_pct") AS "n" FROM "ping" WHERE `+p.cond()+" AND "+knownDst+` GROUP BY "src_pop", "dst_pop"`)
	if err != nil {
		return nil, err
	}
	out := map[mesh.Pair]float64{}
	for _, rs := range res {
		for _, s := range allSeries(rs.Series) {
			if len(s.rows) == 0 {
				continue
			}
			if v, ok := s.float(s.rows[0], "n"); ok && v > 0 {
				out[mesh.Pair{Src: textsafe.Name(s.tags["src_pop"]), Dst: textsafe.Name(s.tags["dst_pop"])}] = v
			}
		}
	}
	return out, nil
}

// behind are the pairs whose hybrid test count differs from the raw tests', sorted.
func behind(hy map[mesh.Pair]*part, raw map[mesh.Pair]float64) []mesh.Pair {
	var out []mesh.Pair
	for p, n := range raw {
		if pt := hy[p]; pt == nil || pt.n != n || pt.broken != "" {
			out = append(out, p)
		}
	}
	for p, pt := range hy {
		if _, ok := raw[p]; !ok && (pt.n > 0 || pt.broken != "") {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b mesh.Pair) int {
		if c := strings.Compare(a.Src, b.Src); c != 0 {
			return c
		}
		return strings.Compare(a.Dst, b.Dst)
	})
	return out
}

// pairsCond selects the given pairs.
func pairsCond(ps []mesh.Pair) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = "(" + pairCond(p.Src, p.Dst) + ")"
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// hybridSteps reads the window with plan h (see above). The raw tests at the window's
// end come first, alone: they hold the newest test of every pair that is still tested,
// which is the first paint (last() over the window costs InfluxDB as much as an
// aggregate). Then the other pieces at once; last() for pairs the end left out; then, for
// a window of up to a day, the check against the raw test counts (longer windows reach
// back beyond the raw tests kept). It reports fallback when too many pairs' rollups are
// behind: the caller reads the window raw. p95 lists the metrics whose p95 is read, from
// the histograms (sketch.go).
//
// The check starts once the first paint is in, beside the rest of the pieces (a core
// would idle while the slowest piece finishes alone).
func (r *Reader) hybridSteps(ctx context.Context, h *hybridPlan, pc pieceCols, p95 []mesh.Metric, step func(Step)) (rd *mread, fallback []mesh.Pair, err error) {
	pinned := r.At(r.window, h.end)
	rd = newRead(pinned)
	rd.via, rd.cols = h.via(), pc
	wrap := func(err error) error { return fmt.Errorf("read the mesh over %s: %w", pinned.describe(), err) }
	check := r.window <= hybridCheckMax
	type countsAnswer struct {
		n   map[mesh.Pair]float64
		err error
	}
	var early chan countsAnswer
	startCheck := func() {
		if check && early == nil {
			early = make(chan countsAnswer, 1)
			go func() {
				n, err := pinned.rawCounts(ctx, h)
				early <- countsAnswer{n, err}
			}()
		}
	}
	waitCheck := func() {
		if early != nil {
			<-early
		}
	}
	hy, err := rd.readPieces(ctx, h.pieces, step, startCheck)
	if err != nil {
		waitCheck()
		return nil, nil, wrap(err)
	}
	if err := rd.lastOfQuiet(ctx, hy); err != nil {
		waitCheck()
		return nil, nil, wrap(err)
	}
	for p, pt := range hy {
		rd.setPart(p, pt)
	}
	rd.mu.Lock()
	rd.ranGood = true // a pair without successful tests is failed from now on
	for _, m := range mesh.Metrics {
		rd.have[statKey{m, mesh.Last}] = true
	}
	for _, m := range pc.sums {
		rd.have[statKey{m, mesh.Mean}] = true
	}
	for _, m := range pc.maxes {
		rd.have[statKey{m, mesh.Max}] = true
	}
	rd.mu.Unlock()
	var late []mesh.Pair
	if check {
		step(rd.step("check against raw test counts"))
		startCheck()
		a := <-early
		counts, err := a.n, a.err
		if err != nil {
			return nil, nil, wrap(err)
		}
		late = behind(hy, counts)
		switch {
		case len(late) == 0:
			rd.via += ", checked"
		case len(late) > hybridRereadMax:
			return nil, late, nil
		default:
			if err := rd.rereadRaw(ctx, late, p95); err != nil {
				return nil, nil, wrap(err)
			}
			rd.via += fmt.Sprintf(", %d %s raw (rollup behind, e.g. %s→%s)", len(late), plural(len(late), "pair", "pairs"), late[0].Src, late[0].Dst)
		}
	}
	if len(p95) > 0 {
		// p95 from the histograms: the raw edges' tests are filed already, the rollup
		// pieces' buckets between each pair's min and max are read (histread.go).
		step(rd.step("p95"))
		rd.mu.Lock()
		for p, pt := range hy {
			if a := rd.accs[p]; a != nil && !a.exactP95 {
				a.hist = sketch{}
				for _, m := range p95 {
					if pt.hist[m] != nil {
						a.hist[m] = slices.Clone(pt.hist[m])
					}
				}
			}
		}
		rd.mu.Unlock()
		if err := rd.readHists(ctx, h.pieces, p95); err != nil {
			return nil, nil, wrap(err)
		}
		rd.finishHists(ctx, p95)
	}
	step(rd.step(""))
	return rd, nil, nil
}

// readPieces reads the plan's pieces and adds them up per pair. When the last piece is
// raw tests (the window's end), it goes first, sharing the cores with one other request,
// and its newest tests are the first paint; afterTail is called when the rest may start.
func (rd *mread) readPieces(ctx context.Context, pieces []piece, step func(Step), afterTail func()) (map[mesh.Pair]*part, error) {
	n := len(pieces)
	if pieces[n-1].lvl != nil {
		afterTail()
		return rd.r.hybridRead(ctx, pieces, nil, rd.cols)
	}
	gate := make(chan struct{})
	restCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var hy map[mesh.Pair]*part
	var hyErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		hy, hyErr = rd.r.hybridRead(restCtx, pieces[:n-1], gate, rd.cols)
	}()
	tail, err := rd.r.hybridRead(ctx, pieces[n-1:], nil, rd.cols)
	close(gate)
	if err == nil {
		afterTail()
	}
	if err != nil {
		cancel()
		<-done
		return nil, err
	}
	rd.setNewest(tail)
	if len(tail) > 0 { // nothing tested at the window's end: no empty grid first
		step(rd.step("mean, max, counts"))
	}
	<-done
	if hyErr != nil {
		return nil, hyErr
	}
	for p, pt := range tail {
		if hy[p] == nil {
			hy[p] = newPart()
		}
		add(hy[p], pt)
	}
	return hy, nil
}

// lastOfQuiet reads the newest test of the pairs the window's end did not test, with
// last() (of those pairs alone when they are few).
func (rd *mread) lastOfQuiet(ctx context.Context, hy map[mesh.Pair]*part) error {
	var quiet []mesh.Pair
	rd.mu.Lock()
	for p := range hy {
		if a := rd.accs[p]; a == nil || !a.haveLast {
			quiet = append(quiet, p)
		}
	}
	rd.mu.Unlock()
	if len(quiet) == 0 {
		return nil
	}
	sub := newRead(rd.r)
	if len(quiet) <= hybridRereadMax {
		sub.pairs = pairsCond(quiet)
	}
	if err := sub.run(ctx, sub.lastStmts(), true); err != nil {
		return err
	}
	for p, a := range sub.accs {
		rd.copyLast(p, a)
	}
	return nil
}

// rereadRaw reads pairs whose rollup is behind again from the raw tests alone (with the
// p95 of the metrics p95, exact).
func (rd *mread) rereadRaw(ctx context.Context, late []mesh.Pair, p95 []mesh.Metric) error {
	sub := newRead(rd.r)
	sub.pairs = pairsCond(late)
	stmts := append(sub.statStmts(mesh.Mean, mesh.Max), sub.countStmts()...)
	if len(p95) > 0 {
		stmts = append(stmts, sub.statStmtsOf(p95, mesh.P95)...)
	}
	if err := sub.run(ctx, append(stmts, sub.lastStmts()...), false); err != nil {
		return err
	}
	for _, p := range late {
		a := sub.accs[p]
		if a == nil || a.n == 0 {
			rd.mu.Lock()
			delete(rd.accs, p) // no test in the window after all
			rd.mu.Unlock()
			continue
		}
		rd.setPart(p, accPart(a))
		rd.copyLast(p, a)
		if len(p95) > 0 {
			rd.mu.Lock()
			acc := rd.accs[p]
			acc.exactP95, acc.hist = true, nil
			for _, m := range p95 {
				acc.cell.Values[m][mesh.P95] = a.cell.Values[m][mesh.P95]
			}
			rd.mu.Unlock()
		}
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// usedLevels are the rollup levels the plan reads.
func (h *hybridPlan) usedLevels() []*rollupLevel {
	var out []*rollupLevel
	for _, l := range rollupLevels {
		if slices.Contains(h.levels, l.name) {
			out = append(out, l)
		}
	}
	return out
}
