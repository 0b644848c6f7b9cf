package influx

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// Rollups: per pair and bucket, what every view of the grid needs, kept by InfluxDB
// itself (continuous queries) in their own retention policies, so a 7- or 30-day window
// reads a few hundred thousand bucket rows instead of tens of millions of tests.
//
// Fields of a bucket (tags src_pop, dst_pop):
//
//	n                 tests in the bucket (count of loss_pct)
//	good, failed      successful tests (avg_rtt_ms > 0) and failed ones (avg_rtt_ms <= 0);
//	                  the workshop's failed field is not used: it is text in its databases
//	bad               tests with impossible values (see implausibleCond)
//	<f>_sum/_min/_max over successful tests for avg_rtt_ms, jitter_pct, jitter_ms;
//	                  over all tests for loss_pct
//	<f>_last          the bucket's newest value (all tests)
//	h_<f>_<k>         histogram: tests whose value lies in bucket k (see histBounds)
//
// A window's mean is sum/good (loss: sum/n), exactly the mean over the tests; max is the
// max of maxima, exact. The p95 comes from the summed histogram counts of all tests in
// the window (never a p95 of bucket p95s): the bucket holding the 95th-percentile rank
// is found and the value interpolated linearly inside it, so the shown p95 is within one
// histogram bucket of the true one — 25 % of the value for RTT and jitter, 5 points for
// loss.
type rollupLevel struct {
	name        string        // "10m", "1h"
	rp          string        // retention policy
	measurement string        // in rp
	bucket      time.Duration // GROUP BY time
	keep        time.Duration // retention
	// shard is the retention policy's shard group duration. InfluxDB pays per series
	// and shard for every aggregate (~60 us each), so a 30-day read of 2,450 pairs over
	// five weekly shards costs more than its rows: rollup rows are few, shards are long.
	shard time.Duration
	from  *rollupLevel // nil: computed from raw ping
}

var (
	rollup10m = &rollupLevel{name: "10m", rp: "mt_rollup_10m", measurement: "ping_10m", bucket: 10 * time.Minute, keep: 35 * 24 * time.Hour, shard: 7 * 24 * time.Hour}
	rollup1h  = &rollupLevel{name: "1h", rp: "mt_rollup_1h", measurement: "ping_1h", bucket: time.Hour, keep: 400 * 24 * time.Hour, shard: 30 * 24 * time.Hour, from: rollup10m}
	// The 6 h level is summed from the 1 h level (never raw): a 30-day window is 120
	// buckets per pair (294 k rows at 50 PoPs) instead of the 1 h level's 1.7 M.
	rollup6h = &rollupLevel{name: "6h", rp: "mt_rollup_6h", measurement: "ping_6h", bucket: 6 * time.Hour, keep: 800 * 24 * time.Hour, shard: 90 * 24 * time.Hour, from: rollup1h}
	// RollupLevels, finest first.
	rollupLevels = []*rollupLevel{rollup10m, rollup1h, rollup6h}
)

// histSpec is a metric's histogram: bucket 0 holds v <= lo; bucket k (1..n) holds
// lo*ratio^(k-1) < v <= lo*ratio^k; bucket n+1 everything above. Loss is linear (ratio 0:
// step lo).
type histSpec struct {
	lo, ratio float64
	n         int
}

var histSpecs = map[mesh.Metric]histSpec{
	mesh.Latency:   {lo: 0.1, ratio: 1.25, n: 59},  // 0.1 ms .. 52 s
	mesh.JitterMs:  {lo: 0.01, ratio: 1.25, n: 60}, // 0.01 ms .. 6.5 s
	mesh.JitterPct: {lo: 0.01, ratio: 1.25, n: 60}, // 0.01 % .. 6500 %
	mesh.Loss:      {lo: 5, n: 20},                 // 0, (0,5], ..., (95,100]
}

// upper is bucket k's upper bound (+Inf for the overflow bucket).
func (h histSpec) upper(k int) float64 {
	switch {
	case k > h.n:
		return math.Inf(1)
	case h.ratio == 0:
		return h.lo * float64(k)
	}
	return h.lo * math.Pow(h.ratio, float64(k))
}

