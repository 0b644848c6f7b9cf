package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	charmlog "charm.land/log/v2"
	"github.com/spf13/cobra"

	"github.com/meshtop/meshtop/events"
	"github.com/meshtop/meshtop/live"
	"github.com/meshtop/meshtop/metrics"
	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/serve"
)

type serveOptions struct {
	live           liveOptions
	sshListen      string
	access         serve.Access
	stateDir       string
	maxSessions    int
	idleTimeout    time.Duration
	sweepNowEvery  time.Duration
	metricsListen  string
	metricsPerPair bool
	logFormat      string
	eventLog       int
}

func init() { register(newServeCmd) }

func newServeCmd() *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "One sweeper for the whole team: the live grid over SSH",
		Long: `Run one sweeper (discovery, secrets, intervals, --record and --keep as in
"meshtop live") and serve the live grid over SSH: "ssh -p 2222 HOST" shows it
at once, with the whole kept window. Each session has its own view (metric,
sort, filter, drill-down, size, colours); all share one store and one sweep
schedule, so N viewers cost the agents nothing extra.

Logins are by public key only, from --authorized-keys. A key whose SHA256
fingerprint is in --operators may press r (sweep now), at most once per
--sweep-now-every for the whole team; everyone else is a viewer. The host key
is made on first start in --state-dir (mode 0600).

Events come from the one store, as the tests arrive, stamped with the tests'
times: colour changes of latency, jitter (ms) and loss whatever a session
shows (loss on evidence, the others after --confirm), FAILs and answers again,
route changes, agents down and up, recorder drops. Every session's panel and
bottom line list the same ones; they also go to stderr as log lines
(--log-format json for journald or Loki). --metrics-listen serves Prometheus
metrics on /metrics.`,
		Example: `  # ssh -p 2222 collector, for everyone in authorized_keys
  SCOUTER_SECRET=... meshtop serve --inventory agents.yaml \
    --authorized-keys /etc/meshtop/authorized_keys \
    --operators /etc/meshtop/operators --state-dir /var/lib/meshtop \
    --metrics-listen 127.0.0.1:9464 --log-format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd.Context(), o, cmd.ErrOrStderr()) },
	}
	addLiveFlags(cmd, &o.live)
	f := cmd.Flags()
	f.StringVar(&o.sshListen, "ssh-listen", ":2222", "`ADDR` the SSH server listens on")
	f.StringVar(&o.access.AuthorizedKeys, "authorized-keys", "", "`FILE` of public keys that may log in (OpenSSH authorized_keys)")
	f.StringVar(&o.access.Operators, "operators", "", "`FILE` of SHA256 key fingerprints with the operator role (r)")
	f.StringVar(&o.access.Viewers, "viewers", "", "`FILE` of fingerprints with the viewer role (default: every other key)")
	f.StringVar(&o.stateDir, "state-dir", defaultServeStateDir(), "`DIR` for the SSH host key (made on first start)")
	f.IntVar(&o.maxSessions, "max-sessions", serve.DefaultMaxSessions, "most SSH sessions open at once")
	f.DurationVar(&o.idleTimeout, "idle-timeout", serve.DefaultIdleTimeout, "close a session after this long without input")
	f.DurationVar(&o.sweepNowEvery, "sweep-now-every", serve.DefaultSweepNowEvery, "team-wide rate limit of an operator's r")
	f.StringVar(&o.metricsListen, "metrics-listen", "", "`ADDR` to serve Prometheus /metrics on (default: off)")
	f.BoolVar(&o.metricsPerPair, "metrics-per-pair", true, "export per-pair gauges (5 series per PoP pair)")
	f.StringVar(&o.logFormat, "log-format", "text", "log lines: text or json")
	f.IntVar(&o.eventLog, "event-log", events.DefaultSize, "events kept in memory")
	_ = cmd.MarkFlagFilename("authorized-keys")
	_ = cmd.MarkFlagFilename("operators")
	_ = cmd.MarkFlagFilename("viewers")
	_ = cmd.MarkFlagDirname("state-dir")
	return cmd
}

// defaultServeStateDir follows systemd's StateDirectory= when set.
func defaultServeStateDir() string {
	if d := os.Getenv("STATE_DIRECTORY"); d != "" {
		return d
	}
	if d, err := os.UserHomeDir(); err == nil {
		return filepath.Join(d, ".local", "state", "meshtop")
	}
	return ""
}

// logger builds the daemon's logger. The SSH library logs through charm's log package;
// it gets the same writer and format, so journald or Loki see one kind of line.
func (o *serveOptions) logger(w io.Writer) (*slog.Logger, error) {
	lib := charmlog.Options{ReportTimestamp: true, TimeFormat: time.RFC3339Nano, Prefix: "ssh"}
	var l *slog.Logger
	switch o.logFormat {
	case "text":
		l, lib.Formatter = slog.New(slog.NewTextHandler(w, nil)), charmlog.LogfmtFormatter
	case "json":
		l, lib.Formatter = slog.New(slog.NewJSONHandler(w, nil)), charmlog.JSONFormatter
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", o.logFormat)
	}
	charmlog.SetDefault(charmlog.NewWithOptions(w, lib))
	return l, nil
}

func runServe(ctx context.Context, o *serveOptions, stderr io.Writer) error {
	logger, err := o.logger(stderr)
	if err != nil {
		return err
	}
	if o.maxSessions < 1 {
		return fmt.Errorf("--max-sessions %d: want at least 1", o.maxSessions)
	}
	if o.idleTimeout < time.Second || o.sweepNowEvery < 0 {
		return fmt.Errorf("--idle-timeout %s / --sweep-now-every %s: want at least 1s / not negative", o.idleTimeout, o.sweepNowEvery)
	}
	if err := o.access.Check(); err != nil {
		return err
	}
	// The recorder's state changes (the first failed write, at once; recovery; drops)
	// go to the log; recordLog adds bounded reminders while it fails or stalls.
	o.live.rec.logf = func(format string, args ...any) {
		logger.Warn(strings.TrimPrefix(fmt.Sprintf(format, args...), "meshtop: "), "component", "recorder")
	}
	sw, err := o.live.newSweeper(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The store tells every event (colours, outages, routes, agents) as its tests
	// arrive; the daemon writes them as log lines, and every session lists the same ones.
	sw.store.SetEventCapacity(o.eventLog)
	sw.store.SetEventSink(events.Logger(logger))
	drops := &events.Drops{Store: sw.store}
	var srv *serve.Server
	mopts := metrics.Options{Store: sw.store, Interval: o.live.interval, PerPair: o.metricsPerPair, Stats: sw.loop.Stats,
		Sessions: func() int {
			if srv == nil {
				return 0
			}
			return srv.Sessions()
		}}
	if sw.rec != nil {
		mopts.Recorder = sw.rec
	}
	met := metrics.New(mopts)
	mh := met.Hooks()
	sw.loop.Hooks = sw.feed.Hooks(live.Hooks{
		Event: mh.Event,
		Done: func(s probe.Sweep) {
			mh.Done(s)
			msg := "sweep done"
			if len(s.Pings) == 0 && len(s.Traces) > 0 {
				msg = "traceroute sweep done" // on its own clock
			}
			logger.Info(msg, "time", s.Time, "pings", len(s.Pings), "traces", len(s.Traces), "agents", len(s.Agents))
		},
		Error: func(err error) { logger.Error("re-discovery failed; sweeping the agents known", "error", err) },
	})
	o.live.disc.notices.attach(func(err error) {
		logger.Warn("discovery", "notice", err.Error())
		sw.feed.Error(err)
	})
	// The daemon is a feed subscriber too: recorder drops become events.
	rlog := &recordLog{log: logger, every: time.Minute, now: time.Now}
	evsub := sw.feed.Subscribe(func(u live.Update) {
		if u.Record != nil {
			drops.Record(u.Record.Dropped)
			rlog.status(*u.Record)
		}
	})
	defer evsub.Close()

	srv, err = serve.New(serve.Config{
		StateDir: o.stateDir, Access: o.access, MaxSessions: o.maxSessions, IdleTimeout: o.idleTimeout,
		SweepNowEvery: o.sweepNowEvery, Store: sw.store, Feed: sw.feed, SweepNow: sw.loop.SweepNow,
		UI: sw.cfg, Logger: logger, Reads: sw.src,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.sshListen)
	if err != nil {
		return fmt.Errorf("--ssh-listen: %w", err)
	}
	errs := make(chan error, 2)
	if o.metricsListen != "" {
		mln, err := net.Listen("tcp", o.metricsListen)
		if err != nil {
			ln.Close()
			return fmt.Errorf("--metrics-listen: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", met.Handler())
		hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: 30 * time.Second, MaxHeaderBytes: 16 << 10}
		go func() {
			if err := hs.Serve(mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("serve metrics: %w", err)
			}
		}()
		defer hs.Close()
		logger.Info("metrics listening", "addr", mln.Addr().String())
	}
	logger.Info("ssh listening", "addr", ln.Addr().String(), "agents", len(sw.agents), "interval", o.live.interval.String(),
		"max_sessions", o.maxSessions)
	sw.start(ctx)
	go func() { errs <- srv.Serve(ctx, ln) }()
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	cancel()
	if cerr := sw.close(); cerr != nil && err == nil {
		err = cerr
	}
	logger.Info("stopped")
	return err
}
