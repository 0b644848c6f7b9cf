package main

import (
	"context"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/meshtop/meshtop/influx"
	"github.com/meshtop/meshtop/tui"
)

// historyOptions are `meshtop history`: the grid fed from InfluxDB.
type historyOptions struct {
	influx  influxOptions
	th      thresholdOptions
	ui      uiOptions
	refresh time.Duration
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

A wide window over a large mesh is InfluxDB's work: 24 h of 50 PoPs (3.5M
points) takes about half a minute; keep --refresh above that.`,
		Example: `  meshtop history --influx-url http://127.0.0.1:8086 --window 6h
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
	return cmd
}

func runHistory(ctx context.Context, o *historyOptions) error {
	cfg, err := o.ui.config(&o.th)
	if err != nil {
		return err
	}
	if o.refresh < 0 {
		return fmt.Errorf("--refresh %s: want 0 or a positive duration", o.refresh)
	}
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
	cfg.Window = o.influx.window.String()
	cfg.Context = ctx
	p := tea.NewProgram(tui.New(r, cfg), tea.WithContext(ctx))
	if _, err := p.Run(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("run the UI: %w", err)
	}
	return nil
}

// The history reader is the UI's source as it is.
var _ tui.Source = (*influx.Reader)(nil)

// The history reader paints a first grid without p95 (9.4 s instead of 33.5 s on 50 PoPs
// x 24 h, bench/influxgrid data), then the full one.
var _ tui.QuickSource = (*influx.Reader)(nil)
