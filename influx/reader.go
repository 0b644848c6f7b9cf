package influx

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// Reader reads meshtop's view of the SPEC 6 measurements: the mesh over a time window,
// one pair's history and its traces. It satisfies tui.Source.
type Reader struct {
	c      *conn
	window time.Duration
	end    time.Time
	// noP95 leaves out the percentile aggregates (QuickMatrix): they are most of the
	// mesh query's time on a large window.
	noP95 bool
	// rollupMode is SetRollup's choice ("" = auto).
	rollupMode string
	// overlap: MatrixSteps runs step 3 beside step 2, not after it (SetOverlap).
	overlap bool
	// clock pins "now" for reads that need an absolute end (ReadMesh, Refresh); nil:
	// time.Now. Tests move it.
	clock func() time.Time
	// rowsMax overrides hybridRowsMax (tests read every kind of piece).
	rowsMax int
	// advised is set once a read has said what rollups would save (rollupAdvice),
	// shared by the readers At makes: it is said once per process.
	advised *atomic.Bool
}

// DefaultWindow is the history window when none is given (Grafana's "last 1h").
const DefaultWindow = time.Hour

// NewReader reads through cfg over the last window (DefaultWindow when <= 0).
func NewReader(cfg Config, window time.Duration) (*Reader, error) {
	c, err := newConn(cfg)
	if err != nil {
		return nil, err
	}
	if window <= 0 {
		window = DefaultWindow
	}
	return &Reader{c: c, window: window, advised: new(atomic.Bool)}, nil
}

// SetEnd pins the window's end (zero: the server's now(), like Grafana's "now").
func (r *Reader) SetEnd(t time.Time) { r.end = t }

// Window is the length of the time window.
func (r *Reader) Window() time.Duration { return r.window }

// Name is the source name shown by the TUI and in snapshot JSON.
func (r *Reader) Name() string { return "influx" }

// timeCond is the $timeFilter of the window.
func (r *Reader) timeCond() string {
	if r.end.IsZero() {
		return "time > now() - " + durationLiteral(r.window)
	}
	return "time > " + timeLiteral(r.end.Add(-r.window)) + " AND time <= " + timeLiteral(r.end)
}

// bucketCond is the window over rollup buckets, which carry their start time.
func (r *Reader) bucketCond() string {
	if r.end.IsZero() {
		return "time >= now() - " + durationLiteral(r.window)
	}
	return "time >= " + timeLiteral(r.end.Add(-r.window)) + " AND time < " + timeLiteral(r.end)
}

// knownDst leaves out destinations the collector could not place, as the dashboards do.
var knownDst = `"dst_pop" != ` + QuoteString(mesh.UnknownPop)

func pairCond(src, dst string) string {
	return `"src_pop" = ` + QuoteString(src) + ` AND "dst_pop" = ` + QuoteString(dst)
}

// Pops lists every PoP that appears as source or (known) destination in the ping
// measurement, sorted. InfluxDB 1.x answers SHOW TAG VALUES over all time.
func (r *Reader) Pops(ctx context.Context) ([]string, error) {
	res, err := r.c.query(ctx, `SHOW TAG VALUES FROM "ping" WITH KEY IN ("src_pop", "dst_pop")`)
	if err != nil {
		return nil, fmt.Errorf("list PoPs: %w", err)
	}
	set := map[string]bool{}
	for _, rs := range res {
		for _, s := range allSeries(rs.Series) {
			for _, row := range s.rows {
				if v, ok := toString(s.get(row, "value")); ok && v != "" && v != mesh.UnknownPop {
					set[v] = true
				}
			}
		}
	}
	pops := make([]string, 0, len(set))
	for p := range set {
		pops = append(pops, p)
	}
	slices.Sort(pops)
	return pops, nil
}

// statFuncs are the InfluxQL functions of the stats, in mesh.Stats order.
var statFuncs = [...]struct {
	stat mesh.Stat
	fn   string
}{
	{mesh.Last, "last(%s)"}, {mesh.Mean, "mean(%s)"}, {mesh.Max, "max(%s)"}, {mesh.P95, "percentile(%s, 95)"},
}

