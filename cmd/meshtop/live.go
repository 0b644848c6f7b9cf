package main

import (
	"context"
	"fmt"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/meshtop/meshtop/blend"
	"github.com/meshtop/meshtop/influx"
	"github.com/meshtop/meshtop/live"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/tui"
)

type liveOptions struct {
	disc          discoveryOptions
	probe         probeOptions
	th            thresholdOptions
	ui            uiOptions
	rec           recordOptions
	reach         reachOptions // InfluxDB beside the store (live_reach.go)
	interval      time.Duration
	traceInterval time.Duration
	keep          int
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
  meshtop live --discover dns://agents.mesh.example.net:8000
  meshtop live --inventory https://lists.example.net/mesh.yaml
  meshtop live --stack-id my-stack --workload-id 1234 --interval 30s
  meshtop live --inventory agents.yaml --record http://127.0.0.1:8086`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLive(cmd.Context(), o) },
	}
	addLiveFlags(cmd, o)
	return cmd
}

// addLiveFlags adds the sweeper's flag groups (shared by live and serve).
func addLiveFlags(cmd *cobra.Command, o *liveOptions) {
	addDiscoveryFlags(cmd, &o.disc)
	addProbeFlags(cmd, &o.probe)
	_ = cmd.Flags().MarkHidden("traceroute") // live traceroutes on its own interval
	addThresholdFlags(cmd, &o.th)
	addUIFlags(cmd, &o.ui)
	addRecordFlags(cmd, &o.rec)
	addReachFlags(cmd, &o.reach)
	f := cmd.Flags()
	f.DurationVar(&o.interval, "interval", 60*time.Second, "time between ping sweeps")
	f.DurationVar(&o.traceInterval, "traceroute-interval", 120*time.Second, "time between traceroute sweeps (0: none)")
	f.IntVar(&o.keep, "keep", mesh.DefaultKeep, "sweeps kept per pair (memory is bounded by it)")
}

// sweeper is the running part of live and serve: one store, one loop, one feed.
type sweeper struct {
	cfg    tui.Config
	store  *mesh.Store
	loop   *live.Loop
	feed   *live.Feed
	rec    *influx.Recorder // nil without --record
	agents []mesh.Agent
	// src is what the UI reads: the store, with InfluxDB behind it (live_reach.go).
	src *blend.Source
}

// newSweeper checks the flags, discovers the agents and builds the loop (not started).
func (o *liveOptions) newSweeper(ctx context.Context) (*sweeper, error) {
	cfg, err := o.ui.config(&o.th)
	if err != nil {
		return nil, err
	}
	if err := o.probe.validate(); err != nil {
		return nil, err
	}
	if o.interval < time.Second {
		return nil, fmt.Errorf("--interval %s: want at least 1s", o.interval)
	}
	if o.keep < 1 {
		return nil, fmt.Errorf("--keep %d: want at least 1", o.keep)
	}
	secret, agents, err := o.disc.discover(ctx)
	if err != nil {
		return nil, err
	}
	reader, err := o.reach.reader(&o.rec)
	if err != nil {
		return nil, err
	}
	rec, err := o.rec.recorder(ctx)
	if err != nil {
		return nil, err
	}
	store := mesh.NewStore(o.keep)
	// One judgement for every viewer: colours and events are the store's (mesh/judge.go).
	store.SetJudgement(mesh.Judgement{Thresholds: cfg.Thresholds, Confirm: cfg.Confirm, NoLossHysteresis: cfg.NoLossHysteresis})
	tuneGCForStore()
	loop := &live.Loop{
		Agents: agents, Options: o.probe.options(secret), Interval: o.interval, TraceInterval: o.traceInterval,
		Store: store,
	}
	// Agents come and go while it runs: inventory edits, DNS records, StackPath.
	o.disc.follow(loop)
	if rec != nil {
		loop.Recorder = rec
	}
	cfg.Interval = o.interval // cells older than two intervals read as stale
	cfg.Agents = len(agents)  // the status bar follows re-discovery (tui.AgentsMsg)
	cfg.Window = fmt.Sprintf("every %s, keep %d", o.interval, o.keep)
	// The feed fans sweep events out to every UI program subscribed to it.
	feed := live.NewFeed()
	loop.Hooks = feed.Hooks(live.Hooks{})
	src := blendSource(tui.StoreSource{Store: store, Sweep: loop.SweepNow}, reader, o.reach.reach, loop.Options.Shard, agents)
	src.Report = feed.Error
	if src.Union != nil {
		src.Union.Report, src.Union.Changed = feed.Error, feed.Changed
	}
	return &sweeper{cfg: cfg, store: store, loop: loop, feed: feed, rec: rec, agents: agents, src: src}, nil
}

// start runs the loop and the recorder's reports until ctx ends.
func (s *sweeper) start(ctx context.Context) {
	go s.loop.Run(ctx)
	go s.feed.WatchSchedule(ctx, s.loop.Stats, scheduleEvery(s.loop.Interval))
	runUnion(ctx, s.src, s.loop.Interval)
	if s.rec != nil {
		go reportRecorder(ctx, s.rec, s.feed)
	}
}

// close flushes the recorder.
func (s *sweeper) close() error {
	if s.rec == nil {
		return nil
	}
	return closeRecorder(s.rec)
}

func runLive(ctx context.Context, o *liveOptions) error {
	sw, err := o.newSweeper(ctx)
	if err != nil {
		return err
	}
	signalled := ctx // SIGINT/SIGTERM cancel it (main)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cfg := sw.cfg
	cfg.Context = ctx // quitting cancels the UI's reads
	p := tea.NewProgram(tui.New(sw.src, cfg), tea.WithContext(ctx))
	sub := sw.feed.SubscribeProgram(p)
	defer sub.Close()
	o.disc.notices.attach(sw.feed.Error) // e.g. an agent placed by its reverse DNS name
	sw.start(ctx)
	_, runErr := p.Run()
	cancel()
	// Points not written are a failed run however it ended (q, ctrl+c, a signal): the
	// flush's error is returned, never dropped for the cancelled context.
	if err := sw.close(); err != nil {
		return err
	}
	if runErr != nil && signalled.Err() == nil {
		return fmt.Errorf("run the UI: %w", runErr)
	}
	return nil
}

// recorderStatus is what the UI shows of a recorder.
type recorderStatus interface {
	Status() (backlog int, dropped int64, lastErr error)
}

func reportRecorder(ctx context.Context, rec recorderStatus, feed *live.Feed) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			backlog, dropped, err := rec.Status()
			st := live.RecordStatus{Backlog: backlog, Dropped: dropped}
			if err != nil {
				st.Err = err.Error()
			}
			feed.Record(st)
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

// scheduleEvery is how often the loop's schedule is checked for the status bar: a few
// times an interval, never more than once a second.
func scheduleEvery(interval time.Duration) time.Duration {
	return max(interval/4, time.Second)
}
