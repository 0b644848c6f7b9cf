package main

import (
	"context"
	"fmt"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/meshtop/meshtop/live"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/tui"
)

type liveOptions struct {
	disc          discoveryOptions
	probe         probeOptions
	th            thresholdOptions
	ui            uiOptions
	rec           recordOptions
	interval      time.Duration
	traceInterval time.Duration
	keep          int
}

// uiOptions are the TUI's flags, shared by live and history.
type uiOptions struct {
	metric, stat, palette string
	confirm               int
}

func addUIFlags(cmd *cobra.Command, o *uiOptions) {
	f := cmd.Flags()
	f.StringVar(&o.metric, "metric", "latency", "metric shown first: latency, jitter, jitter-ms or loss")
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

func init() { register(newLiveCmd) }

func newLiveCmd() *cobra.Command {
	o := &liveOptions{}
	cmd := &cobra.Command{
		Use:   "live",
		Short: "Probe the mesh continuously and show it as a live grid",
		Long: `Sweep the mesh every --interval (traceroutes every --traceroute-interval) and
show it as a colour-thresholded grid that fills as results arrive. Enter drills
into a cell: both directions' RTT history, loss, jitter, hop paths and route
changes. Press ? for all keys.`,
		Example: `  SCOUTER_SECRET=... meshtop live --inventory agents.yaml
  meshtop live --stack-id my-stack --workload-id 1234 --interval 30s
  meshtop live --inventory agents.yaml --record http://127.0.0.1:8086`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLive(cmd.Context(), o) },
	}
	addDiscoveryFlags(cmd, &o.disc)
	addProbeFlags(cmd, &o.probe)
	_ = cmd.Flags().MarkHidden("traceroute") // live traceroutes on its own interval
	addThresholdFlags(cmd, &o.th)
	addUIFlags(cmd, &o.ui)
	addRecordFlags(cmd, &o.rec)
	f := cmd.Flags()
	f.DurationVar(&o.interval, "interval", 60*time.Second, "time between ping sweeps")
	f.DurationVar(&o.traceInterval, "traceroute-interval", 120*time.Second, "time between traceroute sweeps (0: none)")
	f.IntVar(&o.keep, "keep", mesh.DefaultKeep, "sweeps kept per pair (memory is bounded by it)")
	return cmd
}

func runLive(ctx context.Context, o *liveOptions) error {
	cfg, err := o.ui.config(&o.th)
	if err != nil {
		return err
	}
	if err := o.probe.validate(); err != nil {
		return err
	}
	if o.interval < time.Second {
		return fmt.Errorf("--interval %s: want at least 1s", o.interval)
	}
	if o.keep < 1 {
		return fmt.Errorf("--keep %d: want at least 1", o.keep)
	}
	secret, agents, err := o.disc.discover(ctx)
	if err != nil {
		return err
	}
	rec, err := o.rec.recorder(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	store := mesh.NewStore(o.keep)
	loop := &live.Loop{
		Agents: agents, Options: o.probe.options(secret), Interval: o.interval, TraceInterval: o.traceInterval,
		Store: store, Discover: o.disc.agents, RediscoverEvery: 10 * time.Minute,
	}
	if o.disc.inventory != "" {
		loop.Discover = nil // a static inventory does not change under us
	}
	if rec != nil {
		loop.Recorder = rec
	}
	cfg.SweepNow = loop.SweepNow
	cfg.Window = fmt.Sprintf("%d agents, every %s, keep %d", len(agents), o.interval, o.keep)
	p := tea.NewProgram(tui.New(tui.StoreSource{Store: store}, cfg), tea.WithContext(ctx))
	loop.Hooks = live.Hooks{
		Event: func(e probe.Event) {
			switch e := e.(type) {
			case probe.ProgressEvent:
				if e.Done == 0 {
					p.Send(tui.SweepStartedMsg{Total: e.Total})
				} else {
					p.Send(tui.ProgressMsg{Done: e.Done, Total: e.Total})
				}
			case probe.PingEvent, probe.TraceEvent:
				p.Send(tui.DataChangedMsg{})
			}
		},
		Done:  func(sw probe.Sweep) { p.Send(tui.SweepDoneMsg{Time: sw.Time, Agents: sw.Agents}) },
		Error: func(err error) { p.Send(tui.SourceErrMsg{Err: err}) },
	}
	go loop.Run(ctx)
	if rec != nil {
		go reportRecorder(ctx, rec, p)
	}
	_, runErr := p.Run()
	cancel()
	if rec != nil {
		if err := closeRecorder(rec); err != nil && runErr == nil {
			runErr = err
		}
	}
	if runErr != nil && ctx.Err() == nil {
		return fmt.Errorf("run the UI: %w", runErr)
	}
	return nil
}

// recorderStatus is what the UI shows of a recorder.
type recorderStatus interface {
	Status() (backlog int, dropped int64, lastErr error)
}

func reportRecorder(ctx context.Context, rec recorderStatus, p *tea.Program) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			backlog, dropped, err := rec.Status()
			msg := tui.RecordStatusMsg{Backlog: backlog, Dropped: dropped}
			if err != nil {
				msg.Err = err.Error()
			}
			p.Send(msg)
		}
	}
}

// closeRecorder flushes what is buffered, for at most 30 s, and says what was lost.
func closeRecorder(rec interface {
	recorderStatus
	Close(context.Context) error
}) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := rec.Close(ctx)
	backlog, dropped, last := rec.Status()
	if backlog > 0 || dropped > 0 {
		fmt.Fprintf(os.Stderr, "meshtop: recording: %d points not written, %d dropped\n", backlog, dropped)
	}
	if err != nil {
		return fmt.Errorf("flush recording: %w", err)
	}
	// Points dropped on the way are a failed recording too: exit non-zero with the cause.
	if dropped > 0 {
		if last != nil {
			return fmt.Errorf("recording: %d points dropped: %w", dropped, last)
		}
		return fmt.Errorf("recording: %d points dropped", dropped)
	}
	return nil
}