func (h histSpec) lower(k int) float64 {
	if k == 0 {
		return 0
	}
	return h.upper(k - 1)
}

func histField(m mesh.Metric, k int) string { return fmt.Sprintf("h_%s_%02d", m.Field(), k) }

// HistField names the rollup histogram field that counts value v of metric m.
func HistField(m mesh.Metric, v float64) string {
	h := histSpecs[m]
	for k := 0; k <= h.n; k++ {
		if v <= h.upper(k) {
			return histField(m, k)
		}
	}
	return histField(m, h.n+1)
}

// histAggs sum a metric's histogram over the window into the pair's counts.
func (rd *mread) histAggs(m mesh.Metric) []agg {
	h := histSpecs[m]
	out := make([]agg, 0, h.n+2)
	for k := 0; k <= h.n+1; k++ {
		out = append(out, agg{alias: histField(m, k), expr: "sum(" + QuoteIdent(histField(m, k)) + ")", apply: func(a *pairAcc, v float64) {
			if a.hist == nil {
				a.hist = map[mesh.Metric][]float64{}
			}
			if a.hist[m] == nil {
				a.hist[m] = make([]float64, h.n+2)
			}
			a.hist[m][k] += v
		}})
	}
	return out
}

// histPercentile is the p-th percentile of counts (nearest rank, as mesh.Percentile),
// interpolated inside the bucket that holds the rank; NaN without counts. The overflow
// bucket answers its lower bound (the value is at least that).
func histPercentile(m mesh.Metric, counts []float64, p float64) float64 {
	h := histSpecs[m]
	var total float64
	for _, c := range counts {
		total += c
	}
	if total == 0 {
		return math.NaN()
	}
	rank := math.Max(1, math.Floor(total*p/100+0.5))
	var cum float64
	for k, c := range counts {
		if c == 0 {
			continue
		}
		if cum+c >= rank {
			lo, hi := h.lower(k), h.upper(k)
			if math.IsInf(hi, 1) {
				return lo
			}
			return lo + (hi-lo)*(rank-cum)/c
		}
		cum += c
	}
	return h.upper(h.n)
}

// rollupSelects are the SELECT ... INTO statements of a level, without time condition
// and GROUP BY (a continuous query adds its own; the backfill adds both).
func rollupSelects(l *rollupLevel) []string {
	into := " INTO " + QuoteIdent(l.rp) + "." + QuoteIdent(l.measurement)
	if l.from != nil {
		// Coarser levels sum the finer one: every field is additive, a max or min of
		// maxima or minima, or the newest value.
		var cols []string
		for _, f := range []string{"n", "good", "failed", "bad"} {
			cols = append(cols, "sum("+QuoteIdent(f)+") AS "+QuoteIdent(f))
		}
		for _, m := range mesh.Metrics {
			f := m.Field()
			cols = append(cols, "sum("+QuoteIdent(f+"_sum")+") AS "+QuoteIdent(f+"_sum"),
				"min("+QuoteIdent(f+"_min")+") AS "+QuoteIdent(f+"_min"),
				"max("+QuoteIdent(f+"_max")+") AS "+QuoteIdent(f+"_max"),
				"last("+QuoteIdent(f+"_last")+") AS "+QuoteIdent(f+"_last"))
			for k := 0; k <= histSpecs[m].n+1; k++ {
				cols = append(cols, "sum("+QuoteIdent(histField(m, k))+") AS "+QuoteIdent(histField(m, k)))
			}
		}
		return []string{"SELECT " + strings.Join(cols, ", ") + into + levelFrom(l.from)}
	}
	from := ` FROM "ping"`
	all := []string{`count("loss_pct") AS "n"`}
	good := []string{`count("avg_rtt_ms") AS "good"`}
	for _, m := range mesh.Metrics {
		f := QuoteIdent(m.Field())
		cols := []string{"sum(" + f + ") AS " + QuoteIdent(m.Field()+"_sum"), "min(" + f + ") AS " + QuoteIdent(m.Field()+"_min"),
			"max(" + f + ") AS " + QuoteIdent(m.Field()+"_max")}
		all = append(all, "last("+f+") AS "+QuoteIdent(m.Field()+"_last"))
		if goodOnly(m) {
			good = append(good, cols...)
		} else {
			all = append(all, cols...)
		}
	}
	out := []string{
		"SELECT " + strings.Join(all, ", ") + into + from,
		"SELECT " + strings.Join(good, ", ") + into + from + " WHERE " + goodTests,
		`SELECT count("loss_pct") AS "failed"` + into + from + ` WHERE "avg_rtt_ms" <= 0`,
		`SELECT count("loss_pct") AS "bad"` + into + from + " WHERE " + implausibleCond,
	}
	for _, m := range mesh.Metrics {
		h := histSpecs[m]
		f := QuoteIdent(m.Field())
		for k := 0; k <= h.n+1; k++ {
			var cond []string
			if goodOnly(m) {
				cond = append(cond, goodTests)
			}
			if k > 0 {
				cond = append(cond, f+" > "+strconv.FormatFloat(h.lower(k), 'g', -1, 64))
			}
			if k <= h.n {
				cond = append(cond, f+" <= "+strconv.FormatFloat(h.upper(k), 'g', -1, 64))
			}
			q := "SELECT count(" + f + ") AS " + QuoteIdent(histField(m, k)) + into + from
			if len(cond) > 0 {
				q += " WHERE " + strings.Join(cond, " AND ")
			}
			out = append(out, q)
		}
	}
	return out
}

