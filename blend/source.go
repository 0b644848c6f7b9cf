// Package blend joins the live store with InfluxDB for live and serve: the drill-down
// reaches back into recorded history beyond what the store keeps, and a sharded
// collector (--shard K/N) shows the other collectors' pairs from what they record.
package blend

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/tui"
)

// History is what the drill-down reads of one pair from InfluxDB (an *influx.Reader).
type History interface {
	PairHistory(ctx context.Context, src, dst string, maxPoints int) ([]mesh.Sample, error)
	PairTraces(ctx context.Context, src, dst string) ([]mesh.TraceResult, error)
}

// Source is the live store's source with InfluxDB behind it. The grid is the store's
// (plus, with Union, the other shards' newest values); a pair's history and traces are
// the store's, and for the part of the reach older than the store's oldest sample,
// InfluxDB's. Capabilities, sweep-now and route changes are the store's.
type Source struct {
	tui.StoreSource
	// Archive reads InfluxDB over [from, to] (to inclusive); nil: the store only.
	Archive func(from, to time.Time) History
	// Reach is how far back from now the drill-down's history goes.
	Reach time.Duration
	// Union, when set, adds the other shards' pairs to the matrix.
	Union *Union
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Report, when set, is told when InfluxDB reads start failing (once, not per read).
	Report func(error)

	mu      sync.Mutex
	lastErr error
}

// New wraps the store's source; archive nil or reach <= 0 leaves history to the store.
func New(live tui.StoreSource, archive func(from, to time.Time) History, reach time.Duration) *Source {
	return &Source{StoreSource: live, Archive: archive, Reach: reach}
}

func (s *Source) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// ArchiveErr is the error of the newest read from InfluxDB (nil after one that worked).
// A failed read leaves the drill-down with the store's part: live mode never depends on
// InfluxDB being up.
func (s *Source) ArchiveErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}

func (s *Source) setErr(err error) {
	s.mu.Lock()
	was := s.lastErr
	s.lastErr = err
	s.mu.Unlock()
	if err != nil && was == nil && s.Report != nil {
		s.Report(fmt.Errorf("older history from InfluxDB (showing the live store's): %w", err))
	}
}

// older is the range InfluxDB answers for a pair whose live part starts at seam (zero:
// none), and whether there is one.
func (s *Source) older(seam time.Time) (from, to time.Time, ok bool) {
	if s.Archive == nil || s.Reach <= 0 {
		return time.Time{}, time.Time{}, false
	}
	now := s.now()
	from = now.Add(-s.Reach)
	if seam.IsZero() {
		seam = now.Add(time.Nanosecond)
	}
	if !seam.After(from) {
		return time.Time{}, time.Time{}, false
	}
	// InfluxDB's end is inclusive: stop just before the store's first sample, so nothing
	// is shown twice at the seam (a recording collector wrote that sample there too).
	return from, seam.Add(-time.Nanosecond), true
}

// Name implements tui.Source: "live", or "live+shards" when the grid holds other
// collectors' pairs (the status bar shows it).
func (s *Source) Name() string {
	if s.Union != nil {
		return UnionSource
	}
	return s.StoreSource.Name()
}

// Matrix implements tui.Source: the store's, blended with the other shards' with Union.
func (s *Source) Matrix(ctx context.Context) (*mesh.Matrix, error) {
	if s.Union == nil {
		return s.StoreSource.Matrix(ctx)
	}
	// The version first: a change after it only makes the next read build anew.
	v := s.Store.Version()
	m, err := s.StoreSource.Matrix(ctx)
	if err != nil {
		return m, err
	}
	return s.Union.Blend(m, v), nil
}

// PairHistory implements tui.Source: InfluxDB's buckets before the store's oldest sample,
// then the store's samples, in time order.
func (s *Source) PairHistory(ctx context.Context, src, dst string, maxPoints int) ([]mesh.Sample, error) {
	live, err := s.StoreSource.PairHistory(ctx, src, dst, maxPoints)
	if err != nil {
		return nil, err
	}
	return reachBack(ctx, s, live, func(x mesh.Sample) time.Time { return x.Time }, func(from, to time.Time) ([]mesh.Sample, error) {
		return s.Archive(from, to).PairHistory(ctx, src, dst, s.olderPoints(maxPoints, to.Sub(from)))
	}, joinSamples)
}

// PairTraces implements tui.Source: InfluxDB's traces before the store's oldest, then
// the store's.
func (s *Source) PairTraces(ctx context.Context, src, dst string) ([]mesh.TraceResult, error) {
	live, err := s.StoreSource.PairTraces(ctx, src, dst)
	if err != nil {
		return nil, err
	}
	return reachBack(ctx, s, live, func(x mesh.TraceResult) time.Time { return x.Time }, func(from, to time.Time) ([]mesh.TraceResult, error) {
		return s.Archive(from, to).PairTraces(ctx, src, dst)
	}, joinTraces)
}

// reachBack puts what InfluxDB has before the store's oldest entry (live[0]) in front of
// the store's entries. A failed read gives the store's part alone and is reported once
// (setErr); only a cancelled read is an error.
func reachBack[T any](ctx context.Context, s *Source, live []T, timeOf func(T) time.Time,
	read func(from, to time.Time) ([]T, error), join func(old, live []T, end time.Time) []T) ([]T, error) {
	var seam time.Time
	if len(live) > 0 {
		seam = timeOf(live[0])
	}
	from, to, ok := s.older(seam)
	if !ok {
		return live, nil
	}
	old, err := read(from, to)
	s.setErr(err)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return live, nil
	}
	return join(old, live, to), nil
}

// olderPoints shares maxPoints out over the reach, so InfluxDB's buckets are as wide as
// they would be over the whole reach and the chart's time axis keeps one scale.
func (s *Source) olderPoints(maxPoints int, span time.Duration) int {
	if maxPoints <= 0 {
		return maxPoints
	}
	return max(1, int((int64(maxPoints)*int64(span)+int64(s.Reach)-1)/int64(s.Reach)))
}

// joinSamples puts the older samples (those up to end) before the live ones.
func joinSamples(old, live []mesh.Sample, end time.Time) []mesh.Sample {
	out := make([]mesh.Sample, 0, len(old)+len(live))
	for _, o := range old {
		if !o.Time.After(end) {
			out = append(out, o)
		}
	}
	slices.SortStableFunc(out, func(a, b mesh.Sample) int { return a.Time.Compare(b.Time) })
	return append(out, live...)
}

// joinTraces puts the older traces before the live ones. The reader adds each agent's
// newest trace whatever its age: one at or after the seam is the store's already.
func joinTraces(old, live []mesh.TraceResult, end time.Time) []mesh.TraceResult {
	type key struct {
		src, dst string
		t        int64
	}
	seen := map[key]bool{}
	out := make([]mesh.TraceResult, 0, len(old)+len(live))
	for _, o := range old {
		k := key{o.Src, o.Dst, o.Time.UnixNano()}
		if o.Time.After(end) || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, o)
	}
	slices.SortStableFunc(out, func(a, b mesh.TraceResult) int { return a.Time.Compare(b.Time) })
	return append(out, live...)
}

// The blended source keeps what the store's source can do.
var (
	_ tui.Source           = (*Source)(nil)
	_ tui.CapabilitySource = (*Source)(nil)
	_ tui.SweepNower       = (*Source)(nil)
)
