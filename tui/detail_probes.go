package tui

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// ProbeSource is a Source whose history buckets come without each test's probes but
// which can read them (InfluxDB's probe_N_rtt_ms): the drill-down's smoke and per-probe
// rows (the dashboard's Packet 0-4) then work from history as they do live.
type ProbeSource interface {
	// PairProbes returns src→dst's tests in the window, oldest first, each with Time,
	// Src and Probes (a lost probe 0; Err for a test whose probes could not be used), at
	// most limit per source agent (0: the source's bound).
	PairProbes(ctx context.Context, src, dst string, limit int) ([]mesh.PingResult, error)
}

// readProbes adds the probes of a ProbeSource to a direction's buckets; other sources'
// samples carry their tests already.
func readProbes(ctx context.Context, src Source, a, b string, samples []mesh.Sample) ([]mesh.Sample, error) {
	ps, ok := src.(ProbeSource)
	if !ok || len(samples) == 0 {
		return samples, nil
	}
	tests, err := ps.PairProbes(ctx, a, b, 0)
	if err != nil {
		return nil, fmt.Errorf("read the probes of %s→%s: %w", a, b, err)
	}
	return withProbes(samples, tests), nil
}

// withProbes files each test into the bucket that holds its time (a bucket runs from its
// Time to the next one's; samples in time order), as that bucket's Results, derived from
// its probes like a live test. A bucket that has Results keeps them; tests before the
// first bucket or with unusable probes are left out. samples is not modified.
func withProbes(samples []mesh.Sample, tests []mesh.PingResult) []mesh.Sample {
	if len(tests) == 0 {
		return samples
	}
	out := slices.Clone(samples)
	had := make([]bool, len(out))
	for i := range out {
		had[i] = len(out[i].Results) > 0
	}
	for _, t := range tests {
		if t.Err != "" || len(t.Probes) == 0 {
			continue
		}
		// The last bucket starting at or before the test.
		i, found := slices.BinarySearchFunc(out, t.Time, func(s mesh.Sample, at time.Time) int { return s.Time.Compare(at) })
		if !found {
			i--
		}
		if i < 0 || had[i] {
			continue
		}
		r := mesh.PingResult{Time: t.Time, Src: t.Src, SrcPop: t.SrcPop, DstPop: t.DstPop}
		rtts := make([]float64, len(t.Probes))
		for k, p := range t.Probes {
			rtts[k] = p
			if p == 0 {
				rtts[k] = mesh.Lost
			}
		}
		r.DerivePing(len(rtts), rtts, -1)
		out[i].Results = append(out[i].Results, r)
	}
	return out
}