const rollupGroup = ` GROUP BY time(%s), "src_pop", "dst_pop"`

// RollupOptions shape SetupRollups.
type RollupOptions struct {
	// Backfill computes the rollups of existing data from Since (zero: all of the raw
	// data within each level's retention) up to now.
	Backfill bool
	Since    time.Time
	// Only limits the backfill to one level ("10m" or "1h"; "" = all).
	Only string
	// Progress, when set, hears about each step (level, day).
	Progress func(msg string)
}

// rollupCQName is the name of a level's i-th continuous query.
func rollupCQName(l *rollupLevel, i int) string { return fmt.Sprintf("mt_rollup_%s_%03d", l.name, i) }

// RollupStatements are the InfluxQL statements that set the rollups up: the retention
// policies and the continuous queries (dropped and created again, so a changed
// definition replaces the old one). Each CQ re-computes the last two buckets, so tests
// written late (a sweep's points carry its start time) are counted.
func (r *Reader) RollupStatements() []string {
	db := QuoteIdent(r.c.db)
	var out []string
	for _, l := range rollupLevels {
		// CREATE as it always was (an existing policy with other settings would refuse
		// it), then ALTER for the shard duration; it applies to shards made from now on.
		out = append(out, fmt.Sprintf("CREATE RETENTION POLICY %s ON %s DURATION %s REPLICATION 1",
			QuoteIdent(l.rp), db, durationLiteral(l.keep)),
			fmt.Sprintf("ALTER RETENTION POLICY %s ON %s SHARD DURATION %s", QuoteIdent(l.rp), db, durationLiteral(l.shard)))
	}
	for _, l := range rollupLevels {
		every, span := time.Duration(5*time.Minute), 2*l.bucket
		if l.bucket >= time.Hour {
			every = 10 * time.Minute
		}
		for i, sel := range rollupSelects(l) {
			name := QuoteIdent(rollupCQName(l, i))
			out = append(out, "DROP CONTINUOUS QUERY "+name+" ON "+db,
				fmt.Sprintf("CREATE CONTINUOUS QUERY %s ON %s RESAMPLE EVERY %s FOR %s BEGIN %s"+rollupGroup+" END",
					name, db, durationLiteral(every), durationLiteral(span), sel, durationLiteral(l.bucket)))
		}
	}
	return out
}

