package influx

import (
	"context"
	"fmt"
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
//	lh_<f>_<b>        histogram: tests whose value lies in bucket b (sketch.go); only
//	                  buckets that hold a test are written
//
// A window's mean is sum/good (loss: sum/n), exactly the mean over the tests; max is the
// max of maxima, exact. The p95 comes from the summed histogram counts of all tests in
// the window (never a p95 of bucket p95s): the bucket holding the 95th-percentile rank
// is found and answered by the value within 4.3 % of all its values (sketch.go), kept
// inside the window's [min, max]. Where the histogram counts fewer tests than the window
// holds (buckets made by an older meshtop, whose histograms had other fields), the p95
// is unknown rather than a p95 of part of the window.
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

// histAggs sum a metric's histogram over the window into the pair's counts, with the
// metric's min and max over the window (the p95 is kept inside them).
func (rd *mread) histAggs(m mesh.Metric) []agg {
	fields := histFieldsOf(m)
	out := make([]agg, 0, len(fields)+2)
	for k, f := range fields {
		out = append(out, agg{alias: f, expr: "sum(" + QuoteIdent(f) + ")", apply: func(a *pairAcc, v float64) {
			if a.hist == nil {
				a.hist = sketch{}
			}
			a.hist.addBin(m, k, v)
		}})
	}
	return append(out,
		agg{alias: m.Field() + "_lo", expr: "min(" + QuoteIdent(m.Field()+"_min") + ")", apply: setMin(m)},
		agg{alias: m.Field() + "_hi", expr: "max(" + QuoteIdent(m.Field()+"_max") + ")", apply: setStat(m, mesh.Max)})
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
			for _, h := range histFieldsOf(m) {
				cols = append(cols, "sum("+QuoteIdent(h)+") AS "+QuoteIdent(h))
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
	// One statement per histogram bucket: InfluxQL can neither group by a value nor
	// aggregate a condition, and a statement that matches no test writes nothing, so
	// only buckets that hold tests are stored.
	for _, m := range mesh.Metrics {
		f := QuoteIdent(m.Field())
		for _, b := range histBins[m] {
			var cond []string
			if goodOnly(m) {
				cond = append(cond, goodTests)
			}
			if c := histCond(f, b); c != "" {
				cond = append(cond, c)
			}
			q := "SELECT count(" + f + ") AS " + QuoteIdent(histFieldName(m, b)) + into + from
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
		// Every 10 min over the last two buckets: a 10 min bucket is computed when it
		// ends and once more 10 min later (with tests written late), after which it is
		// final (settleLag); more often would only make each raw test cost more (the
		// 10 min level is some 450 statements, one per histogram bucket).
		every, span := 10*time.Minute, 2*l.bucket
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
// with Backfill, computes them for existing data (finest level first, since coarser
// levels are made from it: the 10 min level here from the raw tests, rollup_backfill.go;
// the others by their statements, day by day). It needs an admin user (retention
// policies, CQs) and works on a workshop database as it is: only the numeric RTT,
// jitter and loss fields are read. Rollups made before are computed again (the points
// of a bucket are replaced field by field), so a new layout of the histograms reaches
// back as far as the raw tests.
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
	if err := r.setupStatements(ctx); err != nil {
		return err
	}
	ncq := 0
	for _, l := range rollupLevels {
		ncq += len(rollupSelects(l))
	}
	say("retention policies and %d continuous queries in place", ncq)
	if old := r.oldLayoutLevels(ctx); len(old) > 0 {
		msg := "rollup %s holds histograms of an older meshtop (25 %% buckets), which are never read"
		if o.Backfill {
			msg += "; the backfill computes the new ones from the raw tests, buckets older than the raw tests keep no p95"
		} else {
			msg += "; run with --backfill to compute the new ones from the raw tests"
		}
		say(msg, strings.Join(old, ", "))
	}
	if !o.Backfill {
		return nil
	}
	var levels []*rollupLevel
	for _, l := range rollupLevels {
		if o.Only == "" || o.Only == l.name {
			levels = append(levels, l)
		}
	}
	// Every level over the raw tests kept (at most the 10 min level's retention, as
	// the coarser levels were always made from it), from the raw tests in one pass.
	now := time.Now()
	first, last, err := r.rawSpan(ctx)
	if err != nil {
		return err
	}
	rawFrom := time.Time{}
	if !first.IsZero() {
		if !o.Since.IsZero() && o.Since.After(first) {
			first = o.Since
		}
		if oldest := now.Add(-rollup10m.keep); first.Before(oldest) {
			first = oldest
		}
		rawFrom = first.Truncate(rollup6h.bucket)
		since := map[*rollupLevel]time.Time{}
		for _, l := range levels {
			// A bucket older than the level keeps is refused by InfluxDB; one that
			// starts before the raw tests would be a part of its bucket.
			since[l] = maxTime(now.Add(-l.keep).Truncate(l.bucket).Add(l.bucket), first.Truncate(l.bucket))
		}
		end := last.Add(time.Nanosecond)
		if err := r.backfillRaw(ctx, levels, since, rawFrom, end, say); err != nil {
			return err
		}
	} else {
		say("no raw tests to backfill the rollups from")
	}
	// Coarser levels also over what their finer level keeps from before the raw tests.
	for _, l := range levels {
		if l.from == nil {
			continue
		}
		ffirst, _, err := r.levelSpan(ctx, l.from)
		if err != nil {
			return err
		}
		start := ffirst.Truncate(l.bucket)
		if min := now.Add(-l.keep).Truncate(l.bucket); start.Before(min) {
			start = min
		}
		if !o.Since.IsZero() && o.Since.After(start) {
			start = o.Since.Truncate(l.bucket)
		}
		end := rawFrom
		if end.IsZero() {
			_, flast, err := r.levelSpan(ctx, l.from)
			if err != nil {
				return err
			}
			end = flast.Add(l.bucket).Truncate(l.bucket)
		}
		if ffirst.IsZero() || !start.Before(end) {
			continue
		}
		for day := start; day.Before(end); day = day.Add(24 * time.Hour) {
			to := day.Add(24 * time.Hour)
			if to.After(end) {
				to = end
			}
			var stmts []string
			for _, sel := range rollupSelects(l) {
				stmts = append(stmts, sel+backfillCond(sel, day, to)+fmt.Sprintf(rollupGroup, durationLiteral(l.bucket)))
			}
			for _, q := range stmts {
				if _, err := r.c.query(ctx, q); err != nil {
					return fmt.Errorf("backfill rollup %s for %s: %w", l.name, day.Format("2006-01-02"), err)
				}
			}
			say("backfilled rollup %s from rollup %s: %s .. %s", l.name, l.from.name, day.Format(time.RFC3339), to.Format(time.RFC3339))
		}
	}
	return nil
}

// oldLayoutLevels names the rollup levels that hold histogram fields of the first
// layout (h_<field>_NN).
func (r *Reader) oldLayoutLevels(ctx context.Context) []string {
	var out []string
	for _, l := range rollupLevels {
		res, err := r.c.query(ctx, "SHOW FIELD KEYS FROM "+QuoteIdent(l.rp)+"."+QuoteIdent(l.measurement))
		if err != nil {
			continue
		}
	rows:
		for _, rs := range res {
			for _, row := range rs.Series {
				for _, v := range row.Values {
					if k, _ := v[0].(string); strings.HasPrefix(k, oldHistPrefix) {
						out = append(out, l.name)
						break rows
					}
				}
			}
		}
	}
	return out
}

// histNote says why a rollup's histogram counts fewer tests than a window holds.
func (r *Reader) histNote(ctx context.Context) string {
	if old := r.oldLayoutLevels(ctx); len(old) > 0 {
		return "rollup " + strings.Join(old, ", ") + " has histograms of an older meshtop only for part of the window: " +
			"run meshtop rollup to compute them from the raw tests"
	}
	return "the rollup's histograms miss tests of part of the window (a bucket rolled up by hand?): run meshtop rollup"
}

// setupStatements runs RollupStatements: the retention policies one by one, then every
// meshtop continuous query there is dropped (also those of a layout with more
// statements than this one) and this layout's created, many to a request.
func (r *Reader) setupStatements(ctx context.Context) error {
	var creates []string
	for _, q := range r.RollupStatements() {
		switch {
		case strings.HasPrefix(q, "DROP CONTINUOUS QUERY"):
			continue
		case strings.HasPrefix(q, "CREATE CONTINUOUS QUERY"):
			creates = append(creates, q)
			continue
		}
		_, err := r.c.query(ctx, q)
		// A policy made before (whose shard duration the ALTER after it set) refuses
		// a CREATE with other settings: it is there, which is all CREATE is for.
		if err != nil && !(strings.HasPrefix(q, "CREATE RETENTION POLICY") && strings.Contains(err.Error(), "already exists")) {
			return fmt.Errorf("set up rollups: %w", err)
		}
	}
	res, err := r.c.query(ctx, "SHOW CONTINUOUS QUERIES")
	if err != nil {
		return fmt.Errorf("set up rollups: %w", err)
	}
	var drops []string
	for _, rs := range res {
		for _, row := range rs.Series {
			if row.Name != r.c.db {
				continue
			}
			for _, v := range row.Values {
				if name, _ := v[0].(string); strings.HasPrefix(name, "mt_rollup_") {
					drops = append(drops, "DROP CONTINUOUS QUERY "+QuoteIdent(name)+" ON "+QuoteIdent(r.c.db))
				}
			}
		}
	}
	for _, batch := range [][]string{drops, creates} {
		for len(batch) > 0 {
			n := min(len(batch), 100)
			if _, err := r.c.query(ctx, strings.Join(batch[:n], "; ")); err != nil {
				return fmt.Errorf("set up rollups: %w", err)
			}
			batch = batch[n:]
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

// rollupGap says what a read of level l alone leaves out at the window's end: the tests
// after the level's newest bucket ("" when it reaches the end, within a sweep).
func (r *Reader) rollupGap(ctx context.Context, l *rollupLevel) string {
	end := r.end
	if end.IsZero() {
		end = r.nowUTC()
	}
	last := r.levelEdge(ctx, l, "last", end.Add(-r.window))
	if last.IsZero() {
		return ""
	}
	reach := last.Add(l.bucket)
	if gap := end.Sub(reach); gap > tailSpan && reach.Before(end) {
		return fmt.Sprintf("rollup %s ends %s, %s before the window's end: newer tests are not in this grid "+
			"(--rollup auto reads them raw when the rollups are kept up: are the continuous queries running?)",
			l.name, reach.UTC().Format("01-02 15:04 UTC"), gap.Round(time.Minute))
	}
	return ""
}
