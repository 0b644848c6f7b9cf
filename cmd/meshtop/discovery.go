package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/meshtop/meshtop/inventory"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/stackpath"
)

// discoveryOptions find the agents: a static inventory, or a StackPath workload.
type discoveryOptions struct {
	inventory    string
	stackpathURL string
	stackID      string
	workloadID   string
	clientID     string
	scouterPort  int
	secretFile   string
}

func addDiscoveryFlags(cmd *cobra.Command, o *discoveryOptions) {
	f := cmd.Flags()
	f.StringVar(&o.inventory, "inventory", "", "static inventory `FILE` (YAML) listing the agents")
	f.StringVar(&o.stackpathURL, "stackpath-url", "https://gateway.stackpath.com", "StackPath API base `URL`")
	f.StringVar(&o.stackID, "stack-id", "", "StackPath stack `ID` (env SP_STACK_ID)")
	f.StringVar(&o.workloadID, "workload-id", "", "StackPath workload `ID` of the agents (env SCOUTER_WORKLOAD_ID)")
	f.StringVar(&o.clientID, "client-id", "", "StackPath API client `ID` (env SP_API_CLIENT_ID); secret: env SP_API_CLIENT_SECRET")
	f.IntVar(&o.scouterPort, "scouter-port", 8000, "agent API `PORT` for discovered agents and inventory entries without url")
	f.StringVar(&o.secretFile, "scouter-secret-file", "", "read the agents' shared secret from `FILE` (default: env SCOUTER_SECRET)")
}

// agents discovers the agents.
func (o *discoveryOptions) agents(ctx context.Context) ([]mesh.Agent, error) {
	if o.inventory != "" {
		as, err := inventory.Load(o.inventory, o.scouterPort)
		if err != nil {
			return nil, fmt.Errorf("read inventory: %w", err)
		}
		return as, nil
	}
	if o.stackID == "" || o.workloadID == "" {
		return nil, errors.New("no agents: give --inventory FILE, or --stack-id and --workload-id " +
			"(env SP_STACK_ID, SCOUTER_WORKLOAD_ID) with SP_API_CLIENT_ID and SP_API_CLIENT_SECRET in the environment; " +
			"`meshtop lab` builds a local demo mesh")
	}
	secret := os.Getenv("SP_API_CLIENT_SECRET")
	if o.clientID == "" || secret == "" {
		return nil, errors.New("StackPath discovery needs SP_API_CLIENT_ID (or --client-id) and SP_API_CLIENT_SECRET in the environment")
	}
	sp := stackpath.New(o.stackpathURL, o.clientID, secret)
	inst, err := sp.Instances(ctx, o.stackID, o.workloadID)
	if err != nil {
		return nil, fmt.Errorf("discover agents of workload %s: %w", o.workloadID, err)
	}
	as, skipped := stackpath.ToAgents(inst, o.scouterPort)
	if len(as) == 0 {
		why := make([]string, 0, len(skipped))
		for _, s := range skipped {
			why = append(why, fmt.Sprintf("%s (%s)", s.Name, s.Reason))
		}
		if len(why) > 5 {
			why = append(why[:5], fmt.Sprintf("and %d more", len(skipped)-5))
		}
		msg := fmt.Sprintf("workload %s in stack %s has no usable RUNNING instance", o.workloadID, o.stackID)
		if len(why) > 0 {
			msg += ": skipped " + strings.Join(why, ", ")
		}
		return nil, errors.New(msg)
	}
	return as, nil
}

// discover returns the agents and the shared secret to reach them.
func (o *discoveryOptions) discover(ctx context.Context) (string, []mesh.Agent, error) {
	secret, err := o.secret()
	if err != nil {
		return "", nil, err
	}
	agents, err := o.agents(ctx)
	if err != nil {
		return "", nil, err
	}
	return secret, agents, nil
}

// secret reads the agents' shared secret: --scouter-secret-file, else env SCOUTER_SECRET.
// Never a flag value: argv is visible to every user of the machine.
func (o *discoveryOptions) secret() (string, error) {
	if o.secretFile != "" {
		b, err := os.ReadFile(o.secretFile)
		if err != nil {
			return "", fmt.Errorf("read scouter secret file: %w", err)
		}
		s := strings.TrimRight(string(b), "\r\n")
		if s == "" {
			return "", fmt.Errorf("scouter secret file %s is empty", o.secretFile)
		}
		return s, nil
	}
	return os.Getenv("SCOUTER_SECRET"), nil
}

// probeOptions shape the tests of a sweep.
type probeOptions struct {
	count      int
	maxTests   int
	traceroute bool
	traceProto string
	shard      string
}

func addProbeFlags(cmd *cobra.Command, o *probeOptions) {
	f := cmd.Flags()
	f.IntVar(&o.count, "count", probe.DefaultCount, "pings per test (1-20)")
	f.IntVar(&o.maxTests, "max-tests", probe.DefaultMaxTests, "tests per request; lowered automatically when an agent allows fewer")
	f.BoolVar(&o.traceroute, "traceroute", false, "also traceroute every pair")
	f.StringVar(&o.traceProto, "trace-proto", "ICMP", "traceroute protocol: ICMP or TCP")
	f.StringVar(&o.shard, "shard", "", "run only share `K/N` of the source agents (by a stable hash of their names), so N\ncollectors, 1/N to N/N, split one mesh; each probes every destination")
}

func (o *probeOptions) validate() error {
	if o.count < 1 || o.count > 20 {
		return fmt.Errorf("--count %d: want 1 to 20 (the agent's limits)", o.count)
	}
	if o.maxTests < 1 {
		return fmt.Errorf("--max-tests %d: want at least 1", o.maxTests)
	}
	if p := strings.ToUpper(o.traceProto); p != "ICMP" && p != "TCP" {
		return fmt.Errorf("--trace-proto %q: want ICMP or TCP", o.traceProto)
	}
	if _, err := probe.ParseShard(o.shard); err != nil {
		return fmt.Errorf("--shard: %w", err)
	}
	return nil
}

func (o *probeOptions) options(secret string) probe.Options {
	kinds := probe.KindPing
	if o.traceroute {
		kinds |= probe.KindTraceroute
	}
	shard, _ := probe.ParseShard(o.shard) // validate() said no
	return probe.Options{Secret: secret, Kinds: kinds, Count: o.count, MaxTests: o.maxTests, TraceProto: o.traceProto, Shard: shard}
}

// thresholdOptions override the colour thresholds per metric.
type thresholdOptions struct {
	values map[mesh.Metric]*string
}

func addThresholdFlags(cmd *cobra.Command, o *thresholdOptions) {
	o.values = map[mesh.Metric]*string{}
	def := mesh.DefaultThresholds()
	for _, m := range mesh.Metrics {
		o.values[m] = cmd.Flags().String("thresholds-"+m.String(), def[m].String(),
			fmt.Sprintf("%s thresholds t1,t2,t3 (green < t1 <= yellow < t2 <= orange < t3 <= red)", m.Title()))
	}
}

func (o *thresholdOptions) thresholds() (map[mesh.Metric]mesh.Thresholds, error) {
	out := mesh.DefaultThresholds()
	for m, v := range o.values {
		t, err := mesh.ParseThresholds(*v)
		if err != nil {
			return nil, fmt.Errorf("--thresholds-%s: %w", m, err)
		}
		out[m] = t
	}
	return out, nil
}
