package influx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/influxdata/influxdb1-client/models"
	client "github.com/influxdata/influxdb1-client/v2"

	"github.com/meshtop/meshtop/mesh"
)

// The backfill computes the rollups of stored tests here rather than by running the
// continuous queries' statements over old data: those are one statement per histogram
// bucket (some 520 for the 10 min level), each of which makes InfluxDB decode the day's
// tests again, where the tests are read once here (an hour at a time, times as epoch
// numbers) and filed into every level's buckets at once. The rows are the continuous
// queries' rows: the same fields, types (counts integer, the rest float), buckets and
// conditions (bucket bounds compared as the same float64 numbers), and a statement's
// fields only where it would have matched a test (TestRollupBackfillIsTheCQs runs both
// on the same tests). A 1 h or 6 h bucket computed from the tests equals the one summed
// from the finer level: sums, counts, min, max and the newest value compose.

// backfillChunk is what one worker computes at a time (whole buckets of every level, so
// no bucket is written twice), backfillRead what one request reads of it (bounding the
// answer within what one may decode: half an hour of a 50-PoP mesh is 75,000 tests).
const (
	backfillChunk = 6 * time.Hour
	backfillRead  = 30 * time.Minute
)

// rawBucket is one pair's 10 min bucket as the continuous queries compute it.
type rawBucket struct {
	n, good, failed, bad float64
	nGood                bool // a successful test was seen (the good statement's row)
	sum, lo, hi          [numMetrics]float64
	has                  [numMetrics]bool // a value for sum/min/max
	last                 [numMetrics]float64
	lastAt               [numMetrics]int64
	hasLast              [numMetrics]bool
	hist                 sketch
}

// numMetrics sizes the per-metric arrays of a bucket; init checks it against mesh.
const numMetrics = 4

func init() {
	if len(mesh.Metrics) != numMetrics {
		panic("influx: numMetrics is not len(mesh.Metrics)")
	}
}

// add files one raw test (its metric values; ok[m] false when the field is absent).
func (b *rawBucket) add(t int64, v [numMetrics]float64, ok [numMetrics]bool) {
	for _, m := range mesh.Metrics {
		// last(f) of all tests: the newest value; of tests at the same time, the one
		// read last.
		if ok[m] && (!b.hasLast[m] || t >= b.lastAt[m]) {
			b.last[m], b.lastAt[m], b.hasLast[m] = v[m], t, true
		}
	}
	if !ok[mesh.Loss] {
		// n, failed, bad and the loss histogram count loss_pct: a row without it is
		// counted by none of them; its other fields still count where they are.
	} else {
		b.n++
		if ok[mesh.Latency] && v[mesh.Latency] <= 0 {
			b.failed++
		}
		if implausibleRow(v, ok) {
			b.bad++
		}
	}
	good := ok[mesh.Latency] && v[mesh.Latency] > 0
	if good {
		b.good++
		b.nGood = true
	}
	for _, m := range mesh.Metrics {
		if !ok[m] || (goodOnly(m) && !good) {
			continue
		}
		x := v[m]
		b.sum[m] += x
		if !b.has[m] || x < b.lo[m] {
			b.lo[m] = x
		}
		if !b.has[m] || x > b.hi[m] {
			b.hi[m] = x
		}
		b.has[m] = true
		if b.hist == nil {
			b.hist = sketch{}
		}
		b.hist.add(m, x)
	}
}

// implausibleRow is implausibleCond on one row: a comparison with an absent field is
// false, as in InfluxQL.
func implausibleRow(v [numMetrics]float64, ok [numMetrics]bool) bool {
	lt := func(m mesh.Metric, x float64) bool { return ok[m] && v[m] < x }
	gt := func(m mesh.Metric, x float64) bool { return ok[m] && v[m] > x }
	ge := func(m mesh.Metric, x float64) bool { return ok[m] && v[m] >= x }
	return lt(mesh.Loss, 0) || gt(mesh.Loss, 100) || lt(mesh.Latency, 0) || ge(mesh.Latency, mesh.MaxRTTms) ||
		lt(mesh.JitterMs, 0) || ge(mesh.JitterMs, mesh.MaxRTTms) || lt(mesh.JitterPct, 0) || gt(mesh.JitterPct, mesh.MaxJitterPct)
}

// fields are the bucket's rollup fields as the continuous queries write them.
func (b *rawBucket) fields() map[string]any {
	f := map[string]any{}
	if b.n > 0 {
		f["n"] = int64(b.n)
	}
	if b.failed > 0 {
		f["failed"] = int64(b.failed)
	}
	if b.bad > 0 {
		f["bad"] = int64(b.bad)
	}
	if b.nGood {
		f["good"] = int64(b.good)
	}
	for _, m := range mesh.Metrics {
		name := m.Field()
		if b.hasLast[m] {
			f[name+"_last"] = b.last[m]
		}
		if b.has[m] {
			f[name+"_sum"], f[name+"_min"], f[name+"_max"] = b.sum[m], b.lo[m], b.hi[m]
		}
		for k, c := range b.hist[m] {
			if c > 0 {
				f[histFieldName(m, histBins[m][k])] = int64(c)
			}
		}
	}
	return f
}