// SetupRollups creates the retention policies and continuous queries of the rollups and,
// with Backfill, computes them for existing data day by day (finest level first, since
// coarser levels are made from it). It needs an admin user (CQs) and works on a
// workshop database as it is: only the numeric RTT, jitter and loss fields are read.
func (r *Reader) SetupRollups(ctx context.Context, o RollupOptions) error {
	say := func(format string, args ...any) {
		if o.Progress != nil {
			o.Progress(fmt.Sprintf(format, args...))
		}
	}
	if stringly, err := r.stringMetrics(ctx); err != nil {
		return err
	} else if stringly {
		return fmt.Errorf("set up rollups: the ping measurement stores RTT, jitter or loss as text in some shard; " +
			"InfluxQL cannot aggregate text (use Telegraf's converter, as the workshop did)")
	}
	for _, q := range r.RollupStatements() {
		_, err := r.c.query(ctx, q)
		// A policy made before (whose shard duration the ALTER after it set) refuses
		// a CREATE with other settings: it is there, which is all CREATE is for.
		exists := err != nil && strings.HasPrefix(q, "CREATE RETENTION POLICY") && strings.Contains(err.Error(), "already exists")
		if err != nil && !exists && !(strings.HasPrefix(q, "DROP CONTINUOUS QUERY") && strings.Contains(err.Error(), "not found")) {
			return fmt.Errorf("set up rollups: %w", err)
		}
	}
	ncq := 0
	for _, l := range rollupLevels {
		ncq += len(rollupSelects(l))
	}
	say("retention policies and %d continuous queries in place", ncq)
	if !o.Backfill {
		return nil
	}
	for _, l := range rollupLevels {
		if o.Only != "" && o.Only != l.name {
			continue
		}
		// A level is backfilled over the span of what it is made from: raw data, or
		// the finer level (which may reach back further than the raw data kept).
		first, last, err := r.rawSpan(ctx)
		if l.from != nil {
			first, last, err = r.levelSpan(ctx, l.from)
		}
		if err != nil {
			return err
		}
		if first.IsZero() {
			say("no data to backfill rollup %s from", l.name)
			continue
		}
		if !o.Since.IsZero() && o.Since.After(first) {
			first = o.Since
		}
		start := first.Truncate(l.bucket)
		if min := time.Now().Add(-l.keep).Truncate(l.bucket); start.Before(min) {
			start = min
		}
		end := last.Add(l.bucket).Truncate(l.bucket)
		for day := start; day.Before(end); day = day.Add(24 * time.Hour) {
			to := day.Add(24 * time.Hour)
			if to.After(end) {
				to = end
			}
			var stmts []string
			for _, sel := range rollupSelects(l) {
				stmts = append(stmts, sel+backfillCond(sel, day, to)+fmt.Sprintf(rollupGroup, durationLiteral(l.bucket)))
			}
			// One request per statement: a request's statements run one after another
			// anyway, and a smaller answer keeps each within the timeout.
			for _, q := range stmts {
				if _, err := r.c.query(ctx, q); err != nil {
					return fmt.Errorf("backfill rollup %s for %s: %w", l.name, day.Format("2006-01-02"), err)
				}
			}
			say("backfilled rollup %s: %s .. %s", l.name, day.Format(time.RFC3339), to.Format(time.RFC3339))
		}
	}
	return nil
}

// backfillCond adds the time range to a rollup SELECT's own WHERE (or starts one).
func backfillCond(sel string, from, to time.Time) string {
	tc := "time >= " + timeLiteral(from) + " AND time < " + timeLiteral(to)
	if strings.Contains(sel, " WHERE ") {
		return " AND " + tc
	}
	return " WHERE " + tc
}

