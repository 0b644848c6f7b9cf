package influx

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	client "github.com/influxdata/influxdb1-client/v2"

	"github.com/meshtop/meshtop/internal/textsafe"
	"github.com/meshtop/meshtop/mesh"
)

// A progressive read of the mesh. InfluxDB 1.x pays per point and per aggregate (on the
// bench data ~0.45 s per aggregate over 24 h of 2,450 pairs, whatever the aggregate and
// with or without a field condition; percentile() ~4 s), and runs the statements of one
// request one after another. So the read goes in steps, each a set of concurrent
// requests of a few aggregates, and each step's matrix replaces the previous one:
//
//  1. last(): the newest test of every pair (InfluxDB's fast path, ~0.1 s);
//  2. the stat on screen (e.g. mean) of every metric, one request per metric;
//  3. the other of mean/max, the test counts and the implausible-point count;
//  4. p95 only when it is on screen (percentile() is ~10x a mean) or from a rollup,
//     where it comes from histogram counts.
//
// Measured candidate forms for "mean over the successful tests" (bench/influxgrid):
// mean(f) WHERE "avg_rtt_ms" > 0 is one aggregate; sum(f) and count(f) with a count of
// failed tests is three, and InfluxDB's cost is per aggregate, not per condition, so
// the conditioned mean is the fastest form that gives the same numbers.

// Step is one stage of a progressive read: a whole matrix that replaces the previous
// step's, the stats it holds, and what is still being read.
type Step struct {
	Matrix *mesh.Matrix
	// Pending names what is still being read ("" when the read is complete).
	Pending string
	// Via says where the values come from: "raw" or "rollup 10m" / "rollup 1h".
	Via string
	// Notes say what the matrix lacks and why (a p95 the rollup cannot give), for the
	// status bar and snapshot's stderr.
	Notes []string
	// Oldest is the time of the oldest test (or rollup bucket) in the window, zero when
	// not known yet; with Matrix.Time (the newest) it says how much of the window holds
	// data.
	Oldest time.Time
	have   map[statKey]bool
}

// Has reports whether the step's matrix holds metric m under stat st.
func (s Step) Has(m mesh.Metric, st mesh.Stat) bool { return s.have[statKey{m, st}] }

type statKey struct {
	m  mesh.Metric
	st mesh.Stat
}

// agg is one aggregate column of a statement and what to do with its value.
type agg struct {
	alias string
	expr  string
	apply func(a *pairAcc, v float64)
}

// stmt is one statement, sent as its own request; good restricts raw data to
// successful tests.
type stmt struct {
	aggs []agg
	good bool
	// cond is a further condition on raw data (the implausible-point check's).
	cond string
	// what the statement brings, for Step.Has
	gives []statKey
}

// pairAcc gathers one pair's values over the steps of a read.
type pairAcc struct {
	cell     mesh.Cell
	n, good  float64
	haveN    bool
	inGood   bool // a successful-tests statement had a row for the pair
	lastRTT  float64
	haveLast bool
	bad      float64
	hist     sketch                  // rollup or hybrid: histogram counts (p95)
	exactP95 bool                    // p95 read from the raw tests (a pair whose rollup is behind)
	sums     map[mesh.Metric]float64 // rollup: sums of the means' numerators
	err      string                  // the pair's error (a broken rollup), shown instead of values
}

// mread is the state of one progressive read.
type mread struct {
	r        *Reader
	lvl      *rollupLevel // nil: raw data
	mu       sync.Mutex
	accs     map[mesh.Pair]*pairAcc
	have     map[statKey]bool
	ranGood  bool
	newest   time.Time
	stringly bool
	// histShort counts the pairs of the last matrix whose p95 is unknown because the
	// histogram does not count every test; histWhy says why (histNote).
	histShort int
	histWhy   string
	// histMetrics: their histograms are read, their p95 comes from them.
	histMetrics []mesh.Metric
	// notes go into every step's Notes (what the read cannot show, and why).
	notes []string
	// cols: what a hybrid read asks its pieces for.
	cols pieceCols
	// via, when set, is Step.Via (a hybrid read); pairs, when set, restricts the read to
	// some pairs (an InfluxQL condition).
	via   string
	pairs string
}

// pickLevel chooses the rollup level the read comes from (rd.lvl; none: raw data) and
// notes a gap in it; it returns the levels whose coverage the read reports.
func (rd *mread) pickLevel(ctx context.Context) []*rollupLevel {
	rd.lvl = rd.r.pickRollup(ctx)
	if rd.lvl == nil {
		return nil
	}
	if note := rd.r.rollupGap(ctx, rd.lvl); note != "" {
		rd.notes = append(rd.notes, note)
	}
	return []*rollupLevel{rd.lvl}
}

// newRead is a read of r's window with nothing in it yet.
func newRead(r *Reader) *mread {
	return &mread{r: r, accs: map[mesh.Pair]*pairAcc{}, have: map[statKey]bool{}}
}

