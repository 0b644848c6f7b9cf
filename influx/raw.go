package influx

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// rawSamples reads every ping in cond whatever the field types and folds the tests of one
// sweep and PoP pair into one sample, as the live store does. It is the path for
// databases where InfluxQL cannot aggregate (metric fields stored as text).
func (r *Reader) rawSamples(ctx context.Context, cond string) (map[mesh.Pair][]mesh.Sample, error) {
	cols := []string{}
	for _, m := range mesh.Metrics {
		cols = append(cols, m.Field())
	}
	q := "SELECT " + typedCols(append(append(cols, "failed"), probeFields...)...) +
		` FROM "ping" WHERE ` + cond + ` GROUP BY "src_pop", "dst_pop", "src_slug"`
	res, err := r.c.query(ctx, q)
	if err != nil {
		return nil, err
	}
	type key struct {
		p mesh.Pair
		t int64
	}
	tests := map[key][]mesh.PingResult{}
	for _, rs := range res {
		for _, s := range allSeries(rs.Series) {
			p := mesh.Pair{Src: s.tags["src_pop"], Dst: s.tags["dst_pop"]}
			for _, row := range s.rows {
				t, err := s.time(row)
				if err != nil {
					return nil, err
				}
				pr := mesh.PingResult{Time: t, Src: s.tags["src_slug"], SrcPop: p.Src, DstPop: p.Dst}
				readable := true
				for _, m := range mesh.Metrics {
					v, ok := s.anyFloat(row, m.Field())
					*m.Ref(&pr) = v
					// A metric of every test (loss) must be there; the others are
					// absent from some writers' failed tests.
					readable = readable && (ok || !m.CountsFailed())
				}
				if !readable {
					continue // not a ping we can read
				}
				if f, ok := s.anyFloat(row, "failed"); ok {
					pr.Failed = f != 0
				} else {
					pr.Failed = pr.AvgRTT <= 0
				}
				pr.MinRTT, pr.MaxRTT = math.Inf(1), 0
				for _, f := range probeFields {
					if v, ok := s.anyFloat(row, f); ok && v > 0 {
						pr.MinRTT, pr.MaxRTT = math.Min(pr.MinRTT, v), math.Max(pr.MaxRTT, v)
					}
				}
				if pr.MaxRTT == 0 { // no probe fields: the average is all we know
					pr.MinRTT, pr.MaxRTT = pr.AvgRTT, pr.AvgRTT
				}
				k := key{p, t.UnixNano()}
				tests[k] = append(tests[k], pr)
			}
		}
	}
	keys := make([]key, 0, len(tests))
	for k := range tests {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		switch {
		case a.t < b.t:
			return -1
		case a.t > b.t:
			return 1
		}
		return 0
	})
	out := map[mesh.Pair][]mesh.Sample{}
	for _, k := range keys {
		if smp, ok := mesh.FoldResults(time.Unix(0, k.t).UTC(), tests[k]); ok {
			smp.Results = nil
			out[k.p] = append(out[k.p], smp)
		}
	}
	return out, nil
}

func (r *Reader) matrixRaw(ctx context.Context) (*mesh.Matrix, error) {
	samples, err := r.rawSamples(ctx, r.timeCond()+" AND "+knownDst)
	if err != nil {
		return nil, fmt.Errorf("read the mesh over the last %s: %w", r.window, err)
	}
	cells := make(map[mesh.Pair]*mesh.Cell, len(samples))
	var newest time.Time
	for p, ss := range samples {
		c := mesh.ReduceSamples(ss)
		cells[p] = &c
		if c.Last.Time.After(newest) {
			newest = c.Last.Time
		}
	}
	return mesh.NewMatrix(newest, r.Name(), nil, nil, cells), nil
}

func (r *Reader) historyRaw(ctx context.Context, src, dst string, bucket time.Duration) ([]mesh.Sample, error) {
	samples, err := r.rawSamples(ctx, r.timeCond()+" AND "+pairCond(src, dst))
	if err != nil {
		return nil, fmt.Errorf("read history of %s→%s: %w", src, dst, err)
	}
	return bucketSamples(samples[mesh.Pair{Src: src, Dst: dst}], bucket), nil
}

// bucketSamples merges time-ordered samples into epoch-aligned buckets, as GROUP BY
// time(bucket) does: min of minima, means of the successful samples, max of maxima, mean
// loss over all; a bucket of failed samples only is failed.
func bucketSamples(ss []mesh.Sample, bucket time.Duration) []mesh.Sample {
	var out []mesh.Sample
	flush := func(group []mesh.Sample, start int64) {
		if len(group) == 0 {
			return
		}
		b := mesh.Sample{Time: time.Unix(0, start).UTC(), MinRTT: math.Inf(1)}
		good := 0
		for _, s := range group {
			b.Tests += s.TestCount() // the chart counts tests, not buckets
			b.LossPct += s.LossPct
			if s.Failed {
				continue
			}
			good++
			b.MinRTT = math.Min(b.MinRTT, s.MinRTT)
			b.MaxRTT = math.Max(b.MaxRTT, s.MaxRTT)
			b.AvgRTT += s.AvgRTT
			b.JitterMs += s.JitterMs
			b.JitterPct += s.JitterPct
		}
		b.LossPct /= float64(len(group))
		if good == 0 {
			b.Failed, b.MinRTT, b.JitterPct = true, 0, 100
		} else {
			b.AvgRTT /= float64(good)
			b.JitterMs /= float64(good)
			b.JitterPct /= float64(good)
		}
		out = append(out, b)
	}
	var group []mesh.Sample
	var cur int64 = math.MinInt64
	for _, s := range ss {
		start := s.Time.UnixNano() - s.Time.UnixNano()%int64(bucket)
		if start != cur {
			flush(group, cur)
			group, cur = group[:0], start
		}
		group = append(group, s)
	}
	flush(group, cur)
	return out
}
