package influx

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// Bucket is one time bucket of a pair's history: the bucket's start (Sample.Time), its
// width, and how many tests it holds, so a chart can draw it on a true time axis with
// gaps where nothing was measured and count measurements rather than buckets.
type Bucket struct {
	Sample mesh.Sample
	Width  time.Duration
	Tests  int // 0 when not known (text-typed data, folded in meshtop)
	good   float64
}

// PairBuckets reads the pair's history over the window in at most maxPoints buckets
// from raw data or, for long windows, from a rollup (whole rollup buckets). Buckets
// without tests are left out; a bucket with an impossible value fails the read with
// mesh's implausible-value error.
func (r *Reader) PairBuckets(ctx context.Context, src, dst string, maxPoints int) ([]Bucket, error) {
	bucket := historyBucket(r.window, maxPoints)
	stringly, err := r.stringMetrics(ctx)
	if err != nil {
		return nil, err
	}
	var out []Bucket
	switch lvl := r.pickRollup(ctx); {
	case stringly:
		ss, err := r.historyRaw(ctx, src, dst, bucket)
		if err != nil {
			return nil, err
		}
		for _, s := range ss {
			out = append(out, Bucket{Sample: s, Width: bucket})
		}
	case lvl != nil:
		// Whole rollup buckets (a chart bucket narrower than the rollup's has nothing
		// to show between them) up to where the level is complete, then the tests after
		// it from the raw tests, in the same chart buckets: the chart reaches the newest
		// test.
		bucket = max(bucket, lvl.bucket).Truncate(lvl.bucket)
		end := r.end
		if end.IsZero() {
			end = r.nowUTC()
		}
		start := end.Add(-r.window)
		reach := r.levelReach(ctx, lvl, start, end)
		cond := "time >= " + timeLiteral(start) + " AND time < " + timeLiteral(reach)
		out, err = r.bucketRows(ctx, src, dst, r.rollupHistoryQuery(lvl, cond, src, dst, bucket), bucket)
		if err == nil && reach.Before(end) {
			tail := "time >= " + timeLiteral(maxTime(reach, start)) + " AND time <= " + timeLiteral(end)
			var more []Bucket
			if more, err = r.bucketRows(ctx, src, dst, r.historyQueryIn(tail, src, dst, bucket), bucket); err == nil {
				out = mergeBuckets(out, more)
			}
		}
	default:
		out, err = r.bucketRows(ctx, src, dst, r.HistoryQuery(src, dst, bucket), bucket)
	}
	if err != nil {
		return nil, err
	}
	for _, b := range out {
		if err := sampleCheck(b.Sample); err != nil {
			return nil, fmt.Errorf("read history of %s→%s: bucket at %s: %w", src, dst, b.Sample.Time.Format(time.RFC3339), err)
		}
	}
	return out, nil
}

// sampleCheck passes a history bucket through mesh's plausibility check.
func sampleCheck(s mesh.Sample) error {
	if s.Failed {
		return checkValue(mesh.Loss, s.LossPct)
	}
	return mesh.PingResult{AvgRTT: s.AvgRTT, MinRTT: s.MinRTT, MaxRTT: s.MaxRTT, JitterMs: s.JitterMs,
		JitterPct: s.JitterPct, LossPct: s.LossPct}.Check()
}

// rollupHistoryQuery is PairHistory's query over a rollup's buckets in cond: means from
// sums and counts, the band from the tests' minima and maxima.
func (r *Reader) rollupHistoryQuery(l *rollupLevel, cond, src, dst string, bucket time.Duration) string {
	return `SELECT min("avg_rtt_ms_min") AS "min_avg", sum("avg_rtt_ms_sum") / sum("good") AS "avg_rtt", max("avg_rtt_ms_max") AS "max_avg", ` +
		`sum("jitter_ms_sum") / sum("good") AS "jm", sum("jitter_pct_sum") / sum("good") AS "jp", ` +
		`sum("loss_pct_sum") / sum("n") AS "loss", sum("n") AS "n", sum("good") AS "good"` +
		levelFrom(l) + " WHERE " + cond + " AND " + pairCond(src, dst) +
		" GROUP BY time(" + durationLiteral(bucket) + ") fill(none)"
}

