package influx

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/meshtop/meshtop/internal/textsafe"
	"github.com/meshtop/meshtop/mesh"
)

// MaxProbeTests bounds how many tests per source agent a probes read returns: the
// newest ones of the window, enough for a drill-down's chart at any terminal width.
const MaxProbeTests = 2000

// ProbesQuery is the InfluxQL of PairProbes: each test's probe RTTs (the dashboard's
// Packet 0-4), newest first, at most limit per source agent.
func (r *Reader) ProbesQuery(src, dst string, limit int) string {
	return "SELECT " + typedCols(probeFields...) + ` FROM "ping" WHERE ` + r.timeCond() + " AND " + pairCond(src, dst) +
		` GROUP BY "src_slug" ORDER BY time DESC LIMIT ` + strconv.Itoa(limit)
}

// PairProbes returns the pair's tests over the window with each probe's RTT in ms
// (mesh.PingResult.Probes, a lost probe 0), oldest first, at most limit (1 to
// MaxProbeTests; other values mean MaxProbeTests) per source agent. Only Time, Src,
// SrcPop, DstPop and Probes are set. A test without probe fields (written without them)
// is left out; one with an impossible probe value carries Err and no probes, so no
// value that cannot be real is drawn.
func (r *Reader) PairProbes(ctx context.Context, src, dst string, limit int) ([]mesh.PingResult, error) {
	if limit <= 0 || limit > MaxProbeTests {
		limit = MaxProbeTests
	}
	res, err := r.c.query(ctx, r.ProbesQuery(src, dst, limit))
	if err != nil {
		return nil, fmt.Errorf("read probe RTTs of %s→%s: %w", src, dst, err)
	}
	var out []mesh.PingResult
	for _, rs := range res {
		for _, s := range allSeries(rs.Series) {
			for _, row := range s.rows {
				t, err := s.time(row)
				if err != nil {
					return nil, fmt.Errorf("read probe RTTs of %s→%s: %w", src, dst, err)
				}
				pr := mesh.PingResult{Time: t, Src: textsafe.Name(s.tags["src_slug"]), SrcPop: src, DstPop: dst}
				pr.Probes, pr.Err = probesOf(s, row)
				if pr.Probes == nil && pr.Err == "" {
					continue
				}
				out = append(out, pr)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b mesh.PingResult) int { return a.Time.Compare(b.Time) })
	return out, nil
}

// probesOf reads a row's probe fields up to the last one present; a missing field in
// between is a lost probe, as the workshop's 0 is.
func probesOf(s series, row []any) ([]float64, string) {
	var probes []float64
	for i, f := range probeFields {
		v, ok := s.anyFloat(row, f)
		if !ok {
			continue
		}
		if math.IsNaN(v) || v < 0 || v >= mesh.MaxRTTms {
			return nil, (&mesh.ImplausibleError{Field: "probe " + strconv.Itoa(i) + " rtt", Value: v, Unit: "ms", Why: fmt.Sprintf("want 0..%d", mesh.MaxRTTms)}).Error()
		}
		for len(probes) < i {
			probes = append(probes, 0)
		}
		probes = append(probes, v)
	}
	return probes, ""
}
