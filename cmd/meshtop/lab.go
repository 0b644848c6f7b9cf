//go:build linux

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/meshtop/meshtop/lab"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe/agent"
)

func init() { register(newLabCmd) }

// labFlags are shared by the lab subcommands.
type labFlags struct {
	stateDir string
	name     string
	config   string
}

// labConfig is the config the user named (--config), else the default six-PoP lab;
// --name renames it.
func (f *labFlags) labConfig() (lab.Config, error) {
	c := lab.DefaultConfig()
	if f.config != "" {
		var err error
		if c, err = lab.LoadConfig(f.config); err != nil {
			return lab.Config{}, err
		}
	}
	if f.name != "" {
		c.Name = f.name
	}
	return c, c.Validate()
}

// labName is the lab that down, set and status act on: --name, else the only lab
// running, else the default name.
func (f *labFlags) labName() string {
	if f.name != "" {
		return f.name
	}
	if names, err := lab.Labs(f.stateDir); err == nil && len(names) == 1 {
		return names[0]
	}
	return lab.DefaultName
}

func newLabCmd() *cobra.Command {
	f := &labFlags{}
	lo := &labLiveOptions{}
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Run a local demo mesh in network namespaces (root)",
		Long: `Build a lab of PoPs on this machine and open the live grid on it; quitting
tears it down. Each PoP is a network namespace with a meshtop agent inside; a
WAN emulator in Go forwards packets between them with per-pair delay, jitter
and loss and answers traceroutes from emulated routers (with ASNs).

Without --config the lab has six PoPs (ams fra lon nyc sjc sin) with realistic
round-trip times and every state the grid can show: a lossy, a slow (yellow)
and a >1 s (red) path, a jittery one, routers (one rate-limits ICMP), and a
scenario that repeats every 6 minutes: a route change at 40 s, a 30 s outage,
a lossy router (--no-scenario turns it off). It sweeps every 10 s and
traceroutes every 15 s; the live flags (--interval, --traceroute-interval,
--count, --metric, --record, ...) are passed on to the live grid.

Addresses come from 198.18.0.0/15 only (checked unused); every namespace and
link is named mt-NAME-*. Needs root. A lab left by a crash is removed first.`,
		Example: `  sudo meshtop lab
  sudo meshtop lab --config lab.yaml --interval 30s --count 10`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{noConfigAnnotation: "true"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLabLive(cmd.Context(), f, lo, cmd.Flags(), cmd.ErrOrStderr())
		},
	}
	addLabLiveFlags(cmd, lo)
	cmd.PersistentFlags().StringVar(&f.stateDir, "state-dir", lab.DefaultStateDir, "`DIR` that holds the state of running labs")
	cmd.PersistentFlags().StringVar(&f.name, "name", "", "lab `NAME` (default: up takes it from the config; down, set and status the one running lab; else "+lab.DefaultName+")")
	cmd.Flags().StringVar(&f.config, "config", "", "lab config `FILE` (YAML; default: the built-in six-PoP lab; env MESHTOP_CONFIG does not apply)")
	cmd.AddCommand(newLabUpCmd(f), newLabDownCmd(f), newLabSetCmd(f), newLabRouterCmd(f), newLabStatusCmd(f), newLabRunCmd(f))
	return cmd
}