// rowTimes sends stmts (selectors such as first(f)) in one request and returns the time
// of each one's first row, zero when it has none.
func (r *Reader) rowTimes(ctx context.Context, stmts ...string) ([]time.Time, error) {
	res, err := r.c.query(ctx, strings.Join(stmts, "; "))
	if err != nil {
		return nil, err
	}
	ts := make([]time.Time, len(stmts))
	for i, rs := range res {
		if i >= len(ts) {
			break
		}
		for _, s := range allSeries(rs.Series) {
			if len(s.rows) > 0 {
				if t, err := s.time(s.rows[0]); err == nil {
					ts[i] = t
					break
				}
			}
		}
	}
	return ts, nil
}

// levelFrom is the FROM clause of a rollup level.
func levelFrom(l *rollupLevel) string {
	return " FROM " + QuoteIdent(l.rp) + "." + QuoteIdent(l.measurement)
}

// rawSpan is the time of the oldest and newest ping.
func (r *Reader) rawSpan(ctx context.Context) (first, last time.Time, err error) {
	ts, err := r.rowTimes(ctx, `SELECT first("loss_pct") FROM "ping"`, `SELECT last("loss_pct") FROM "ping"`)
	if err != nil {
		return first, last, fmt.Errorf("find the span of the ping data: %w", err)
	}
	return ts[0], ts[1], nil
}

// levelSpan is the time of the oldest and newest bucket of a rollup level (zero when
// it holds none).
func (r *Reader) levelSpan(ctx context.Context, l *rollupLevel) (first, last time.Time, err error) {
	ts, err := r.rowTimes(ctx, `SELECT first("n")`+levelFrom(l), `SELECT last("n")`+levelFrom(l))
	if err != nil {
		return first, last, fmt.Errorf("find the span of rollup %s: %w", l.name, err)
	}
	return ts[0], ts[1], nil
}

// SetRollup chooses where Matrix and PairHistory read from: "auto" (default: raw data
// up to 24 h, from 3 h on as the hybrid read of hybrid.go, the 10 min rollup up to 3
// days, the 1 h rollup up to 5 days, the 6 h rollup beyond, each only when it exists and
// reaches back over the window), "raw" (no hybrid either), "10m", "1h" or "6h".
func (r *Reader) SetRollup(mode string) error {
	switch mode {
	case "", "auto", "raw", "10m", "1h", "6h":
		r.rollupMode = mode
		return nil
	}
	return fmt.Errorf("rollup %q: want auto, raw, 10m, 1h or 6h", mode)
}

// pickRollup is the rollup level a read of the window uses, nil for raw data.
func (r *Reader) pickRollup(ctx context.Context) *rollupLevel {
	var want *rollupLevel
	switch r.rollupMode {
	case "raw":
		return nil
	case "10m":
		want = rollup10m
	case "1h":
		want = rollup1h
	case "6h":
		want = rollup6h
	default:
		// The coarsest level whose buckets are small beside the window: a 7-day
		// window is 28 buckets of 6 h per pair (its start within 6 h), 30 days 120.
		switch {
		case r.window <= 24*time.Hour:
			return nil
		case r.window <= 72*time.Hour:
			want = rollup10m
		case r.window <= 120*time.Hour:
			want = rollup1h
		default:
			want = rollup6h
		}
		// A coarse level not set up (or not backfilled) yet: the finer one.
		for want != nil && !r.rollupCovers(ctx, want) {
			want = want.from
		}
		return want
	}
	if !r.rollupCovers(ctx, want) {
		return nil
	}
	return want
}

// rollupCovers reports whether a level holds data as old as the window's start (up to
// one bucket), so a window is not read half from a rollup that was set up yesterday.
func (r *Reader) rollupCovers(ctx context.Context, l *rollupLevel) bool {
	ts, err := r.rowTimes(ctx, `SELECT first("n")`+levelFrom(l))
	if err != nil || ts[0].IsZero() {
		return false
	}
	start := time.Now().Add(-r.window)
	if !r.end.IsZero() {
		start = r.end.Add(-r.window)
	}
	// Raw data younger than the window: the rollup must reach back as far.
	if first, _, err := r.rawSpan(ctx); err == nil && first.After(start) {
		start = first
	}
	return !ts[0].After(start.Add(l.bucket))
}
