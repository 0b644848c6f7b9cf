package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/meshtop/meshtop/influx"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/tui"
)

// historyOptions are `meshtop history`: the grid fed from InfluxDB.
type historyOptions struct {
	influx   influxOptions
	th       thresholdOptions
	ui       uiOptions
	refresh  time.Duration
	from, to string
}

func init() { register(newHistoryCmd) }

func newHistoryCmd() *cobra.Command {
	o := &historyOptions{}
	cmd := &cobra.Command{
		Use:   "history",
		Short: "Explore the mesh from InfluxDB history",
		Long: `Show the mesh as recorded in InfluxDB 1.x (the workshop's ping and traceroute
measurements, written by its collector, by meshtop collect or --record) over a
time window, re-read every --refresh. Enter drills into a cell: both
directions' history, loss, jitter, hop paths (AS path for workshop data) and
route changes. A read-only user is enough: INFLUX_USERNAME, INFLUX_PASSWORD.

The grid paints in steps: the newest test of every pair first (a fraction of a
second), then the stat on screen, then the rest; p95 is read only when shown
(or from rollups, see meshtop rollup). The status bar says what is loading; Esc
cancels a read. Move through time: w/W pick the window (1h, 6h, 24h, 7d, 30d),
[ and ] step back and forward, n jumps to now, d compares with the same window
a day (again: a week) earlier, coloured by the change.`,
		Example: `  meshtop history --influx-url http://127.0.0.1:8086 --window 6h
  meshtop history --from now-2d --to now-1d
  meshtop history --from 2026-11-30T08:00:00Z --to 2026-11-30T12:00:00Z
  INFLUX_USERNAME=grafana_ro INFLUX_PASSWORD=... meshtop history --stat p95`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runHistory(cmd.Context(), o) },
	}
	addInfluxFlags(cmd, &o.influx)
	addThresholdFlags(cmd, &o.th)
	addUIFlags(cmd, &o.ui)
	// The workshop's mesh boards showed mean(...) over the time range: open on the same.
	o.ui.stat = "mean"
	cmd.Flags().Lookup("stat").DefValue = "mean"
	cmd.Flags().DurationVar(&o.refresh, "refresh", time.Minute, "re-read InfluxDB this often (0: only on r)")
	cmd.Flags().StringVar(&o.from, "from", "", "start of the time range: RFC 3339 or relative (now-2d, now-1w, now-90m; units s m h d w)")
	cmd.Flags().StringVar(&o.to, "to", "", "end of the time range (default now): RFC 3339 or relative (now-1d)")
	return cmd
}

// timeRange turns --window, --from and --to into the first range.
func (o *historyOptions) timeRange(now time.Time) (tui.TimeRange, error) {
	tr := tui.TimeRange{Window: o.influx.window}
	if o.to != "" {
		end, isNow, err := parseWhen(o.to, now)
		if err != nil {
			return tr, fmt.Errorf("--to: %w", err)
		}
		if !isNow {
			if end.After(now) {
				return tr, fmt.Errorf("--to %s is in the future", o.to)
			}
			tr.End = end
		}
	}
	if o.from != "" {
		start, _, err := parseWhen(o.from, now)
		if err != nil {
			return tr, fmt.Errorf("--from: %w", err)
		}
		end := tr.End
		if end.IsZero() {
			end = now
		}
		if !start.Before(end) {
			return tr, fmt.Errorf("--from %s is not before --to %s", o.from, orNow(o.to))
		}
		tr.Window = end.Sub(start).Round(time.Second)
	}
	return tr, nil
}

func orNow(s string) string {
	if s == "" {
		return "now"
	}
	return s
}

