package agent

import (
	"context"
	"net/netip"
	"testing"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
)

// TestMeshtopClientUnchanged runs meshtop's own sweep (probe.Run, the client the TUI and
// the collector use) against the agent: batches split at the agent's maximum, pings and
// traceroutes of loopback addresses, results decoded by probe/wire.go.
func TestMeshtopClientUnchanged(t *testing.T) {
	needRoot(t)
	_, base := startAgent(t, func(c *Config) {
		c.MaxTests = 2 // the sweep starts with batches of 10 and must re-split on "Max: 2"
		c.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
	agents := []mesh.Agent{
		{Name: "lo4", Pop: "aaa", Address: "127.0.0.1", URL: base},
		{Name: "lo6", Pop: "bbb", Address: "::1", URL: base},
	}
	sw := probe.Run(context.Background(), agents, probe.Options{
		Secret: testSecret, Kinds: probe.KindPing | probe.KindTraceroute, Count: 2,
	}, nil)
	if len(sw.Pings) == 0 || len(sw.Traces) == 0 {
		t.Fatalf("sweep produced %d pings, %d traces", len(sw.Pings), len(sw.Traces))
	}
	for _, p := range sw.Pings {
		if p.Err != "" || p.Failed || p.Recv != 2 || p.AvgRTT <= 0 {
			t.Errorf("ping %s -> %s: %+v", p.Src, p.Dst, p)
		}
	}
	for _, tr := range sw.Traces {
		if tr.Err != "" || tr.Failed || len(tr.Hops) != 1 || tr.Hops[0].Addr != tr.Dst {
			t.Errorf("trace %s -> %s: %+v", tr.Src, tr.Dst, tr)
		}
	}
	for _, a := range sw.Agents {
		if a.State != mesh.StateOK {
			t.Errorf("agent %s: %+v", a.Name, a)
		}
	}
}