func newLabUpCmd(f *labFlags) *cobra.Command {
	var noScenario bool
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Build a lab and leave it running",
		Long: `Build the lab and leave it running: namespaces, agents and the forwarder
stay up until "meshtop lab down". The inventory for meshtop is written to
STATE-DIR/NAME/inventory.yaml (the agents' secret sits next to it).

A lab config (YAML):

` + indent(lab.ExampleConfig, "  ") + `

rtt is split evenly into the two one-way delays; delay is one way; jitter is
the largest one-way deviation (uniform); loss applies to each direction and
is spread evenly (10% = every tenth packet). The forwarder plays the
scenario's events at their times after the lab is up (--no-scenario: not).`,
		Example: `  sudo meshtop lab up --config lab.yaml
  sudo meshtop snapshot --inventory /run/meshtop-lab/demo/inventory.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.labConfig()
			if err != nil {
				return err
			}
			if noScenario {
				cfg.Scenario = lab.Scenario{}
			}
			s, err := lab.Up(cmd.Context(), cfg, lab.UpOptions{StateDir: f.stateDir, Log: cmd.ErrOrStderr(), Self: selfCommand()})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "lab %s is up; inventory: %s\n", s.Layout.Name, s.Inventory())
			return nil
		},
	}
	cmd.Flags().StringVar(&f.config, "config", "", "lab config `FILE` (YAML; default: the built-in six-PoP lab; env MESHTOP_CONFIG does not apply)")
	cmd.Flags().BoolVar(&noScenario, "no-scenario", false, "do not play the config's scripted events (route change, outage, ...)")
	return cmd
}

// indent prefixes every line of s.
func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

func newLabDownCmd(f *labFlags) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Remove a lab (also after a crash)",
		Long: `Stop the lab's agents and forwarder and remove its namespaces, links and
state. It finds them by name (mt-NAME-*), so it also cleans up after a crash.
--all removes every lab and everything else named mt-*.`,
		Example: `  sudo meshtop lab down
  sudo meshtop lab down --all`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if all {
				return lab.DownAll(cmd.Context(), f.stateDir, cmd.ErrOrStderr())
			}
			return lab.Down(cmd.Context(), f.stateDir, f.labName(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "remove every lab and everything named mt-*")
	return cmd
}

func newLabSetCmd(f *labFlags) *cobra.Command {
	var (
		delay, rtt, jitter, loss, via string
		oneway                        bool
	)
	cmd := &cobra.Command{
		Use:   "set POP_A POP_B",
		Short: "Change the path between two PoPs of a running lab",
		Long: `Change the emulated path between two PoPs while the lab runs. Flags not given
keep their value. Both directions change unless --oneway (A to B only); the
way back runs through the routers of --via in reverse order.`,
		Example: `  sudo meshtop lab set ams nyc --rtt 160ms --loss 5%
  sudo meshtop lab set ams sjc --via atl,us-bb
  sudo meshtop lab set ams fra --delay 40ms --oneway`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var u lab.PathUpdate
			fl := cmd.Flags()
			if fl.Changed("delay") && fl.Changed("rtt") {
				return errors.New("give --delay (one way) or --rtt, not both")
			}
			if fl.Changed("delay") || fl.Changed("rtt") {
				s, div := delay, time.Duration(1)
				if fl.Changed("rtt") {
					s, div = rtt, 2
				}
				d, err := lab.ParseDuration(s)
				if err != nil {
					return err
				}
				d /= div
				u.Delay = &d
			}
			if fl.Changed("jitter") {
				d, err := lab.ParseDuration(jitter)
				if err != nil {
					return err
				}
				u.Jitter = &d
			}
			if fl.Changed("loss") {
				p, err := lab.ParsePercent(loss)
				if err != nil {
					return err
				}
				u.Loss = &p
			}
			if fl.Changed("via") {
				v := []string{}
				for _, r := range strings.Split(via, ",") {
					if r = strings.TrimSpace(r); r != "" {
						v = append(v, r)
					}
				}
				u.Via = &v
			}
			if u.Delay == nil && u.Jitter == nil && u.Loss == nil && u.Via == nil {
				return errors.New("nothing to change: give --delay, --rtt, --jitter, --loss or --via")
			}
			u.Both = !oneway
			s, err := lab.LoadState(f.stateDir, f.labName())
			if err != nil {
				return err
			}
			return lab.Set(cmd.Context(), s, args[0], args[1], u)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&delay, "delay", "", "one-way `DELAY`, e.g. 40ms")
	fl.StringVar(&rtt, "rtt", "", "round-trip `TIME` (half of it each way), e.g. 80ms")
	fl.StringVar(&jitter, "jitter", "", "largest one-way deviation `JITTER` from the delay, e.g. 2ms")
	fl.StringVar(&loss, "loss", "", "share `LOSS` of packets lost in each direction, e.g. 5%")
	fl.StringVar(&via, "via", "", "`ROUTERS` on the path from A to B, comma-separated (\"\" for none)")
	fl.BoolVar(&oneway, "oneway", false, "change only the direction from A to B")
	return cmd
}

func newLabRouterCmd(f *labFlags) *cobra.Command {
	var loss, icmpLoss string
	cmd := &cobra.Command{
		Use:   "router NAME",
		Short: "Make a router of a running lab lossy, or rate-limit its ICMP",
		Long: `Change how an emulated router loses packets while the lab runs.

--loss loses that share of the packets on the way into the router: traceroute
probes that expire there and everything that passes it, so the loss shows at
this hop and at every later hop and the destination (real loss).
--icmp-loss drops that share of the router's own ICMP time-exceeded answers
only, as a router that rate-limits ICMP does: the hop looks lossy, the hops
after it and the destination do not.`,
		Example: `  sudo meshtop lab router atl --loss 20%
  sudo meshtop lab router us-bb --icmp-loss 50%
  sudo meshtop lab router atl --loss 0 --icmp-loss 0`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var u lab.RouterUpdate
			fl := cmd.Flags()
			for _, x := range []struct {
				name, v string
				dst     **float64
			}{{"loss", loss, &u.Loss}, {"icmp-loss", icmpLoss, &u.ICMPLoss}} {
				if !fl.Changed(x.name) {
					continue
				}
				p, err := lab.ParsePercent(x.v)
				if err != nil {
					return fmt.Errorf("--%s: %w", x.name, err)
				}
				*x.dst = &p
			}
			if u.Loss == nil && u.ICMPLoss == nil {
				return errors.New("nothing to change: give --loss or --icmp-loss")
			}
			s, err := lab.LoadState(f.stateDir, f.labName())
			if err != nil {
				return err
			}
			return lab.SetRouter(cmd.Context(), s, args[0], u)
		},
	}
	cmd.Flags().StringVar(&loss, "loss", "", "share `LOSS` of packets lost on the way into the router, e.g. 20%")
	cmd.Flags().StringVar(&icmpLoss, "icmp-loss", "", "share `LOSS` of its ICMP time-exceeded answers the router does not send, e.g. 50%")
	return cmd
}

func newLabStatusCmd(f *labFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "status",
		Short:   "Show a running lab: PoPs, addresses, processes, paths",
		Example: "  sudo meshtop lab status\n  sudo meshtop lab status --name t1 --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := lab.GetStatus(cmd.Context(), f.stateDir, f.labName())
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			printLabStatus(cmd.OutOrStdout(), st)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return cmd
}

func printLabStatus(w io.Writer, st *lab.Status) {
	l := st.State.Layout
	fmt.Fprintf(w, "lab %s (slot %d): mesh %s, routers %s, api %s\n", l.Name, l.Slot, l.MeshNet, l.RtrNet, l.APINet)
	fmt.Fprintf(w, "inventory %s\n", st.Inventory)
	fw := "running"
	if !st.ForwarderAlive {
		fw = "NOT RUNNING"
	}
	fmt.Fprintf(w, "forwarder pid %d %s\n\n", st.State.ForwarderPID, fw)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "POP\tNETNS\tMESH ADDR\tAPI URL\tASN\tAGENT")
	for i, p := range l.Pops {
		a := st.Agents[i]
		state := fmt.Sprintf("pid %d running", a.PID)
		if !a.Alive {
			state = fmt.Sprintf("pid %d NOT RUNNING", a.PID)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", p.Name, p.Netns, p.MeshAddr, p.URL, p.ASN, state)
	}
	tw.Flush()
	if len(l.Routers) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ROUTER\tADDR\tASN\tORG\tLOSS\tICMP LOSS\tDROPPED\tICMP DROPPED")
		for i, r := range l.Routers {
			loss := "\t\t\t"
			if i < len(st.Routers) {
				rs := st.Routers[i]
				loss = fmt.Sprintf("%g%%\t%g%%\t%d\t%d", rs.Loss, rs.ICMPLoss, rs.Dropped, rs.ICMPDropped)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", r.Name, r.Addr, r.ASN, r.Org, loss)
		}
		tw.Flush()
	}
	fmt.Fprintln(w)
	if st.PathsError != "" {
		fmt.Fprintf(w, "paths: %s\n", st.PathsError)
		return
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FROM\tTO\tDELAY\tJITTER\tLOSS\tVIA\tFORWARDED\tDROPPED\tTTL EXPIRED")
	for _, p := range st.Paths {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%g%%\t%s\t%d\t%d\t%d\n", p.Src, p.Dst, p.Path.Delay, p.Path.Jitter,
			p.Path.Loss, strings.Join(p.Path.Via, ","), p.Forwarded, p.Dropped, p.Expired)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nforwarder released %d packets, on average %s and at most %s after their due time\n",
		st.Lateness.Packets, st.Lateness.Mean, st.Lateness.Max)
}

func newLabRunCmd(f *labFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "run",
		Short:   "Run a lab's WAN forwarder (started by lab up)",
		Example: "  meshtop lab run --name demo",
		Hidden:  true,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return lab.RunForwarder(cmd.Context(), f.stateDir, f.labName())
		},
	}
}

// labLiveOptions are the flags of `meshtop lab` that it hands to `meshtop live`: the
// live command's own (same names, same help), with demo defaults that sweep often
// enough for a newcomer to see a chart within a minute.
type labLiveOptions struct {
	probe         probeOptions
	th            thresholdOptions
	ui            uiOptions
	rec           recordOptions
	interval      time.Duration
	traceInterval time.Duration
	keep          int
	replyWait     time.Duration
	hopTimeout    time.Duration
	noScenario    bool
}

// Demo defaults of `meshtop lab` (live's are 60s and 120s).
const (
	labInterval      = 10 * time.Second
	labTraceInterval = 15 * time.Second
)

// labLiveFlags are the flags forwarded to the live child when given.
var labLiveFlags = []string{"count", "max-tests", "trace-proto", "metric", "stat", "palette", "confirm",
	"loss-hysteresis", "record", "record-db", "record-buffer", "record-public-ip", "interval", "traceroute-interval", "keep"}

func addLabLiveFlags(cmd *cobra.Command, o *labLiveOptions) {
	addProbeFlags(cmd, &o.probe)
	f := cmd.Flags()
	_ = f.MarkHidden("traceroute") // live traceroutes on its own interval
	addThresholdFlags(cmd, &o.th)
	addUIFlags(cmd, &o.ui)
	addRecordFlags(cmd, &o.rec)
	f.DurationVar(&o.interval, "interval", labInterval, "time between ping sweeps")
	f.DurationVar(&o.traceInterval, "traceroute-interval", labTraceInterval, "time between traceroute sweeps (0: none)")
	f.IntVar(&o.keep, "keep", mesh.DefaultKeep, "sweeps kept per pair (memory is bounded by it)")
	f.DurationVar(&o.replyWait, "reply-wait", agent.DefaultReplyWait, "the lab agents' --reply-wait: replies accepted this long after a ping's last request")
	f.DurationVar(&o.hopTimeout, "hop-timeout", agent.DefaultHopTimeout, "the lab agents' --hop-timeout: how long a traceroute waits for routers below the destination once it answered")
	f.BoolVar(&o.noScenario, "no-scenario", false, "do not play the config's scripted events (route change, outage, ...)")
}

// liveArgs are the arguments of the live child: every live flag the user gave, and the
// lab's demo intervals unless the user gave others.
func liveArgs(fs *pflag.FlagSet, inventory string) []string {
	args := []string{"live", "--inventory", inventory}
	forward := map[string]bool{}
	for _, n := range labLiveFlags {
		forward[n] = true
	}
	for _, m := range mesh.Metrics {
		forward["thresholds-"+m.String()] = true
	}
	fs.Visit(func(f *pflag.Flag) {
		if !forward[f.Name] {
			return
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				args = append(args, "--"+f.Name+"="+v)
			}
			return
		}
		args = append(args, "--"+f.Name+"="+f.Value.String())
	})
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"interval", labInterval}, {"traceroute-interval", labTraceInterval}} {
		if !fs.Changed(d.name) {
			args = append(args, "--"+d.name+"="+d.v.String())
		}
	}
	return args
}

// selfCommand is how the user runs meshtop, for the commands messages tell them to
// run: `go run ./cmd/meshtop` from a go run build, "meshtop" when that is on PATH, else
// the binary's path.
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "meshtop"
	}
	if strings.Contains(exe, string(os.PathSeparator)+"go-build") {
		return "go run ./cmd/meshtop"
	}
	if p, err := exec.LookPath("meshtop"); err == nil {
		if a, err1 := os.Stat(p); err1 == nil {
			if b, err2 := os.Stat(exe); err2 == nil && os.SameFile(a, b) {
				return "meshtop"
			}
		}
	}
	return exe
}

// runLabLive builds the lab, runs `meshtop live` on it as a child with the terminal
// attached, and tears the lab down when live exits or meshtop is told to stop: q,
// Ctrl-C, SIGTERM, and SIGHUP (an SSH drop, a closed window, tmux kill-session), which
// would otherwise end meshtop with the whole lab left running. A lab of the same name
// left by a crash (its `meshtop lab` gone) is removed first.
func runLabLive(ctx context.Context, f *labFlags, o *labLiveOptions, fs *pflag.FlagSet, log io.Writer) (err error) {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg, err := f.labConfig()
	if err != nil {
		return err
	}
	if o.noScenario {
		cfg.Scenario = lab.Scenario{}
	}
	self := selfCommand()
	lo, err := lab.FindLeftover(f.stateDir, cfg.Name)
	if err != nil {
		return err
	}
	if lo != nil && lo.Running {
		owner := "`" + self + " lab up`"
		if lo.State.Owner > 0 {
			owner = fmt.Sprintf("another `%s lab` (pid %d)", self, lo.State.Owner)
		}
		return fmt.Errorf("lab %s is already running, made by %s; use it with `%s live --inventory %s`, start another with --name, or remove it with `%s lab down --name %s`",
			cfg.Name, owner, self, lo.State.Inventory(), self, cfg.Name)
	}
	if lo != nil {
		fmt.Fprintf(log, "removing lab %s left over from an earlier run (%s)...\n", cfg.Name, lo)
		if err := lab.Down(ctx, f.stateDir, cfg.Name, nil); err != nil {
			return fmt.Errorf("remove the leftover lab %s (try `%s lab down --name %s`): %w", cfg.Name, self, cfg.Name, err)
		}
	}
	fmt.Fprintf(log, "building lab %s (%d pops)...\n", cfg.Name, len(cfg.Pops))
	// The agent wants --hop-timeout within --reply-wait: a short wait shortens both. A
	// short hop timeout keeps a traceroute over a silent path (an outage) short.
	agentArgs := []string{"--reply-wait", o.replyWait.String(), "--hop-timeout", min(o.hopTimeout, o.replyWait).String()}
	s, err := lab.Up(ctx, cfg, lab.UpOptions{StateDir: f.stateDir, Log: io.Discard, Owner: os.Getpid(), Self: self,
		AgentArgs: agentArgs})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintf(log, "removing lab %s...\n", cfg.Name)
		derr := lab.Down(context.WithoutCancel(ctx), f.stateDir, cfg.Name, nil)
		err = errors.Join(err, derr)
	}()
	if ctx.Err() != nil {
		return nil // told to stop while the lab was being built
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the meshtop binary: %w", err)
	}
	live := exec.Command(exe, liveArgs(fs, s.Inventory())...)
	live.Stdin, live.Stdout, live.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := live.Start(); err != nil {
		return fmt.Errorf("start meshtop live: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- live.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		// Interrupted from outside: let live restore the terminal before we tear down.
		_ = live.Process.Signal(syscall.SIGTERM)
		select {
		case err = <-done:
		case <-time.After(5 * time.Second):
			_ = live.Process.Kill()
			err = <-done
		}
		if err != nil {
			return nil // live ended by our signal (or the terminal's): the teardown is what counts
		}
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() >= 0 {
			return exitError{code: ee.ExitCode()}
		}
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("meshtop live: %w", err)
	}
	return nil
}