// parseWhen reads RFC 3339 (or a date) or now[-N unit] (units s, m, h, d, w).
func parseWhen(s string, now time.Time) (time.Time, bool, error) {
	s = strings.TrimSpace(s)
	if s == "now" {
		return now, true, nil
	}
	if rest, ok := strings.CutPrefix(s, "now-"); ok {
		d, err := parseSpan(rest)
		if err != nil {
			return time.Time{}, false, err
		}
		return now.Add(-d), false, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, false, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("%q: want RFC 3339 (2026-11-30T08:00:00Z) or now-2d, now-6h, now-90m", s)
}

func runHistory(ctx context.Context, o *historyOptions) error {
	cfg, err := o.ui.config(&o.th)
	if err != nil {
		return err
	}
	if o.refresh < 0 {
		return fmt.Errorf("--refresh %s: want 0 or a positive duration", o.refresh)
	}
	tr, err := o.timeRange(time.Now())
	if err != nil {
		return err
	}
	o.influx.interactive = true
	r, err := o.influx.reader()
	if err != nil {
		return err
	}
	// Wrong address, credentials or database fail here, readably, not inside the UI.
	checkCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = r.Check(checkCtx)
	cancel()
	if err != nil {
		return err
	}
	cfg.Refresh = o.refresh
	cfg.Range = tr
	cfg.Context = ctx
	src := newHistorySource(r, tr)
	p := tea.NewProgram(tui.New(src, cfg), tea.WithContext(ctx))
	if _, err := p.Run(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("run the UI: %w", err)
	}
	return nil
}

// historySource adapts the InfluxDB reader to the UI: progressive reads of any range,
// and the range the drill-down reads.
type historySource struct {
	base *influx.Reader
	mu   sync.Mutex
	cur  *influx.Reader
	// last is the newest complete read of a window ending now: a refresh of the same
	// window reads only what changed since (influx.Reader.Refresh).
	last *influx.MeshRead
}

func newHistorySource(r *influx.Reader, tr tui.TimeRange) *historySource {
	return &historySource{base: r, cur: r.At(tr.Window, tr.End)}
}

func (h *historySource) reader() *influx.Reader {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cur
}

func (h *historySource) Name() string { return h.base.Name() }

func (h *historySource) Matrix(ctx context.Context) (*mesh.Matrix, error) {
	return h.reader().Matrix(ctx)
}

func (h *historySource) PairHistory(ctx context.Context, src, dst string, maxPoints int) ([]mesh.Sample, error) {
	return h.reader().PairHistory(ctx, src, dst, maxPoints)
}

// PairBuckets is the drill-down history with bucket widths and test counts.
func (h *historySource) PairBuckets(ctx context.Context, src, dst string, maxPoints int) ([]influx.Bucket, error) {
	return h.reader().PairBuckets(ctx, src, dst, maxPoints)
}

func (h *historySource) PairTraces(ctx context.Context, src, dst string) ([]mesh.TraceResult, error) {
	return h.reader().PairTraces(ctx, src, dst)
}

// PairProbes gives the drill-down each test's probe RTTs (tui.ProbeSource).
func (h *historySource) PairProbes(ctx context.Context, src, dst string, limit int) ([]mesh.PingResult, error) {
	return h.reader().PairProbes(ctx, src, dst, limit)
}

func (h *historySource) SetRange(tr tui.TimeRange) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cur = h.base.At(tr.Window, tr.End)
}

func (h *historySource) ReadSteps(ctx context.Context, tr tui.TimeRange, want mesh.Stat, step func(tui.HistoryStep)) error {
	r := h.base.At(tr.Window, tr.End)
	fwd := func(s influx.Step) {
		end := tr.End
		if end.IsZero() {
			end = time.Now()
		}
		hs := tui.HistoryStep{Matrix: s.Matrix, Has: s.Has, Pending: s.Pending, Via: s.Via, Notes: s.Notes}
		switch {
		case s.Matrix != nil && s.Pending == "" && len(s.Matrix.Pops) == 0:
			hs.Coverage = "no tests in this range"
		case s.Matrix != nil:
			hs.Coverage = influx.Coverage(end.Add(-tr.Window), end, s.Oldest, s.Matrix.Time, time.Local, true)
		}
		step(hs)
	}
	if !tr.End.IsZero() {
		return r.MatrixSteps(ctx, want, fwd)
	}
	h.mu.Lock()
	prev := h.last
	h.mu.Unlock()
	next, err := r.Refresh(ctx, prev, want, fwd)
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.last = next
	h.mu.Unlock()
	return nil
}

// The history source is what the UI moves through time with.
var _ tui.HistorySource = (*historySource)(nil)