// levelReach is where level l's buckets stop being complete within [start, end]: at
// the settled end of its newest bucket (what the continuous queries may still change, or
// have not reached, is read raw). start when the level has nothing there.
func (r *Reader) levelReach(ctx context.Context, l *rollupLevel, start, end time.Time) time.Time {
	last := r.levelEdge(ctx, l, "last", start)
	if last.IsZero() {
		return start
	}
	reach := last.Add(l.bucket)
	if settled := r.nowUTC().Add(-settleLag(l)).Truncate(l.bucket).Add(l.bucket); settled.Before(reach) {
		reach = settled
	}
	if reach.After(end) {
		reach = end
	}
	return maxTime(reach, start)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// mergeBuckets adds the buckets of b (later, or the same start) to a: two halves of one
// chart bucket become one, weighted by their tests.
func mergeBuckets(a, b []Bucket) []Bucket {
	out := slices.Clone(a)
	for _, x := range b {
		i := slices.IndexFunc(out, func(y Bucket) bool { return y.Sample.Time.Equal(x.Sample.Time) })
		if i < 0 {
			out = append(out, x)
			continue
		}
		out[i] = mergeBucket(out[i], x)
	}
	slices.SortFunc(out, func(p, q Bucket) int { return p.Sample.Time.Compare(q.Sample.Time) })
	return out
}

func mergeBucket(a, b Bucket) Bucket {
	n, good := a.Tests+b.Tests, a.good+b.good
	s := mesh.Sample{Time: a.Sample.Time, Tests: n}
	if n > 0 {
		s.LossPct = (a.Sample.LossPct*float64(a.Tests) + b.Sample.LossPct*float64(b.Tests)) / float64(n)
	}
	w := func(x, y float64) float64 { return (x*a.good + y*b.good) / good }
	switch {
	case good == 0:
		s.Failed, s.JitterPct = true, 100
	case a.good == 0:
		s.AvgRTT, s.MinRTT, s.MaxRTT, s.JitterMs, s.JitterPct = b.Sample.AvgRTT, b.Sample.MinRTT, b.Sample.MaxRTT, b.Sample.JitterMs, b.Sample.JitterPct
	case b.good == 0:
		s.AvgRTT, s.MinRTT, s.MaxRTT, s.JitterMs, s.JitterPct = a.Sample.AvgRTT, a.Sample.MinRTT, a.Sample.MaxRTT, a.Sample.JitterMs, a.Sample.JitterPct
	default:
		s.AvgRTT, s.JitterMs, s.JitterPct = w(a.Sample.AvgRTT, b.Sample.AvgRTT), w(a.Sample.JitterMs, b.Sample.JitterMs), w(a.Sample.JitterPct, b.Sample.JitterPct)
		s.MinRTT, s.MaxRTT = min(a.Sample.MinRTT, b.Sample.MinRTT), max(a.Sample.MaxRTT, b.Sample.MaxRTT)
	}
	return Bucket{Sample: s, Width: a.Width, Tests: n, good: good}
}

func (r *Reader) bucketRows(ctx context.Context, src, dst, q string, bucket time.Duration) ([]Bucket, error) {
	// One series of GROUP BY time(bucket): a row per bucket of the window (and one
	// more at each edge). An answer with more is not the answer to this query.
	res, err := r.c.query(withRows(ctx, int(r.window/max(bucket, time.Second))+2), q)
	if err != nil {
		return nil, fmt.Errorf("read history of %s→%s: %w", src, dst, err)
	}
	var out []Bucket
	for _, rs := range res {
		for _, s := range allSeries(rs.Series) {
			for _, row := range s.rows {
				n, _ := s.float(row, "n")
				if n == 0 {
					continue
				}
				t, err := s.time(row)
				if err != nil {
					return nil, fmt.Errorf("read history of %s→%s: %w", src, dst, err)
				}
				smp := mesh.Sample{Time: t, Tests: int(n)} // the chart counts tests, not buckets
				smp.LossPct, _ = s.float(row, "loss")
				good, _ := s.float(row, "good")
				if good == 0 {
					smp.Failed, smp.JitterPct = true, 100
				} else {
					smp.AvgRTT, _ = s.float(row, "avg_rtt")
					// Data without probe fields falls back to the tests' averages.
					var ok bool
					if smp.MinRTT, ok = s.float(row, "min_rtt"); !ok {
						smp.MinRTT, _ = s.float(row, "min_avg")
					}
					if smp.MaxRTT, ok = s.float(row, "max_rtt"); !ok {
						smp.MaxRTT, _ = s.float(row, "max_avg")
					}
					smp.JitterMs, _ = s.float(row, "jm")
					smp.JitterPct, _ = s.float(row, "jp")
				}
				out = append(out, Bucket{Sample: smp, Width: bucket, Tests: int(n), good: good})
			}
		}
	}
	slices.SortFunc(out, func(a, b Bucket) int { return a.Sample.Time.Compare(b.Sample.Time) })
	return out, nil
}