// aggCols are every stat of the given metrics' fields, named field_stat (p95 left out
// when noP95).
func aggCols(noP95 bool, metrics ...mesh.Metric) []string {
	var cols []string
	for _, m := range metrics {
		for _, sf := range statFuncs {
			if noP95 && sf.stat == mesh.P95 {
				continue
			}
			cols = append(cols, fmt.Sprintf(sf.fn, QuoteIdent(m.Field()))+" AS "+QuoteIdent(m.Field()+"_"+sf.stat.String()))
		}
	}
	return cols
}

// goodTests keeps successful tests only: a failed test stores avg_rtt_ms 0 and
// jitter_pct 100, which must not pull latency means down or jitter up.
const goodTests = `"avg_rtt_ms" > 0`

// MatrixQuery is the InfluxQL of Matrix, one request of three statements, each grouped
// by src_pop, dst_pop over the window, Unknown destinations left out:
//  1. every stat of latency and jitter over the successful tests (and their count);
//  2. every stat of loss over all tests (and their count);
//  3. the newest test's avg_rtt_ms and time: 0 means it failed. A lone selector is
//     InfluxDB's fast path and is the only way to get the newest point's time.
//
// Flat statements rather than one with subqueries: InfluxDB 1.6 runs the subquery form
// several times slower (measured by bench/influxgrid).
func (r *Reader) MatrixQuery() string {
	cond := r.timeCond() + " AND " + knownDst
	group := ` GROUP BY "src_pop", "dst_pop"`
	good := "SELECT " + strings.Join(append(aggCols(r.noP95, mesh.MetricsWhere(false)...), `count("avg_rtt_ms") AS "good"`), ", ") +
		` FROM "ping" WHERE ` + cond + " AND " + goodTests + group
	all := "SELECT " + strings.Join(append(aggCols(r.noP95, mesh.MetricsWhere(true)...), `count("loss_pct") AS "n"`), ", ") +
		` FROM "ping" WHERE ` + cond + group
	newest := `SELECT last("avg_rtt_ms") AS "last_rtt" FROM "ping" WHERE ` + cond + group
	return good + "; " + all + "; " + newest
}

// QuickMatrix is Matrix without the p95 values (NaN in every cell): the progressive
// read (MatrixSteps) up to mean and max.
func (r *Reader) QuickMatrix(ctx context.Context) (*mesh.Matrix, error) {
	return r.finalStep(ctx, mesh.Mean)
}

// Matrix reduces the window to one cell per PoP pair, every stat included: the
// progressive read (MatrixSteps) to its end.
func (r *Reader) Matrix(ctx context.Context) (*mesh.Matrix, error) {
	return r.finalStep(ctx, mesh.P95)
}

func (r *Reader) finalStep(ctx context.Context, want mesh.Stat) (*mesh.Matrix, error) {
	var last *mesh.Matrix
	if err := r.MatrixSteps(ctx, want, func(s Step) { last = s.Matrix }); err != nil {
		return nil, err
	}
	return last, nil
}