func (rd *mread) acc(p mesh.Pair) *pairAcc {
	a := rd.accs[p]
	if a == nil {
		a = &pairAcc{cell: mesh.EmptyCell()}
		rd.accs[p] = a
	}
	return a
}

// setPart puts a pair's sums, counts and maxima over the window into its accumulator
// (the newest test, from last(), stays).
func (rd *mread) setPart(p mesh.Pair, pt *part) {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	a := rd.acc(p)
	a.n, a.haveN, a.good, a.inGood, a.bad, a.err = pt.n, true, pt.good, pt.good > 0, pt.bad, ""
	if pt.broken != "" {
		a.err = "implausible value: " + pt.broken
	}
	for _, m := range mesh.Metrics {
		den := pt.good
		if !goodOnly(m) {
			den = pt.n
		}
		a.cell.Values[m][mesh.Mean], a.cell.Values[m][mesh.Max], a.cell.Min[m] = math.NaN(), math.NaN(), math.NaN()
		if den > 0 {
			a.cell.Values[m][mesh.Mean] = pt.sum[m] / den
		}
		if v, ok := pt.max[m]; ok {
			a.cell.Values[m][mesh.Max] = v
		}
		if v, ok := pt.min[m]; ok {
			a.cell.Min[m] = v
		}
	}
}

// setLast puts a pair's newest test (from raw rows) into its accumulator.
func (rd *mread) setLast(p mesh.Pair, pt *part) {
	if pt.lastTime.IsZero() {
		return
	}
	rd.mu.Lock()
	defer rd.mu.Unlock()
	a := rd.acc(p)
	a.lastRTT, a.haveLast, a.cell.Last.Time = pt.lastRTT, true, pt.lastTime
	for _, m := range mesh.Metrics {
		if v, ok := pt.last[m]; ok {
			a.cell.Values[m][mesh.Last] = v
		}
	}
	if pt.lastTime.After(rd.newest) {
		rd.newest = pt.lastTime
	}
}

// copyLast takes pair p's newest test from another read.
func (rd *mread) copyLast(p mesh.Pair, from *pairAcc) {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	a := rd.acc(p)
	a.lastRTT, a.haveLast, a.cell.Last.Time = from.lastRTT, from.haveLast, from.cell.Last.Time
	for _, m := range mesh.Metrics {
		a.cell.Values[m][mesh.Last] = from.cell.Values[m][mesh.Last]
	}
	if from.cell.Last.Time.After(rd.newest) {
		rd.newest = from.cell.Last.Time
	}
}

// goodOnly: latency and jitter are reduced over successful tests only (a failed test
// stores avg_rtt_ms 0 and jitter_pct 100); loss over every test.
func goodOnly(m mesh.Metric) bool { return m != mesh.Loss }

// statExpr is the InfluxQL aggregate of metric m under stat st on raw data or a rollup.
func (rd *mread) statExpr(m mesh.Metric, st mesh.Stat) string {
	f := m.Field()
	if rd.lvl == nil {
		switch st {
		case mesh.Last:
			return "last(" + QuoteIdent(f) + ")"
		case mesh.Mean:
			return "mean(" + QuoteIdent(f) + ")"
		case mesh.Max:
			return "max(" + QuoteIdent(f) + ")"
		}
		return "percentile(" + QuoteIdent(f) + ", 95)"
	}
	den := `"good"`
	if !goodOnly(m) {
		den = `"n"`
	}
	switch st {
	case mesh.Last:
		return "last(" + QuoteIdent(f+"_last") + ")"
	case mesh.Mean:
		return "sum(" + QuoteIdent(f+"_sum") + ") / sum(" + den + ")"
	case mesh.Max:
		return "max(" + QuoteIdent(f+"_max") + ")"
	}
	return "" // p95 of a rollup comes from its histogram
}

func setStat(m mesh.Metric, st mesh.Stat) func(a *pairAcc, v float64) {
	return func(a *pairAcc, v float64) { a.cell.Values[m][st] = v }
}

func setMin(m mesh.Metric) func(a *pairAcc, v float64) {
	return func(a *pairAcc, v float64) { a.cell.Min[m] = v }
}

// finishHists marks the histograms of metrics ms read and, when some pair's do not
// count all of its tests, finds out why for the step's note.
func (rd *mread) finishHists(ctx context.Context, ms []mesh.Metric) {
	rd.mu.Lock()
	rd.histMetrics = ms
	for _, m := range ms {
		rd.have[statKey{m, mesh.P95}] = true
	}
	rd.mu.Unlock()
	rd.matrix() // counts the pairs whose histograms are short
	rd.mu.Lock()
	short := rd.histShort
	rd.mu.Unlock()
	if short > 0 {
		why := rd.r.histNote(ctx)
		rd.mu.Lock()
		rd.histWhy = why
		rd.mu.Unlock()
	}
}

