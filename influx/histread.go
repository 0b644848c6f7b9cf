package influx

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/meshtop/meshtop/internal/textsafe"
	"github.com/meshtop/meshtop/mesh"
)

// Reading a window's histograms from the rollups. InfluxDB 1.x pays for every field an
// aggregate names and every series it may hold (~40-60 us each, whether the series holds
// the field or not): summing all of latency's buckets over 30 PoPs costs seconds. But a
// pair's tests lie between its min and max over the window, which the read has already,
// so only those buckets are read, and only for the pairs that need them: one statement
// per bucket, naming the pairs whose range holds it. A pair whose min and max share a
// bucket needs no read at all (every test is in it). Typically a pair spans a few
// buckets, and the read costs a fraction of the means'.

// histPairsMax: a statement names at most this many pairs (an OR of 870 pairs costs
// InfluxDB 1.6 some 0.7 s, of 90 pairs 0.05 s; no condition 0.1 s).
const histPairsMax = 64

// histStmtsPerRequest bounds the statements of one request (they run one after another
// in InfluxDB; two requests run at once).
const histStmtsPerRequest = 60

// histJob is one statement: bucket k of metric m over one rollup piece, for some pairs.
type histJob struct {
	p     piece
	m     mesh.Metric
	k     int
	pairs []mesh.Pair
}

// readHists completes the histograms of metrics ms for every pair: counts of the rollup
// pieces (the raw pieces' tests are filed already) between the pair's min and max. A
// pair without a min or max (no tests) is left alone.
func (rd *mread) readHists(ctx context.Context, pieces []piece, ms []mesh.Metric) error {
	type span struct{ lo, hi int }
	need := map[mesh.Metric]map[mesh.Pair]span{}
	rd.mu.Lock()
	for _, m := range ms {
		need[m] = map[mesh.Pair]span{}
		for p, a := range rd.accs {
			lo, hi := a.cell.Min[m], a.cell.Values[m][mesh.Max]
			if math.IsNaN(lo) || math.IsNaN(hi) {
				continue
			}
			den := a.good
			if !goodOnly(m) {
				den = a.n
			}
			kl, kh := binOf(m, lo), binOf(m, hi)
			if a.hist == nil {
				a.hist = sketch{}
			}
			if kl == kh {
				// Every test of the window is in this bucket.
				a.hist[m] = make([]float64, len(histBins[m]))
				a.hist[m][kl] = den
				continue
			}
			need[m][p] = span{kl, kh}
		}
	}
	rd.mu.Unlock()
	// The buckets each level holds at all (a field no bucket has costs a statement for
	// nothing: most of loss's fractions, latencies no pair has).
	have := map[*rollupLevel]map[string]bool{}
	for _, pc := range pieces {
		if pc.lvl != nil && have[pc.lvl] == nil {
			fs, err := rd.r.levelFields(ctx, pc.lvl)
			if err != nil {
				return fmt.Errorf("read the rollups' histograms: %w", err)
			}
			have[pc.lvl] = fs
		}
	}
	var jobs []histJob
	for _, pc := range pieces {
		if pc.lvl == nil {
			continue // raw tests: filed when their rows were read
		}
		for _, m := range ms {
			byBin := map[int][]mesh.Pair{}
			for p, sp := range need[m] {
				for k := sp.lo; k <= sp.hi; k++ {
					if have[pc.lvl][histFieldName(m, histBins[m][k])] {
						byBin[k] = append(byBin[k], p)
					}
				}
			}
			for k, ps := range byBin {
				sortPairs(ps)
				jobs = append(jobs, histJob{p: pc, m: m, k: k, pairs: ps})
			}
		}
	}
	slices.SortFunc(jobs, func(a, b histJob) int {
		if c := a.p.lo.Compare(b.p.lo); c != 0 {
			return c
		}
		if a.m != b.m {
			return int(a.m) - int(b.m)
		}
		return a.k - b.k
	})
	return rd.runHistJobs(ctx, jobs)
}

