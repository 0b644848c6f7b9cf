package influx

import (
	"context"
	"fmt"
	"math"
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
	Via  string
	have map[statKey]bool
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
	hist     map[mesh.Metric][]float64
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
	// via, when set, is Step.Via (a hybrid read); pairs, when set, restricts the read to
	// some pairs (an InfluxQL condition).
	via   string
	pairs string
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
		a.cell.Values[m][mesh.Mean], a.cell.Values[m][mesh.Max] = math.NaN(), math.NaN()
		if den > 0 {
			a.cell.Values[m][mesh.Mean] = pt.sum[m] / den
		}
		if v, ok := pt.max[m]; ok {
			a.cell.Values[m][mesh.Max] = v
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
		{aggs: []agg{{alias: "bad", expr: `count("loss_pct")`, apply: func(a *pairAcc, v float64) { a.bad = v }}}},
	}
}

// implausibleCond selects points whose values no test can have (mesh.PingResult.Check's
// limits), so a pair with one such point is that pair's error rather than a mean that
// hides it.
var implausibleCond = fmt.Sprintf(`("loss_pct" < 0 OR "loss_pct" > 100 OR "avg_rtt_ms" < 0 OR "avg_rtt_ms" >= %d OR `+
	`"jitter_ms" < 0 OR "jitter_ms" >= %d OR "jitter_pct" < 0 OR "jitter_pct" > %d)`, mesh.MaxRTTms, mesh.MaxRTTms, mesh.MaxJitterPct)

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
	if s.aggs[0].alias == "bad" && (raw || rd.lvl == nil) {
		q += " AND " + implausibleCond
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
		for m, h := range a.hist {
			c.Values[m][mesh.P95] = histPercentile(m, h, 95)
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
	return Step{Matrix: rd.matrix(), Pending: pending, Via: via, have: have}
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
	viaNote := ""
	// Hours of raw tests: whole rollup buckets with raw edges, checked (hybrid.go); p95
	// on screen then comes from the raw tests (a rollup's is within a histogram bucket).
	if h := r.planHybrid(ctx); h != nil {
		rd, late, err := r.hybridSteps(ctx, h, want == mesh.P95, step)
		if err != nil || late == nil {
			return rd, err
		}
		viaNote = fmt.Sprintf("raw (rollup behind for %d pairs, e.g. %s→%s)", len(late), late[0].Src, late[0].Dst)
	}
	rd := newRead(r)
	rd.via = viaNote
	rd.lvl = r.pickRollup(ctx)
	wrap := func(err error) error {
		return fmt.Errorf("read the mesh over %s: %w", r.describe(), err)
	}
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
	p95 := want == mesh.P95 || rd.lvl != nil
	prim, sec := metricsWhere(primary), metricsWhere(func(m mesh.Metric) bool { return !primary(m) })
	p95Note := ""
	if p95 && want != mesh.P95 {
		p95Note = ", p95"
	}
	counts := rd.countStmts()
	// 2. the stat on screen of latency, jitter % and loss (with the counts on a rollup:
	// its means need them, and they are cheap there).
	s2 := rd.statStmtsOf(prim, first)
	if rd.lvl != nil {
		s2, counts = append(s2, counts...), nil
	}
	// Step 2's requests start with step 1's: last() is cheap and would otherwise add its
	// time to the stat on screen's.
	s2done := make(chan error, 1)
	go func() { s2done <- rd.run(ctx, s2, false) }()
	// 1. the newest test of every pair, from raw data (cheap at any window length).
	if err := rd.run(ctx, rd.lastStmts(), true); err != nil {
		<-s2done
		return nil, wrap(err)
	}
	// Overlapped (SetOverlap): step 3's requests start once last() is in, so no core
	// idles while the slowest of step 2's requests finishes alone.
	var s3done chan error
	if r.overlap && want != mesh.P95 {
		s3done = make(chan error, 1)
		go func() { s3done <- rd.run(ctx, rd.statStmtsOf(prim, other), false) }()
	}
	step(rd.step(first.String() + ", " + other.String() + ", counts" + p95Note))
	if err := <-s2done; err != nil {
		if s3done != nil {
			<-s3done
		}
		return nil, wrap(err)
	}
	if want != mesh.P95 {
		// 3. the other of mean and max of latency, jitter % and loss (already under way
		// when the read overlaps its steps).
		step(rd.step(other.String() + ", counts" + p95Note))
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
	step(rd.step(pend + p95Note))
	s4 := append(rd.statStmtsOf(sec, later...), counts...)
	if want == mesh.P95 {
		s4 = append(s4, rd.statStmtsOf(prim, later...)...)
		s4 = append(s4, rd.statStmtsOf(sec, mesh.P95)...)
	}
	if err := rd.run(ctx, s4, false); err != nil {
		return nil, wrap(err)
	}
	if !p95 || want == mesh.P95 {
		step(rd.step(""))
		return rd, nil
	}
	// 5. p95 from a rollup's histograms.
	step(rd.step("p95"))
	if err := rd.run(ctx, rd.statStmts(mesh.P95), false); err != nil {
		return nil, wrap(err)
	}
	step(rd.step(""))
	return rd, nil
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
