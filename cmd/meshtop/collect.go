package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

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
	secret, agents, err := o.disc.discover(ctx)
	o.disc.notices.print(errOut)
	if err != nil {
		return err
	}
	lines, err := collectLines(ctx, o, agents, secret, schema, kinds, errOut)
	if err != nil {
		return err
	}
	if _, err := out.Write(lines); err != nil {
		return fmt.Errorf("write line protocol: %w", err)
	}
	return nil
}

// collectLines runs the sweep and encodes it. Agents that failed are reported on errOut
// (Telegraf logs an exec plugin's stderr); only a sweep without a single measured
// result is an error.
func collectLines(ctx context.Context, o *collectOptions, agents []mesh.Agent, secret string, schema influx.Schema,
	kinds probe.Kind, errOut io.Writer) ([]byte, error) {
	targets, err := collectTargets(agents, o.dsts, o.dstPops)
	if err != nil {
		return nil, err
	}
	opts := o.probe.options(secret)
	opts.Kinds = kinds
	opts.Targets = targets
	sw := probe.Run(ctx, agents, opts, nil)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("sweep interrupted: %w", ctx.Err())
	}
	for _, a := range sw.Agents {
		if a.State.Failing() {
			fmt.Fprintf(errOut, "meshtop collect: agent %s (%s): %s: %s\n", a.Name, a.Pop, a.State, a.Error)
		}
	}
	publicIP := o.publicIP
	if publicIP == "" {
		publicIP = hostAddress()
	}
	lines, n, err := influx.SweepLines(sw, publicIP, schema)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("no result could be measured: %d agents, %d tests, all failed (see the agent errors above)",
			len(agents), len(sw.Pings)+len(sw.Traces))
	}
	return lines, nil
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