// histP95 is metric m's p95 from a pair's histogram, inside the window's [min, max];
// NaN when the histogram counts other than the window's tests (a part of it was rolled
// up without histograms of this layout): the step's Note says so.
func (rd *mread) histP95(a *pairAcc, c *mesh.Cell, m mesh.Metric) float64 {
	den := a.good
	if !goodOnly(m) {
		den = a.n
	}
	if !a.haveN || den <= 0 {
		return math.NaN()
	}
	if a.hist == nil {
		return math.NaN()
	}
	if got := a.hist.total(m); got != den {
		return math.NaN()
	}
	return histEstimate(m, a.hist[m], 95, c.Min[m], c.Values[m][mesh.Max])
}

// primary are the metrics the workshop's boards showed (latency, jitter %, loss): read
// first; the others (jitter ms) follow with the counts.
func primary(m mesh.Metric) bool { return m != mesh.JitterMs }

func metricsWhere(f func(mesh.Metric) bool) []mesh.Metric {
	var out []mesh.Metric
	for _, m := range mesh.Metrics {
		if f(m) {
			out = append(out, m)
		}
	}
	return out
}

// statStmts are the statements of stats sts of every metric, one per metric.
func (rd *mread) statStmts(sts ...mesh.Stat) []stmt { return rd.statStmtsOf(mesh.Metrics, sts...) }

// statStmtsOf are the statements of stats sts of the given metrics, one per metric. On
// a rollup a mean is the bucket sums' sum, divided by the counts (read once, see
// countStmts) when the matrix is built.
func (rd *mread) statStmtsOf(metrics []mesh.Metric, sts ...mesh.Stat) []stmt {
	var out []stmt
	for _, m := range metrics {
		s := stmt{good: rd.lvl == nil && goodOnly(m) && !maxOverAll(m, sts)}
		for _, st := range sts {
			if st == mesh.P95 && rd.lvl != nil {
				s.aggs = append(s.aggs, rd.histAggs(m)...)
			} else if st == mesh.Mean && rd.lvl != nil {
				s.aggs = append(s.aggs, agg{alias: m.Field() + "_sum", expr: "sum(" + QuoteIdent(m.Field()+"_sum") + ")", apply: setSum(m)})
			} else {
				s.aggs = append(s.aggs, agg{alias: m.Field() + "_" + st.String(), expr: rd.statExpr(m, st), apply: setStat(m, st)})
			}
			s.gives = append(s.gives, statKey{m, st})
		}
		out = append(out, s)
	}
	return out
}

// maxOverAll: the max latency needs no condition on raw data. A failed test stores
// avg_rtt_ms 0 and a successful one more than 0, so the max over all tests is the max
// over the successful ones whenever there is one (and a pair with none is shown failed;
// a negative RTT is an implausible value that makes the pair an error). The condition
// costs InfluxDB ~60 % of an aggregate (it decodes every point's avg_rtt_ms); jitter %
// keeps it (a failed test stores 100).
func maxOverAll(m mesh.Metric, sts []mesh.Stat) bool {
	return m == mesh.Latency && len(sts) == 1 && sts[0] == mesh.Max
}

func setGood(a *pairAcc, v float64) { a.good, a.inGood = v, v > 0 }

func setSum(m mesh.Metric) func(a *pairAcc, v float64) {
	return func(a *pairAcc, v float64) {
		if a.sums == nil {
			a.sums = map[mesh.Metric]float64{}
		}
		a.sums[m] = v
	}
}

// countStmts are the test counts (samples, successful tests) and the number of points
// with impossible values.
func (rd *mread) countStmts() []stmt {
	if rd.lvl != nil {
		return []stmt{{aggs: []agg{
			{alias: "n", expr: `sum("n")`, apply: func(a *pairAcc, v float64) { a.n, a.haveN = v, true }},
			{alias: "good", expr: `sum("good")`, apply: setGood},
			{alias: "bad", expr: `sum("bad")`, apply: func(a *pairAcc, v float64) { a.bad = v }},
		}}}
	}
	return []stmt{
		{aggs: []agg{{alias: "n", expr: `count("loss_pct")`, apply: func(a *pairAcc, v float64) { a.n, a.haveN = v, true }}}},
		{good: true, aggs: []agg{{alias: "good", expr: `count("avg_rtt_ms")`, apply: setGood}}},
		badStmt(mesh.Metrics),
	}
}

// badStmt counts the points with an impossible value of the given metrics (raw data).
func badStmt(ms []mesh.Metric) stmt {
	return stmt{cond: implausibleCondOf(ms), aggs: []agg{{alias: "bad", expr: "count(" + QuoteIdent(ms[0].Field()) + ")",
		apply: func(a *pairAcc, v float64) { a.bad = v }}}}
}

