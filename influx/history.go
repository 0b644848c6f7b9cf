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
		// Whole rollup buckets only: a chart bucket narrower than the rollup's has
		// nothing to show between them.
		bucket = max(bucket, lvl.bucket).Truncate(lvl.bucket)
		out, err = r.bucketRows(ctx, src, dst, r.rollupHistoryQuery(lvl, src, dst, bucket), bucket)
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

// rollupHistoryQuery is PairHistory's query over a rollup: means from sums and counts,
// the band from the tests' minima and maxima.
func (r *Reader) rollupHistoryQuery(l *rollupLevel, src, dst string, bucket time.Duration) string {
	return `SELECT min("avg_rtt_ms_min") AS "min_avg", sum("avg_rtt_ms_sum") / sum("good") AS "avg_rtt", max("avg_rtt_ms_max") AS "max_avg", ` +
		`sum("jitter_ms_sum") / sum("good") AS "jm", sum("jitter_pct_sum") / sum("good") AS "jp", ` +
		`sum("loss_pct_sum") / sum("n") AS "loss", sum("n") AS "n", sum("good") AS "good"` +
		levelFrom(l) + " WHERE " + r.bucketCond() + " AND " + pairCond(src, dst) +
		" GROUP BY time(" + durationLiteral(bucket) + ") fill(none)"
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
				if good, _ := s.float(row, "good"); good == 0 {
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
				out = append(out, Bucket{Sample: smp, Width: bucket, Tests: int(n)})
			}
		}
	}
	slices.SortFunc(out, func(a, b Bucket) int { return a.Sample.Time.Compare(b.Sample.Time) })
	return out, nil
}
