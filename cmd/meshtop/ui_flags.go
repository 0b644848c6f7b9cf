package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/tui"
)

// uiOptions are the TUI's flags, shared by live and history.
type uiOptions struct {
	metric, stat, palette string
	confirm               int
}

func addUIFlags(cmd *cobra.Command, o *uiOptions) {
	f := cmd.Flags()
	f.StringVar(&o.metric, "metric", "latency", "metric shown first: "+mesh.MetricNames())
	f.StringVar(&o.stat, "stat", "last", "stat over the window: last, mean, max or p95")
	f.StringVar(&o.palette, "palette", tui.PaletteDefault, "colours: default or colorblind (NO_COLOR turns colour off)")
	f.IntVar(&o.confirm, "confirm", 1, "sweeps that must agree before a cell changes colour (hysteresis)")
}

// config builds the UI's configuration from these flags and the threshold flags.
func (o *uiOptions) config(tho *thresholdOptions) (tui.Config, error) {
	th, err := tho.thresholds()
	if err != nil {
		return tui.Config{}, err
	}
	cfg := tui.Config{Thresholds: th, Confirm: o.confirm, NoColor: os.Getenv("NO_COLOR") != ""}
	if cfg.Metric, err = mesh.ParseMetric(o.metric); err != nil {
		return cfg, fmt.Errorf("--metric: %w", err)
	}
	if cfg.Stat, err = mesh.ParseStat(o.stat); err != nil {
		return cfg, fmt.Errorf("--stat: %w", err)
	}
	switch o.palette {
	case tui.PaletteDefault, tui.PaletteColorblind:
		cfg.Palette = o.palette
	default:
		return cfg, fmt.Errorf("--palette %q: want default or colorblind", o.palette)
	}
	if o.confirm < 1 {
		return cfg, fmt.Errorf("--confirm %d: want 1 or more", o.confirm)
	}
	return cfg, nil
}