// implausibleCond selects points whose values no test can have (mesh.PingResult.Check's
// limits), so a pair with one such point is that pair's error rather than a mean that
// hides it.
var implausibleCond = implausibleCondOf(mesh.Metrics)

// implausibleCondOf is implausibleCond over some metrics' fields only (a read that
// shows only them).
func implausibleCondOf(ms []mesh.Metric) string {
	var or []string
	for _, m := range mesh.Metrics {
		if !slices.Contains(ms, m) {
			continue
		}
		f := QuoteIdent(m.Field())
		switch m {
		case mesh.Loss:
			or = append(or, f+" < 0", f+" > 100")
		case mesh.JitterPct:
			or = append(or, f+" < 0", fmt.Sprintf("%s > %d", f, mesh.MaxJitterPct))
		default:
			or = append(or, f+" < 0", fmt.Sprintf("%s >= %d", f, mesh.MaxRTTms))
		}
	}
	return "(" + strings.Join(or, " OR ") + ")"
}

// lastStmts read the newest test of every pair: last("avg_rtt_ms") alone is the only
// way to get the newest point's time, the other metrics go beside it.
func (rd *mread) lastStmts() []stmt {
	lastRTT := stmt{aggs: []agg{{alias: "last_rtt", expr: `last("avg_rtt_ms")`, apply: func(a *pairAcc, v float64) {
		a.lastRTT, a.haveLast = v, true
		a.cell.Values[mesh.Latency][mesh.Last] = v
	}}}, gives: []statKey{{mesh.Latency, mesh.Last}}}
	others := stmt{}
	for _, m := range mesh.Metrics {
		if m == mesh.Latency {
			continue
		}
		others.aggs = append(others.aggs, agg{alias: m.Field() + "_last", expr: "last(" + QuoteIdent(m.Field()) + ")", apply: setStat(m, mesh.Last)})
		others.gives = append(others.gives, statKey{m, mesh.Last})
	}
	return []stmt{lastRTT, others}
}

// from is the FROM clause and the time condition of the read.
func (rd *mread) from(raw bool) string {
	cond := " AND " + knownDst
	if rd.pairs != "" {
		cond += " AND " + rd.pairs
	}
	if raw || rd.lvl == nil {
		return `FROM "ping" WHERE ` + rd.r.timeCond() + cond
	}
	// A bucket carries its start time: the window takes the buckets that start in it.
	return strings.TrimPrefix(levelFrom(rd.lvl), " ") + " WHERE " + rd.r.bucketCond() + cond
}

// query is the InfluxQL of one statement.
func (rd *mread) query(s stmt, raw bool) string {
	cols := make([]string, len(s.aggs))
	for i, a := range s.aggs {
		cols[i] = a.expr + " AS " + QuoteIdent(a.alias)
	}
	q := "SELECT " + strings.Join(cols, ", ") + " " + rd.from(raw)
	if s.good && (raw || rd.lvl == nil) {
		q += " AND " + goodTests
	}
	if s.cond != "" && (raw || rd.lvl == nil) {
		q += " AND " + s.cond
	}
	return q + ` GROUP BY "src_pop", "dst_pop"`
}