// MatrixOneRequest is the mesh read as meshtop did before the progressive read: every
// aggregate in one request of three statements (MatrixQuery). Kept as the reference the
// fast forms are tested against and as bench/influxgrid's baseline.
func (r *Reader) MatrixOneRequest(ctx context.Context) (*mesh.Matrix, error) {
	stringly, err := r.stringMetrics(ctx)
	if err != nil {
		return nil, err
	}
	if stringly {
		return r.matrixRaw(ctx)
	}
	res, err := r.c.query(ctx, r.MatrixQuery())
	if err != nil {
		return nil, fmt.Errorf("read the mesh over the last %s: %w", r.window, err)
	}
	if len(res) != 3 {
		return nil, fmt.Errorf("read the mesh: InfluxDB answered %d results to 3 statements", len(res))
	}
	type acc struct {
		c       mesh.Cell
		good, n float64
	}
	cells := map[mesh.Pair]*acc{}
	get := func(s series) *acc {
		p := mesh.Pair{Src: s.tags["src_pop"], Dst: s.tags["dst_pop"]}
		a := cells[p]
		if a == nil {
			a = &acc{c: mesh.EmptyCell()}
			cells[p] = a
		}
		return a
	}
	fill := func(a *acc, s series, row []any, metrics ...mesh.Metric) {
		for _, m := range metrics {
			for _, sf := range statFuncs {
				if v, ok := s.float(row, m.Field()+"_"+sf.stat.String()); ok {
					a.c.Values[m][sf.stat] = v
				}
			}
		}
	}
	for _, s := range allSeries(res[1].Series) { // all tests first: they define the pairs
		if len(s.rows) == 0 {
			continue
		}
		a := get(s)
		fill(a, s, s.rows[0], mesh.MetricsWhere(true)...)
		a.n, _ = s.float(s.rows[0], "n")
	}
	for _, s := range allSeries(res[0].Series) {
		if len(s.rows) == 0 {
			continue
		}
		a := get(s)
		fill(a, s, s.rows[0], mesh.MetricsWhere(false)...)
		a.good, _ = s.float(s.rows[0], "good")
	}
	var newest time.Time
	lastRTT := map[mesh.Pair]float64{}
	for _, s := range allSeries(res[2].Series) {
		if len(s.rows) == 0 {
			continue
		}
		a := get(s)
		if t, err := s.time(s.rows[0]); err == nil {
			a.c.Last.Time = t
			if t.After(newest) {
				newest = t
			}
		}
		lastRTT[mesh.Pair{Src: s.tags["src_pop"], Dst: s.tags["dst_pop"]}], _ = s.float(s.rows[0], "last_rtt")
	}
	out := make(map[mesh.Pair]*mesh.Cell, len(cells))
	for p, a := range cells {
		c := &a.c
		c.Samples = int(a.n)
		lastFailed := a.n > 0 && lastRTT[p] <= 0
		allFailed := a.n > 0 && a.good == 0
		c.Failed[mesh.Last] = lastFailed
		for _, st := range mesh.Stats[1:] {
			c.Failed[st] = allFailed
		}
		c.Last.Failed = lastFailed
		for _, m := range mesh.Metrics {
			switch {
			case m.CountsFailed():
				*m.SampleRef(&c.Last) = c.Values[m][mesh.Last]
			case lastFailed:
				// last() of the successful tests is an older test: the newest one failed.
				c.Values[m][mesh.Last] = math.NaN()
				*m.SampleRef(&c.Last) = m.FailedValue()
			default:
				*m.SampleRef(&c.Last) = c.Values[m][mesh.Last]
			}
		}
		if !lastFailed {
			c.Last.MinRTT, c.Last.MaxRTT = c.Last.AvgRTT, c.Last.AvgRTT
		}
		out[p] = c
	}
	return mesh.NewMatrix(newest, r.Name(), nil, nil, out), nil
}

