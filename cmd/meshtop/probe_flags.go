package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/meshtop/meshtop/probe"
)

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
