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
	lossHysteresis        bool
}

func addUIFlags(cmd *cobra.Command, o *uiOptions) {
	f := cmd.Flags()
	f.StringVar(&o.metric, "metric", "health", "view shown first: health (the worst of latency, jitter ms and loss) or one metric: "+mesh.MetricNames())
	f.StringVar(&o.stat, "stat", "last", "stat over the window: last, mean, max or p95")
	f.StringVar(&o.palette, "palette", tui.PaletteDefault, "colours: default or colorblind (NO_COLOR turns colour off)")
	f.IntVar(&o.confirm, "confirm", 1, "tests that must agree before latency or jitter changes colour (hysteresis)")
	f.BoolVar(&o.lossHysteresis, "loss-hysteresis", true, "loss changes colour only on evidence over the probes since its rate last changed")
}

// config builds the UI's configuration from these flags and the threshold flags.
func (o *uiOptions) config(tho *thresholdOptions) (tui.Config, error) {
	th, err := tho.thresholds()
	if err != nil {
		return tui.Config{}, err
	}
	cfg := tui.Config{Thresholds: th, Confirm: o.confirm, NoLossHysteresis: !o.lossHysteresis, NoColor: os.Getenv("NO_COLOR") != ""}
	if cfg.View, err = mesh.ParseView(o.metric); err != nil {
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
