package agent

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/meshtop/meshtop/probe/agent/netprobe"
)

// hopProber sends one probe with the given TTL and waits for whoever answers (an ICMP
// echo or a TCP SYN in production; a fake in tests, so the hop rules are tested without
// a network).
type hopProber interface {
	Probe(ctx context.Context, ttl int) (netprobe.Answer, error)
}

// hop is one line of a trace; addr is invalid for a silent hop.
type hop struct {
	ttl  int
	addr netip.Addr
	rtt  time.Duration
}

// traceLoop probes TTL 1..maxTTL one at a time with upstream's rules: an answer from an
// address already seen earlier in the trace is recorded as no response; the trace stops
// when the destination answers (reached).
func traceLoop(ctx context.Context, p hopProber, dst netip.Addr, maxTTL int) (hops []hop, reached bool, err error) {
	seen := map[netip.Addr]bool{}
	for ttl := 1; ttl <= maxTTL; ttl++ {
		a, err := p.Probe(ctx, ttl)
		if err != nil {
			return hops, false, err
		}
		if a.From.IsValid() && !seen[a.From] {
			seen[a.From] = true
			hops = append(hops, hop{ttl: ttl, addr: a.From, rtt: a.RTT})
			if a.From == dst {
				return hops, true, nil
			}
			continue
		}
		hops = append(hops, hop{ttl: ttl})
	}
	return hops, false, nil
}

// icmpHops probes with echo requests of one session; the TTL doubles as sequence number.
type icmpHops struct {
	echo    *netprobe.Echo
	payload int
	timeout time.Duration
}

func (h icmpHops) Probe(ctx context.Context, ttl int) (netprobe.Answer, error) {
	return h.echo.Probe(ctx, ttl, ttl, h.payload, h.timeout)
}

// tcpHops probes with TCP SYNs.
type tcpHops struct {
	engine  *netprobe.Engine
	dst     netip.Addr
	port    int
	timeout time.Duration
}

func (h tcpHops) Probe(ctx context.Context, ttl int) (netprobe.Answer, error) {
	return h.engine.ProbeTCP(ctx, h.dst, h.port, ttl, h.timeout)
}

// hopsOut renders hops, looking up ASNs and reverse names of all answering hops at once
// so that slow reverse DNS costs one timeout per trace, not one per hop.
func (a *Agent) hopsOut(ctx context.Context, hops []hop) []hopOut {
	out := make([]hopOut, len(hops))
	var wg sync.WaitGroup
	for i, h := range hops {
		out[i] = hopOut{TTL: h.ttl, NoResponse: !h.addr.IsValid()}
		if !h.addr.IsValid() {
			continue
		}
		src := h.addr.String()
		rtt := pyFloat(ms(h.rtt))
		out[i].Src, out[i].RTTms = &src, &rtt
		if asn, ok := a.cfg.ASN.Lookup(h.addr); ok {
			out[i].ASN = &asn
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := a.reverseName(ctx, h.addr)
			out[i].Hostname = &name
		}()
	}
	wg.Wait()
	return out
}
