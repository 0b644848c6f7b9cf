package main

import (
	"context"
	"fmt"
	"time"

	"github.com/meshtop/meshtop/influx"
	"github.com/meshtop/meshtop/mesh"
)

// readInflux reads the window as history's grid does (the same reads, so the same
// numbers) but only what the output shows: the table one metric under --stat, JSON and
// CSV every metric with the test counts and the RTT range.
func (v *snapshotView) readInflux(ctx context.Context, r *influx.Reader, now time.Time) (*mesh.Matrix, error) {
	n := influx.Needs{Stat: v.stat, Counts: true, Range: true}
	if v.format == "table" {
		// The view's metric (and loss, whose colour marks a latency or jitter cell that
		// hides it), or health's metrics.
		n = influx.Needs{Stat: v.stat, Metrics: mesh.HealthMetrics}
		if mt, ok := v.view.Metric(); ok {
			n.Metrics = []mesh.Metric{mt}
			if mt != mesh.Loss {
				n.Metrics = append(n.Metrics, mesh.Loss)
			}
		}
	}
	st, err := r.ReadNeeds(ctx, n)
	if err != nil {
		return nil, err
	}
	if st.Matrix == nil {
		return nil, fmt.Errorf("no matrix read")
	}
	end := now.UTC()
	start := end.Add(-r.Window())
	v.window = &windowJSON{Start: start.Format(time.RFC3339), End: end.Format(time.RFC3339), Read: st.Via}
	if !st.Oldest.IsZero() {
		v.window.Oldest = st.Oldest.UTC().Format(time.RFC3339)
	}
	if !st.Matrix.Time.IsZero() {
		v.window.Newest = st.Matrix.Time.UTC().Format(time.RFC3339)
	}
	v.notes = append(v.notes, st.Notes...)
	if c := influx.Coverage(start, end, st.Oldest, st.Matrix.Time, time.UTC, false); c != "" {
		v.notes = append(v.notes, c)
	}
	return st.Matrix, nil
}