// run sends the statements as concurrent requests and folds their answers in.
func (rd *mread) run(ctx context.Context, stmts []stmt, raw bool) error {
	var wg sync.WaitGroup
	errs := make([]error, len(stmts))
	for i, s := range stmts {
		wg.Go(func() { errs[i] = rd.runOne(ctx, s, raw) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (rd *mread) runOne(ctx context.Context, s stmt, raw bool) error {
	res, err := rd.r.c.query(ctx, rd.query(s, raw))
	if err != nil {
		return err
	}
	rd.fold(res, s)
	return nil
}

// fold takes one statement's answer into the pairs' accumulators.
func (rd *mread) fold(res []client.Result, s stmt) {
	byAlias := make(map[string]agg, len(s.aggs))
	for _, a := range s.aggs {
		byAlias[a.alias] = a
	}
	rd.mu.Lock()
	defer rd.mu.Unlock()
	for _, rs := range res {
		for _, sr := range allSeries(rs.Series) {
			if len(sr.rows) == 0 {
				continue
			}
			p := mesh.Pair{Src: textsafe.Name(sr.tags["src_pop"]), Dst: textsafe.Name(sr.tags["dst_pop"])}
			a := rd.acc(p)
			row := sr.rows[0]
			if s.good {
				a.inGood = true
			}
			for col := range sr.col {
				ag, ok := byAlias[col]
				if !ok {
					continue
				}
				if v, ok := sr.float(row, col); ok {
					ag.apply(a, v)
				}
			}
			if _, ok := byAlias["last_rtt"]; ok {
				if t, err := sr.time(row); err == nil {
					a.cell.Last.Time = t
					if t.After(rd.newest) {
						rd.newest = t
					}
				}
			}
		}
	}
	if s.good {
		rd.ranGood = true
	}
	for _, g := range s.gives {
		rd.have[g] = true
	}
}

// matrix builds the matrix of what has been read so far.
func (rd *mread) matrix() *mesh.Matrix {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	out := make(map[mesh.Pair]*mesh.Cell, len(rd.accs))
	rd.histShort = 0
	for p, a := range rd.accs {
		c := a.cell
		for m, sum := range a.sums {
			den := a.good
			if !goodOnly(m) {
				den = a.n
			}
			if a.haveN && den > 0 {
				c.Values[m][mesh.Mean] = sum / den
			}
		}
		short := false
		for _, m := range rd.histMetrics {
			if a.exactP95 {
				break
			}
			c.Values[m][mesh.P95] = rd.histP95(a, &c, m)
			short = short || math.IsNaN(c.Values[m][mesh.P95]) && a.haveN && a.n > 0 && (a.good > 0 || !goodOnly(m))
		}
		if short {
			rd.histShort++
		}
		// Samples counts tests once the counts are read; before, a pair with a newest
		// test has at least one (0 would read as "no data").
		c.Samples = 1
		if a.haveN {
			c.Samples = int(a.n)
		}
		lastFailed := a.haveLast && a.lastRTT <= 0
		allFailed := (rd.ranGood || rd.lvl != nil) && !a.inGood
		c.Failed[mesh.Last] = lastFailed
		for _, st := range mesh.Stats[1:] {
			c.Failed[st] = allFailed
		}
		if allFailed {
			for _, m := range mesh.Metrics {
				if goodOnly(m) {
					for _, st := range mesh.Stats[1:] {
						c.Values[m][st] = math.NaN()
					}
				}
			}
		}
		c.Last.LossPct, c.Last.Failed = c.Values[mesh.Loss][mesh.Last], lastFailed
		if lastFailed {
			for _, m := range mesh.Metrics {
				if goodOnly(m) {
					c.Values[m][mesh.Last] = math.NaN()
				}
			}
			c.Last.JitterPct = 100
		} else {
			c.Last.AvgRTT = c.Values[mesh.Latency][mesh.Last]
			c.Last.MinRTT, c.Last.MaxRTT = c.Last.AvgRTT, c.Last.AvgRTT
			c.Last.JitterMs = c.Values[mesh.JitterMs][mesh.Last]
			c.Last.JitterPct = c.Values[mesh.JitterPct][mesh.Last]
		}
		if msg := cellError(&c, a); msg != "" {
			bad := mesh.EmptyCell()
			bad.Samples, bad.Last.Time, bad.Err = max(c.Samples, 0), c.Last.Time, msg
			c = bad
		}
		out[p] = &c
	}
	return mesh.NewMatrix(rd.newest, rd.r.Name(), nil, nil, out)
}

// cellError is why a pair's cell shows an error instead of its values ("" for none): a
// broken rollup, an implausible value, or a negative test count from a broken server.
func cellError(c *mesh.Cell, a *pairAcc) string {
	switch err := checkCell(c, a.bad); {
	case err != nil:
		return err.Error()
	case a.err != "":
		return a.err
	case c.Samples < 0:
		return fmt.Sprintf("implausible value: %d tests", c.Samples)
	}
	return ""
}

// checkCell passes every value read through mesh's plausibility check: a negative loss
// or an RTT of 1e300 from a database is a broken writer, never a value to colour.
func checkCell(c *mesh.Cell, bad float64) error {
	if bad > 0 {
		return fmt.Errorf("implausible value: %.0f points in the window out of range (loss outside 0..100, RTT or jitter negative or absurd)", bad)
	}
	for _, m := range mesh.Metrics {
		for _, st := range mesh.Stats {
			if v := c.Values[m][st]; !math.IsNaN(v) {
				if err := checkValue(m, v); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// checkValue runs mesh's check on one metric value.
func checkValue(m mesh.Metric, v float64) error {
	var r mesh.PingResult
	switch m {
	case mesh.Latency:
		r.AvgRTT = v
	case mesh.JitterMs:
		r.JitterMs = v
	case mesh.JitterPct:
		r.JitterPct = v
	case mesh.Loss:
		r.LossPct = v
	}
	return r.Check()
}

func (rd *mread) step(pending string) Step {
	rd.mu.Lock()
	have := make(map[statKey]bool, len(rd.have))
	for k, v := range rd.have {
		have[k] = v
	}
	rd.mu.Unlock()
	via := "raw"
	switch {
	case rd.via != "":
		via = rd.via
	case rd.lvl != nil:
		via = "rollup " + rd.lvl.name
	}
	st := Step{Matrix: rd.matrix(), Pending: pending, Via: via, have: have}
	rd.mu.Lock()
	st.Notes = append(st.Notes, rd.notes...)
	if rd.histShort > 0 {
		st.Notes = append(st.Notes, fmt.Sprintf("p95 unknown for %d %s: %s", rd.histShort, plural(rd.histShort, "pair", "pairs"), rd.histWhy))
	}
	rd.mu.Unlock()
	return st
}

// MatrixSteps reads the mesh over the window in steps (see above), calling step with
// each whole matrix; the last call has Pending "". want is the stat on screen: it is
// read right after last(), and p95 is read only when want is P95 (or from a rollup).
// A step that fails ends the read with its error; the steps before it stand.
func (r *Reader) MatrixSteps(ctx context.Context, want mesh.Stat, step func(Step)) error {
	_, err := r.matrixSteps(ctx, want, step)
	return err
}

// matrixSteps is MatrixSteps, returning the read's accumulators (nil for text data).
func (r *Reader) matrixSteps(ctx context.Context, want mesh.Stat, step func(Step)) (*mread, error) {
	t0 := time.Now()
	stringly, err := r.stringMetrics(ctx)
	if err != nil {
		return nil, err
	}
	if stringly {
		// Text-typed metric fields: InfluxQL cannot aggregate them, so one raw read.
		m, err := r.matrixRaw(ctx)
		if err != nil {
			return nil, err
		}
		have := map[statKey]bool{}
		for _, mt := range mesh.Metrics {
			for _, st := range mesh.Stats {
				have[statKey{mt, st}] = true
			}
		}
		step(Step{Matrix: m, Via: "raw (text fields)", have: have})
		return nil, nil
	}
	var p95 []mesh.Metric
	if want == mesh.P95 {
		p95 = mesh.Metrics
	}
	viaNote := ""
	// Hours of raw tests or more: whole rollup buckets with raw edges (hybrid.go).
	if h := r.planHybrid(ctx); h != nil {
		covered, stop := coverSteps(ctx, r.At(r.window, h.end), h.usedLevels(), step, false)
		// Every mean and max (the TUI switches between them); minima only to keep a
		// p95 inside the range.
		pc := pieceCols{sums: mesh.Metrics, maxes: mesh.Metrics, mins: p95}
		rd, late, err := r.hybridSteps(ctx, h, pc, p95, covered)
		stop()
		if err != nil || late == nil {
			return rd, err
		}
		viaNote = fmt.Sprintf("raw (rollup behind for %d pairs, e.g. %s→%s)", len(late), late[0].Src, late[0].Dst)
	}
	rd := newRead(r)
	rd.via = viaNote
	wrap := func(err error) error {
		return fmt.Errorf("read the mesh over %s: %w", r.describe(), err)
	}
	lvls := rd.pickLevel(ctx)
	step, stop := coverSteps(ctx, r, lvls, step, false)
	defer stop()
	first, other := want, mesh.Max
	switch want {
	case mesh.Last:
		first = mesh.Mean
	case mesh.Max:
		other = mesh.Mean
	case mesh.P95:
		other = mesh.Mean
	}
	later := []mesh.Stat{first, other}
	if want == mesh.P95 {
		later = []mesh.Stat{mesh.Mean, mesh.Max}
	}
	prim, sec := metricsWhere(primary), metricsWhere(func(m mesh.Metric) bool { return !primary(m) })
	counts := rd.countStmts()
	// 2. the stat on screen of latency, jitter % and loss (with the counts on a rollup:
	// its means need them, and they are cheap there). A rollup's p95 comes from its
	// histograms, read once the window's min and max are in (readHists).
	s2stat := first
	if want == mesh.P95 && rd.lvl != nil {
		s2stat = mesh.Mean
	}
	s2 := rd.statStmtsOf(prim, s2stat)
	if rd.lvl != nil {
		s2, counts = append(s2, counts...), nil
	}
	// 1. the first paint: the newest tests, from the raw rows at the window's end (a
	// sweep's worth, cheap), then last() of every pair beside step 2 (last() over a day
	// costs as much as a fifth of an aggregate, and pairs not tested lately need it).
	painted := false
	if rd.lvl == nil {
		if painted, err = rd.paintTail(ctx, first.String()+", "+other.String()+", counts", step); err != nil {
			return nil, wrap(err)
		} else if painted {
			s2 = append(s2, rd.lastStmts()...)
		}
	}
	s2done := make(chan error, 1)
	go func() { s2done <- rd.run(ctx, s2, false) }()
	if !painted {
		if err := rd.run(ctx, rd.lastStmts(), true); err != nil {
			<-s2done
			return nil, wrap(err)
		}
		step(rd.step(first.String() + ", " + other.String() + ", counts"))
	}
	// Overlapped (SetOverlap): step 3's requests start once last() is in, so no core
	// idles while the slowest of step 2's requests finishes alone.
	var s3done chan error
	if r.overlap && want != mesh.P95 {
		s3done = make(chan error, 1)
		go func() { s3done <- rd.run(ctx, rd.statStmtsOf(prim, other), false) }()
	}
	if err := <-s2done; err != nil {
		if s3done != nil {
			<-s3done
		}
		return nil, wrap(err)
	}
	if want != mesh.P95 {
		// 3. the other of mean and max of latency, jitter % and loss (already under way
		// when the read overlaps its steps).
		step(rd.step(other.String() + ", counts"))
		if s3done != nil {
			err = <-s3done
		} else {
			err = rd.run(ctx, rd.statStmtsOf(prim, other), false)
		}
		if err != nil {
			return nil, wrap(err)
		}
	}
	// 4. jitter ms, the counts and the implausible-point check.
	pend := "counts, jitter ms"
	if want == mesh.P95 {
		pend = "mean, max, counts"
	}
	step(rd.step(pend))
	s4 := append(rd.statStmtsOf(sec, later...), counts...)
	if want == mesh.P95 {
		s4 = append(s4, rd.statStmtsOf(prim, later...)...)
		if rd.lvl == nil {
			s4 = append(s4, rd.statStmtsOf(sec, mesh.P95)...)
		}
	}
	if rd.lvl != nil {
		s4 = append(s4, rd.minStmts(mesh.Metrics)...)
	}
	if err := rd.run(ctx, s4, false); err != nil {
		return nil, wrap(err)
	}
	if want == mesh.P95 && rd.lvl != nil {
		// 5. p95 from the rollup's histograms.
		step(rd.step("p95"))
		if err := rd.readHists(ctx, []piece{rd.levelPiece()}, mesh.Metrics); err != nil {
			return nil, wrap(err)
		}
		rd.finishHists(ctx, mesh.Metrics)
	}
	if rd.lvl == nil {
		if note := r.rollupAdvice(ctx, time.Since(t0)); note != "" {
			rd.notes = append(rd.notes, note)
		}
	}
	step(rd.step(""))
	return rd, nil
}

// levelPiece is a single-level read's window as one piece of rollup buckets: those that
// start in the window.
func (rd *mread) levelPiece() piece {
	end := rd.r.end
	if end.IsZero() {
		end = rd.r.nowUTC()
	}
	return piece{lvl: rd.lvl, lo: end.Add(-rd.r.window), hi: end}
}

// minStmts read the metrics' minima over the window (a rollup's: min of its buckets').
func (rd *mread) minStmts(ms []mesh.Metric) []stmt {
	var out []stmt
	for _, m := range ms {
		expr := "min(" + QuoteIdent(m.Field()) + ")"
		if rd.lvl != nil {
			expr = "min(" + QuoteIdent(m.Field()+"_min") + ")"
		}
		out = append(out, stmt{good: rd.lvl == nil && goodOnly(m), aggs: []agg{{alias: m.Field() + "_lo", expr: expr, apply: setMin(m)}}})
	}
	return out
}

// tailSpan is how far back from the window's end the first paint reads raw rows: a
// sweep at the default interval, with its points written late; tailRows how many of a
// pair's newest tests it reads at most (a PoP's agents' of a few sweeps).
const (
	tailSpan = 5 * time.Minute
	tailRows = 64
)

// paintTail reads the raw tests of the window's last tailSpan as rows and steps their
// newest per pair as the first grid (what the hybrid read paints first); painted false
// when none was tested then (last() paints instead).
func (rd *mread) paintTail(ctx context.Context, pending string, step func(Step)) (painted bool, err error) {
	r := rd.r
	lo := "time > now() - " + durationLiteral(min(tailSpan, r.window))
	if !r.end.IsZero() {
		lo = "time > " + timeLiteral(r.end.Add(-min(tailSpan, r.window))) + " AND time <= " + timeLiteral(r.end)
	}
	fields := make([]string, 0, len(mesh.Metrics))
	for _, m := range mesh.Metrics {
		fields = append(fields, QuoteIdent(m.Field()))
	}
	// The newest tests only (bounded per pair, so an answer of more rows is refused
	// before it is decoded).
	res, err := r.c.queryRows(ctx, "SELECT "+strings.Join(fields, ", ")+` FROM "ping" WHERE `+lo+" AND "+knownDst+
		` GROUP BY "src_pop", "dst_pop" ORDER BY time DESC LIMIT `+strconv.Itoa(tailRows), true)
	if err != nil {
		return false, err
	}
	if len(res) == 0 || len(res[0].Series) == 0 {
		return false, nil
	}
	parts, err := rawRowParts(res[0].Series)
	if err != nil {
		return false, err
	}
	rd.setNewest(parts)
	step(rd.step(pending))
	return true, nil
}

// setNewest puts the pairs' newest tests from raw rows into the read: "last" is in.
func (rd *mread) setNewest(parts map[mesh.Pair]*part) {
	for p, pt := range parts {
		rd.setLast(p, pt)
	}
	rd.mu.Lock()
	for _, m := range mesh.Metrics {
		rd.have[statKey{m, mesh.Last}] = true
	}
	rd.mu.Unlock()
}

func containsStat(sts []mesh.Stat, st mesh.Stat) bool {
	for _, s := range sts {
		if s == st {
			return true
		}
	}
	return false
}

// SetOverlap(true) makes MatrixSteps start the other of mean and max (step 3) together
// with the stat on screen (step 2) instead of after it. Off by default: on 2 cores the
// three requests of step 2 already keep InfluxDB busy, and bench/influxgrid measured
// the filled grid no sooner overall (one run 35 % sooner, the next 7 % later) while
// the stat on screen came later (they share the cores).
func (r *Reader) SetOverlap(on bool) { r.overlap = on }

// At is a reader of the same database over another window (end zero: now).
func (r *Reader) At(window time.Duration, end time.Time) *Reader {
	c := *r
	if window > 0 {
		c.window = window
	}
	c.end = end
	return &c
}

// describe names the window for errors and the status bar.
func (r *Reader) describe() string {
	if r.end.IsZero() {
		return "the last " + r.window.String()
	}
	return r.end.Add(-r.window).UTC().Format("2006-01-02 15:04") + "–" + r.end.UTC().Format("2006-01-02 15:04 UTC")
}

// coverSteps wraps step so that every step carries the oldest test of the window
// (Step.Oldest), read by a request beside the read, sent with the first step (so it does
// not delay the first paint); the last step waits for it. lvls are the rollup levels the
// read uses: the window may reach back beyond the raw tests kept; now sends the request
// at once. stop ends that request
// (a read that fails) and waits for it: nothing of a read outlives it.
func coverSteps(ctx context.Context, r *Reader, lvls []*rollupLevel, step func(Step), now bool) (wrapped func(Step), stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var ch chan time.Time
	start := func() {
		ch = make(chan time.Time, 1)
		go func() { ch <- r.oldestIn(ctx, lvls) }()
	}
	if now { // no first paint to keep clear (snapshot): at once
		start()
	}
	var oldest time.Time
	got := false
	wrapped = func(s Step) {
		if ch == nil {
			start()
		}
		if !got {
			select {
			case oldest = <-ch:
				got = true
			default:
				if s.Pending == "" {
					oldest, got = <-ch, true
				}
			}
		}
		s.Oldest = oldest
		step(s)
	}
	stop = func() {
		cancel()
		if ch != nil && !got {
			<-ch
			got = true
		}
	}
	return wrapped, stop
}

// oldestIn is the time of the oldest raw test in the window, or of the oldest bucket of
// the given levels if older; zero when there is none or it cannot be read.
func (r *Reader) oldestIn(ctx context.Context, lvls []*rollupLevel) time.Time {
	stmts := []string{`SELECT first("loss_pct") FROM "ping" WHERE ` + r.timeCond() + " AND " + knownDst}
	for _, l := range lvls {
		stmts = append(stmts, `SELECT first("n")`+levelFrom(l)+" WHERE "+r.bucketCond()+" AND "+knownDst)
	}
	ts, err := r.rowTimes(ctx, stmts...)
	if err != nil {
		return time.Time{}
	}
	oldest := ts[0]
	for i, l := range lvls {
		// A bucket's time is its start: it says more than the raw tests only when it
		// starts a bucket or more before them (raw tests no longer kept).
		if t := ts[i+1]; !t.IsZero() && (oldest.IsZero() || t.Add(l.bucket).Before(oldest)) {
			oldest = t
		}
	}
	return oldest
}

// rollupAdviceAfter: a raw read of a window of hours that takes longer says, once, what
// rollups would save (a variable: tests make every read slow).
var rollupAdviceAfter = 2 * time.Second

// rollupSpeedup is how much sooner the grid of a day is complete from rollups (the
// hybrid read) than from the raw tests: bench/influxgrid, 30 PoPs x 24 h, one test per
// pair a minute, 3.2x to 5.4x over this round's runs (docs/benchmarks.md).
const rollupSpeedup = 3

// rollupAdvice is the note of a raw read of a long window that took took: what `meshtop
// rollup` would save, once per process; "" otherwise (a short window, a quick read,
// rollups in use, or --rollup raw chosen).
func (r *Reader) rollupAdvice(ctx context.Context, took time.Duration) string {
	if (r.rollupMode != "" && r.rollupMode != "auto") || r.window < hybridMinWindow || took < rollupAdviceAfter || r.advised == nil {
		return ""
	}
	if !r.levelEdge(ctx, rollup10m, "last", time.Unix(0, 0)).IsZero() {
		return "" // rollups are there (behind, or not reaching back): not a matter of setting them up
	}
	if !r.advised.CompareAndSwap(false, true) {
		return ""
	}
	return fmt.Sprintf("no rollups: this %s read took %s from the raw tests; meshtop rollup makes it about %dx faster (bench: 24h of 30 PoPs)",
		ShortSpan(r.window), took.Round(100*time.Millisecond), rollupSpeedup)
}