// runHistJobs sends the jobs in requests of histStmtsPerRequest statements, two at once,
// and adds the counts into the pairs' histograms.
func (rd *mread) runHistJobs(ctx context.Context, jobs []histJob) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var batches [][]histJob
	for len(jobs) > 0 {
		n := min(len(jobs), histStmtsPerRequest)
		batches = append(batches, jobs[:n])
		jobs = jobs[n:]
	}
	errs := make([]error, len(batches))
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i, b := range batches {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			defer func() { <-sem }()
			if errs[i] = rd.runHistBatch(ctx, b); errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	var first error
	for _, err := range errs {
		if err != nil && (first == nil || (errors.Is(first, context.Canceled) && !errors.Is(err, context.Canceled))) {
			first = err
		}
	}
	if first != nil {
		return fmt.Errorf("read the rollups' histograms: %w", first)
	}
	return nil
}

func (rd *mread) runHistBatch(ctx context.Context, b []histJob) error {
	qs := make([]string, len(b))
	for i, j := range b {
		f := histFieldName(j.m, histBins[j.m][j.k])
		// Naming the pairs spares InfluxDB the others' series, but a long OR of pairs
		// costs more than it spares; the others' counts are 0 there anyway (their tests
		// lie outside the bucket), so many pairs go without.
		cond := ""
		if len(j.pairs) <= histPairsMax {
			cond = " AND " + pairsCond(j.pairs)
		}
		qs[i] = "SELECT sum(" + QuoteIdent(f) + `) AS "c"` + levelFrom(j.p.lvl) + " WHERE " + j.p.cond() + " AND " + knownDst +
			cond + ` GROUP BY "src_pop", "dst_pop"`
	}
	res, err := rd.r.c.query(ctx, strings.Join(qs, "; "))
	if err != nil {
		return err
	}
	if len(res) != len(qs) {
		return fmt.Errorf("InfluxDB answered %d results to %d statements", len(res), len(qs))
	}
	rd.mu.Lock()
	defer rd.mu.Unlock()
	for i, rs := range res {
		j := b[i]
		needs := make(map[mesh.Pair]bool, len(j.pairs))
		for _, p := range j.pairs {
			needs[p] = true
		}
		for _, s := range allSeries(rs.Series) {
			if len(s.rows) == 0 {
				continue
			}
			v, ok := s.float(s.rows[0], "c")
			if !ok || v <= 0 {
				continue
			}
			if v > maxRollupCount || v != math.Trunc(v) {
				return fmt.Errorf("rollup %s holds %s = %g", j.p.lvl.name, histFieldName(j.m, histBins[j.m][j.k]), v)
			}
			p := mesh.Pair{Src: textsafe.Name(s.tags["src_pop"]), Dst: textsafe.Name(s.tags["dst_pop"])}
			a := rd.accs[p]
			if a == nil || !needs[p] {
				continue // a pair that does not need the bucket: its count there is 0
			}
			if a.hist == nil {
				a.hist = sketch{}
			}
			a.hist.addBin(j.m, j.k, v)
		}
	}
	return nil
}

func sortPairs(ps []mesh.Pair) {
	slices.SortFunc(ps, func(a, b mesh.Pair) int {
		if c := strings.Compare(a.Src, b.Src); c != 0 {
			return c
		}
		return strings.Compare(a.Dst, b.Dst)
	})
}

// levelFields are the fields a rollup level holds.
func (r *Reader) levelFields(ctx context.Context, l *rollupLevel) (map[string]bool, error) {
	res, err := r.c.query(ctx, "SHOW FIELD KEYS FROM "+QuoteIdent(l.rp)+"."+QuoteIdent(l.measurement))
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, rs := range res {
		for _, row := range rs.Series {
			for _, v := range row.Values {
				if k, ok := v[0].(string); ok {
					out[k] = true
				}
			}
		}
	}
	return out, nil
}
