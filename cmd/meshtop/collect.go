package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/meshtop/meshtop/influx"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
)

// collectOptions are `meshtop collect`: a drop-in for the workshop's scouter_client.py
// under Telegraf's inputs.exec (data_format = "influx").
type collectOptions struct {
	disc         discoveryOptions
	probe        probeOptions
	stackSlug    string
	workloadSlug string
	utility      string
	dsts         []string
	dstPops      []string
	types        string
	publicIP     string
	// deadline bounds the whole run, below Telegraf's timeout: a process Telegraf kills
	// hands it nothing, so what is measured by then is printed and the rest named.
	deadline time.Duration
	// The workshop passed these secrets on the command line; they are refused.
	clientSecret, scouterSecret string
}

func init() { register(newCollectCmd) }

func newCollectCmd() *cobra.Command {
	o := &collectOptions{}
	cmd := &cobra.Command{
		Use:   "collect",
		Short: "Print one sweep as InfluxDB line protocol (Telegraf inputs.exec)",
		Long: `Run one sweep and print every result as InfluxDB line protocol on stdout,
in the workshop's schema (measurements ping and traceroute), for Telegraf's
inputs.exec with data_format = "influx". It replaces the workshop's
scouter_client.py and takes its flags.

Field types (--types):
  workshop  (default) the types a workshop database holds after Telegraf's
            converter: RTT, jitter and loss floats, final_hop_ttl an integer,
            failed and as_path strings. Works with or without the converter
            and never causes a "field type conflict" in a workshop database.
  numeric   failed as an integer 0/1 too. Only for a new database: one the
            workshop filled refuses it (failed is a string there).

Each result is printed as its batch finishes. --deadline (default 50s) ends the
run below Telegraf's timeout: Telegraf discards everything a command it had to
kill printed, so at the deadline collect prints what it has, names on stderr
what it left out, and exits 0. Keep --deadline under inputs.exec's timeout
(with a few seconds to spare: receipts are deleted for up to 2 s after it).

Secrets come from the environment only: SP_API_CLIENT_SECRET (StackPath) and
SCOUTER_SECRET (agents), or --scouter-secret-file. Failing agents are
reported on stderr; the exit status is 1 only when nothing was measured.`,
		Example: `  # telegraf.conf: ping every 60 s, traceroute every 120 s
  [[inputs.exec]]
    commands = ['meshtop collect --inventory /etc/meshtop/agents.yaml']
    timeout = "60s"
    data_format = "influx"
  # StackPath: SP_STACK_ID, SCOUTER_WORKLOAD_ID, SP_API_CLIENT_ID and the
  # secrets come from Telegraf's environment
  [[inputs.exec]]
    commands = ['meshtop collect --utility traceroute']
    interval = "120s"
    timeout = "120s"
    data_format = "influx"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCollect(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	addDiscoveryFlags(cmd, &o.disc)
	addProbeFlags(cmd, &o.probe)
	f := cmd.Flags()
	f.StringVar(&o.stackSlug, "stack-slug", "", "StackPath stack slug or ID (workshop name of --stack-id)")
	f.StringVar(&o.workloadSlug, "workload-slug", "", "StackPath workload slug or ID (workshop name of --workload-id)")
	f.StringVar(&o.utility, "utility", "ping", "test to run: ping, traceroute or both")
	f.StringSliceVar(&o.dsts, "dst", nil, "test these `addresses` instead of the agents (dst_pop: the agent's, else Unknown)")
	f.StringSliceVar(&o.dstPops, "dst-pops", nil, "only these destination `PoPs` (comma-separated PoP codes)")
	f.StringVar(&o.types, "types", "workshop", "field types: workshop (fits existing databases) or numeric")
	f.StringVar(&o.publicIP, "public-ip", "", "public_ip tag (default: this host's first global address)")
	f.DurationVar(&o.deadline, "deadline", defaultCollectDeadline, "print what was measured and stop after this long (keep it below Telegraf's timeout; 0: none)")
	f.StringVar(&o.clientSecret, "client-secret", "", "refused: set SP_API_CLIENT_SECRET in the environment")
	f.StringVar(&o.scouterSecret, "scouter-secret", "", "refused: set SCOUTER_SECRET in the environment")
	_ = f.MarkHidden("client-secret")
	_ = f.MarkHidden("scouter-secret")
	return cmd
}

func (o *collectOptions) schema() (influx.Schema, error) {
	switch strings.ToLower(o.types) {
	case "workshop":
		return influx.WorkshopSchema(), nil
	case "numeric":
		return influx.NumericSchema(), nil
	}
	return nil, fmt.Errorf("--types %q: want workshop or numeric", o.types)
}

func (o *collectOptions) kinds() (probe.Kind, error) {
	var k probe.Kind
	switch strings.ToLower(o.utility) {
	case "ping":
		k = probe.KindPing
	case "traceroute":
		k = probe.KindTraceroute
	case "both":
		k = probe.KindPing | probe.KindTraceroute
	default:
		return 0, fmt.Errorf("--utility %q: want ping, traceroute or both", o.utility)
	}
	if o.probe.traceroute {
		k |= probe.KindTraceroute
	}
	return k, nil
}

func runCollect(ctx context.Context, o *collectOptions, out, errOut io.Writer) error {
	if o.clientSecret != "" || o.scouterSecret != "" {
		return errors.New("--client-secret and --scouter-secret are refused: a command line is visible to every user in ps. " +
			"Set SP_API_CLIENT_SECRET and SCOUTER_SECRET in the environment (Telegraf passes its environment to inputs.exec) " +
			"and drop these flags")
	}
	if o.stackSlug != "" && o.disc.stackID == "" {
		o.disc.stackID = o.stackSlug
	}
	if o.workloadSlug != "" && o.disc.workloadID == "" {
		o.disc.workloadID = o.workloadSlug
	}
	schema, err := o.schema()
	if err != nil {
		return err
	}
	kinds, err := o.kinds()
	if err != nil {
		return err
	}
	if err := o.probe.validate(); err != nil {
		return err
	}
	if o.deadline < 0 {
		return fmt.Errorf("--deadline %s: want a duration, or 0 for none", o.deadline)
	}
	interrupted := ctx // SIGINT/SIGTERM
	if o.deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.deadline)
		defer cancel()
	}
	secret, agents, err := o.disc.discover(ctx)
	o.disc.notices.print(errOut)
	if err != nil {
		return err
	}
	_, err = collectTo(ctx, interrupted, o, agents, secret, schema, kinds, out, errOut)
	return err
}

// defaultCollectDeadline leaves 10 s of the README's Telegraf timeout (60 s) for
// deleting receipts, printing and exiting.
const defaultCollectDeadline = 50 * time.Second

// collectLines runs the sweep and returns its lines (collectTo into a buffer).
func collectLines(ctx context.Context, o *collectOptions, agents []mesh.Agent, secret string, schema influx.Schema,
	kinds probe.Kind, errOut io.Writer) ([]byte, error) {
	var b bytes.Buffer
	if _, err := collectTo(ctx, ctx, o, agents, secret, schema, kinds, &b, errOut); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// collectTo runs the sweep and prints each result as line protocol on out as its
// batch finishes. Agents that failed are reported on errOut (Telegraf logs an exec
// plugin's stderr); when ctx's deadline ends the sweep first, errOut says what was
// left out, per source agent. Only a sweep without a single measured result, or one
// that interrupted (its context) ended, is an error.
func collectTo(ctx, interrupted context.Context, o *collectOptions, agents []mesh.Agent, secret string, schema influx.Schema,
	kinds probe.Kind, out, errOut io.Writer) (printed int, err error) {
	targets, err := collectTargets(agents, o.dsts, o.dstPops)
	if err != nil {
		return 0, err
	}
	opts := o.probe.options(secret)
	opts.Kinds = kinds
	opts.Targets = targets
	publicIP := o.publicIP
	if publicIP == "" {
		publicIP = hostAddress()
	}
	var werr error
	leftOut := map[string]int{} // source agent -> tests the deadline cut off
	// emit is called for one result at a time (probe.Run serialises events).
	emit := func(e probe.Event) {
		var sw probe.Sweep
		var errText, src string
		switch e := e.(type) {
		case probe.PingEvent:
			sw.Pings, errText, src = []mesh.PingResult{e.Result}, e.Result.Err, e.Result.Src
		case probe.TraceEvent:
			sw.Traces, errText, src = []mesh.TraceResult{e.Result}, e.Result.Err, e.Result.Src
		default:
			return
		}
		if errText != "" && ctx.Err() != nil {
			leftOut[src]++
			return
		}
		lines, n, err := influx.SweepLines(sw, publicIP, schema)
		if err != nil || n == 0 || werr != nil {
			if werr == nil {
				werr = err
			}
			return
		}
		if _, err := out.Write(lines); err != nil {
			werr = fmt.Errorf("write line protocol: %w", err)
			return
		}
		printed += n
	}
	sw := probe.Run(ctx, agents, opts, emit)
	if interrupted.Err() != nil {
		return printed, fmt.Errorf("sweep interrupted: %w", interrupted.Err())
	}
	if werr != nil {
		return printed, werr
	}
	for _, a := range sw.Agents {
		if a.State.Failing() && leftOut[a.Name] == 0 {
			fmt.Fprintf(errOut, "meshtop collect: agent %s (%s): %s: %s\n", a.Name, a.Pop, a.State, a.Error)
		}
	}
	if len(leftOut) > 0 {
		cut := 0
		var who []string
		for _, a := range sw.Agents {
			if n := leftOut[a.Name]; n > 0 {
				cut += n
				who = append(who, fmt.Sprintf("%s (%s): %d", a.Name, a.Pop, n))
			}
		}
		fmt.Fprintf(errOut, "meshtop collect: --deadline %s reached: printed %d results, left out %d tests not finished by then: %s\n",
			o.deadline, printed, cut, strings.Join(who, ", "))
	}
	if printed == 0 {
		return 0, fmt.Errorf("no result could be measured: %d agents, %d tests, all failed (see the agent errors above)",
			len(agents), len(sw.Pings)+len(sw.Traces))
	}
	return printed, nil
}

// collectTargets picks the destinations: --dst addresses (placed in the PoP of the agent
// with that address, else Unknown like the workshop did, without its bug of inheriting
// the previous result's PoP), else the agents, limited to --dst-pops.
func collectTargets(agents []mesh.Agent, dsts, dstPops []string) ([]mesh.Agent, error) {
	if len(dsts) == 0 && len(dstPops) == 0 {
		return nil, nil // the full mesh
	}
	want := map[string]bool{}
	for _, p := range dstPops {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			want[p] = true
		}
	}
	var targets []mesh.Agent
	if len(dsts) > 0 {
		for _, d := range dsts {
			d = strings.TrimSpace(d)
			if d == "" {
				continue
			}
			t := mesh.Agent{Name: d, Pop: mesh.UnknownPop, Address: d}
			if i := slices.IndexFunc(agents, func(a mesh.Agent) bool { return a.Address == d }); i >= 0 {
				t = agents[i]
			}
			if len(want) > 0 && !want[t.Pop] {
				continue
			}
			targets = append(targets, t)
		}
	} else {
		for _, a := range agents {
			if want[a.Pop] {
				targets = append(targets, a)
			}
		}
	}
	if len(targets) == 0 {
		pops := make([]string, 0, len(agents))
		for _, a := range agents {
			if !slices.Contains(pops, a.Pop) {
				pops = append(pops, a.Pop)
			}
		}
		return nil, fmt.Errorf("no destination left after --dst/--dst-pops (agents are in PoPs %s)", strings.Join(pops, ", "))
	}
	return targets, nil
}