// backfillRaw computes the levels' buckets from the raw tests in [from, to) (from on
// a bucket bound of every level) and writes them, a chunk at a time, two chunks at once;
// a level's buckets before since[level] (its retention) are not written.
func (r *Reader) backfillRaw(ctx context.Context, levels []*rollupLevel, since map[*rollupLevel]time.Time, from, to time.Time, say func(string, ...any)) error {
	type chunk struct{ lo, hi time.Time }
	var chunks []chunk
	for lo := from; lo.Before(to); lo = lo.Add(backfillChunk) {
		chunks = append(chunks, chunk{lo, minTime(lo.Add(backfillChunk), to)})
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(chunks))
	done := make([]bool, len(chunks))
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	var mu sync.Mutex
	said, day := 0, ""
	names := make([]string, len(levels))
	for i, l := range levels {
		names[i] = l.name
	}
	for i, c := range chunks {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if errs[i] = r.backfillChunk(ctx, levels, since, c.lo, c.hi); errs[i] != nil {
				cancel()
				return
			}
			mu.Lock()
			defer mu.Unlock()
			done[i] = true
			// Progress in time order: once a day, of the chunks done without a gap.
			for said < len(chunks) && done[said] {
				if d := chunks[said].lo.UTC().Format("2006-01-02"); d != day {
					day = d
					say("backfilled rollups %s from the raw tests: %s", strings.Join(names, ", "), d)
				}
				said++
			}
		})
	}
	wg.Wait()
	if i := firstErr(errs); i >= 0 {
		return fmt.Errorf("backfill rollups from the raw tests of %s: %w", chunks[i].lo.UTC().Format(time.RFC3339), errs[i])
	}
	return nil
}

// firstErr is the index of the first error that is not another's cancellation.
func firstErr(errs []error) int {
	first := -1
	for i, err := range errs {
		if err == nil {
			continue
		}
		if first < 0 || (ctxErr(errs[first]) && !ctxErr(err)) {
			first = i
		}
	}
	return first
}

func ctxErr(err error) bool { return errors.Is(err, context.Canceled) }

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// backfillChunk reads [lo, hi)'s raw tests an hour at a time, files them into every
// level's buckets per pair and writes the buckets.
func (r *Reader) backfillChunk(ctx context.Context, levels []*rollupLevel, since map[*rollupLevel]time.Time, lo, hi time.Time) error {
	fields := make([]string, 0, numMetrics)
	for _, m := range mesh.Metrics {
		fields = append(fields, QuoteIdent(m.Field()))
	}
	type key struct {
		src, dst string
		at       int64
	}
	buckets := make([]map[key]*rawBucket, len(levels))
	orders := make([][]key, len(levels))
	for i := range levels {
		buckets[i] = map[key]*rawBucket{}
	}
	for from := lo; from.Before(hi); from = from.Add(backfillRead) {
		to := minTime(from.Add(backfillRead), hi)
		q := "SELECT " + strings.Join(fields, ", ") + ` FROM "ping" WHERE time >= ` + timeLiteral(from) + " AND time < " + timeLiteral(to) +
			` GROUP BY "src_pop", "dst_pop"`
		res, err := r.c.queryRows(ctx, q, true)
		if err != nil {
			return err
		}
		for _, rs := range res {
			for _, row := range rs.Series {
				// The tags as stored (not sanitised for display): the rows must carry the
				// tags the continuous queries' GROUP BY gives them.
				src, dst := row.Tags["src_pop"], row.Tags["dst_pop"]
				idx := colIndex(row)
				for _, vals := range row.Values {
					t, err := rowTime(vals, idx["time"])
					if err != nil {
						return err
					}
					var v [numMetrics]float64
					var ok [numMetrics]bool
					for _, m := range mesh.Metrics {
						if i, has := idx[m.Field()]; has && i < len(vals) {
							v[m], ok[m] = toFloat(vals[i])
							ok[m] = ok[m] && !math.IsNaN(v[m]) && !math.IsInf(v[m], 0)
						}
					}
					ns := t.UnixNano()
					for i, l := range levels {
						k := key{src, dst, ns - ns%int64(l.bucket)}
						b := buckets[i][k]
						if b == nil {
							b = &rawBucket{}
							buckets[i][k] = b
							orders[i] = append(orders[i], k)
						}
						b.add(ns, v, ok)
					}
				}
			}
		}
	}
	for i, l := range levels {
		var buf bytes.Buffer
		n := 0
		flush := func() error {
			if buf.Len() == 0 {
				return nil
			}
			err := r.c.writeTo(ctx, l.rp, buf.Bytes())
			buf.Reset()
			return err
		}
		for _, k := range orders[i] {
			at := time.Unix(0, k.at).UTC()
			if at.Before(since[l]) {
				continue // beyond the level's retention: InfluxDB would refuse it
			}
			f := buckets[i][k].fields()
			if len(f) == 0 {
				continue
			}
			tags := map[string]string{}
			if k.src != "" {
				tags["src_pop"] = k.src
			}
			if k.dst != "" {
				tags["dst_pop"] = k.dst
			}
			pt, err := client.NewPoint(l.measurement, tags, f, at)
			if err != nil {
				return fmt.Errorf("rollup point %s→%s: %w", k.src, k.dst, err)
			}
			buf.WriteString(pt.String())
			buf.WriteByte('\n')
			if n++; n%5000 == 0 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
	}
	return nil
}

func colIndex(row models.Row) map[string]int {
	idx := make(map[string]int, len(row.Columns))
	for i, c := range row.Columns {
		idx[c] = i
	}
	return idx
}

func rowTime(vals []any, i int) (time.Time, error) {
	if i >= len(vals) {
		return time.Time{}, fmt.Errorf("row without time")
	}
	switch v := vals[i].(type) {
	case json.Number:
		ns, err := v.Int64()
		return time.Unix(0, ns).UTC(), err
	case string:
		return time.Parse(time.RFC3339Nano, v)
	}
	return time.Time{}, fmt.Errorf("row without time")
}