// stringMetrics reports whether a metric field is stored as text in some shard (a
// collector without Telegraf's converter). InfluxQL cannot aggregate text, so such data
// is read raw and reduced here.
func (r *Reader) stringMetrics(ctx context.Context) (bool, error) {
	res, err := r.c.query(ctx, `SHOW FIELD KEYS FROM "ping"`)
	if err != nil {
		return false, fmt.Errorf("read field types of ping: %w", err)
	}
	for _, rs := range res {
		for _, s := range allSeries(rs.Series) {
			for _, row := range s.rows {
				k, _ := toString(s.get(row, "fieldKey"))
				t, _ := toString(s.get(row, "fieldType"))
				if t == TypeString && slices.ContainsFunc(mesh.Metrics, func(m mesh.Metric) bool { return m.Field() == k }) {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

// historyBucket fits the window into at most maxPoints buckets of whole seconds.
func historyBucket(window time.Duration, maxPoints int) time.Duration {
	if maxPoints <= 0 {
		maxPoints = 120
	}
	b := (window + time.Duration(maxPoints) - 1) / time.Duration(maxPoints)
	b = (b + time.Second - 1).Truncate(time.Second)
	return max(b, time.Second)
}

// pingSources is the FROM clause of the history query: successful tests only for
// latency and jitter, every test for loss and counts, merged by subqueries so one
// GROUP BY time() statement yields each bucket whole. (For one pair that costs little;
// for the whole mesh Matrix uses flat statements instead.)
func pingSources(cond string) string {
	return fmt.Sprintf(`(SELECT "avg_rtt_ms"::float AS "rtt", "jitter_pct"::float AS "jp", "jitter_ms"::float AS "jm" FROM "ping" WHERE %[1]s AND %[2]s), `+
		`(SELECT "loss_pct"::float AS "loss" FROM "ping" WHERE %[1]s)`, cond, goodTests)
}

// HistoryQuery is the InfluxQL of PairHistory. The RTT band comes from the answered
// probes (probe_N_rtt_ms > 0; a lost probe is stored as 0), merged into one column by
// one subquery per probe field, so it matches the live view's min/max of probe RTTs.
func (r *Reader) HistoryQuery(src, dst string, bucket time.Duration) string {
	return r.historyQueryIn(r.timeCond(), src, dst, bucket)
}

// historyQueryIn is HistoryQuery over the raw tests in time condition tc.
func (r *Reader) historyQueryIn(tc, src, dst string, bucket time.Duration) string {
	cond := tc + " AND " + pairCond(src, dst)
	probes := make([]string, 0, len(probeFields))
	for _, f := range probeFields {
		probes = append(probes, fmt.Sprintf(`(SELECT %s::float AS "probe" FROM "ping" WHERE %s AND %s > 0)`, QuoteIdent(f), cond, QuoteIdent(f)))
	}
	return `SELECT min("probe") AS "min_rtt", mean("rtt") AS "avg_rtt", max("probe") AS "max_rtt", ` +
		`min("rtt") AS "min_avg", max("rtt") AS "max_avg", ` +
		`mean("jm") AS "jm", mean("jp") AS "jp", mean("loss") AS "loss", count("loss") AS "n", count("rtt") AS "good" ` +
		"FROM " + pingSources(cond) + ", " + strings.Join(probes, ", ") + " WHERE " + tc +
		" GROUP BY time(" + durationLiteral(bucket) + ") fill(none)"
}

// PairHistory returns the pair's pings over the window in at most maxPoints buckets
// (GROUP BY time), oldest first, each at its bucket's start time. MinRTT/MaxRTT are the
// extremes of the answered probes in the bucket (of the tests' averages when the data
// has no probe fields, or when read from a rollup). See PairBuckets.
func (r *Reader) PairHistory(ctx context.Context, src, dst string, maxPoints int) ([]mesh.Sample, error) {
	bs, err := r.PairBuckets(ctx, src, dst, maxPoints)
	if err != nil {
		return nil, err
	}
	out := make([]mesh.Sample, len(bs))
	for i, b := range bs {
		out[i] = b.Sample
	}
	return out, nil
}

// Check verifies that the database can be read (address, credentials, database name)
// and holds ping data, so a command can fail with a clear message before it starts a UI.
func (r *Reader) Check(ctx context.Context) error {
	// SHOW MEASUREMENTS on a missing database answers nothing rather than an error; SHOW
	// DATABASES lists the databases this user may read.
	names, err := r.c.databases(ctx)
	if err != nil {
		return fmt.Errorf("read history: %w", err)
	}
	if !slices.Contains(names, r.c.db) {
		return fmt.Errorf("read history: %w", r.c.databaseError(ctx, names, false, nil))
	}
	res, err := r.c.query(ctx, `SHOW MEASUREMENTS`)
	if err != nil {
		return fmt.Errorf("read history: %w", err)
	}
	for _, rs := range res {
		for _, s := range allSeries(rs.Series) {
			for _, row := range s.rows {
				if v, _ := toString(s.get(row, "name")); v == PingMeasurement {
					return nil
				}
			}
		}
	}
	return fmt.Errorf("read history: database %q at %s has no ping measurement yet (record into it with --record or meshtop collect)", r.c.db, r.c.where())
}
