package agent

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/meshtop/meshtop/probe/agent/netprobe"
)

// hopProber sends one probe with the given TTL and waits up to timeout for whoever
// answers (an ICMP echo or a TCP SYN in production; a fake in tests, so the hop rules
// are tested without a network). Probes of one prober may run at once.
type hopProber interface {
	Probe(ctx context.Context, ttl int, timeout time.Duration) (netprobe.Answer, error)
}

// hop is one line of a trace; addr is invalid for a silent hop.
type hop struct {
	ttl  int
	addr netip.Addr
	rtt  time.Duration
}

// traceLoop probes TTL 1..maxTTL with upstream's rules: an answer from an address
// already seen earlier in the trace is recorded as no response; the trace stops when
// the destination answers (reached). Like upstream it goes on to the next TTL as soon
// as the current one answers, or after hopWait of silence. Unlike upstream, a probe
// keeps listening after that, up to replyWait from when it was sent: a destination
// slower than hopWait (a 1.5 s path) is found at its real TTL instead of making the
// trace walk every TTL up to maxTTL, and a slow router is not shown as silent.
func traceLoop(ctx context.Context, p hopProber, dst netip.Addr, maxTTL int, hopWait, replyWait time.Duration) (hops []hop, reached bool, err error) {
	type result struct {
		ttl int
		a   netprobe.Answer
		err error
	}
	if maxTTL <= 0 {
		return nil, false, nil
	}
	replyWait = max(replyWait, hopWait)
	pctx, cancel := context.WithCancel(ctx)
	results := make(chan result, maxTTL)
	running := 0
	defer func() {
		// Probes still listening above the destination's TTL are of no use now; none
		// may outlive the loop (the session they use is closed next).
		cancel()
		for ; running > 0; running-- {
			<-results
		}
	}()
	got := make([]netprobe.Answer, maxTTL+1)
	listening := make([]bool, maxTTL+1)
	reachAt := 0 // lowest TTL the destination answered
	take := func(r result) error {
		running--
		listening[r.ttl] = false
		if r.err != nil {
			return r.err
		}
		got[r.ttl] = r.a
		if r.a.From == dst && (reachAt == 0 || r.ttl < reachAt) {
			reachAt = r.ttl
		}
		return nil
	}
	last := 0
	for ttl := 1; ttl <= maxTTL && reachAt == 0; ttl++ {
		last = ttl
		running++
		listening[ttl] = true
		go func() {
			a, err := p.Probe(pctx, ttl, replyWait)
			results <- result{ttl, a, err}
		}()
		silence := time.NewTimer(hopWait)
	wait:
		for {
			select {
			case r := <-results:
				if err := take(r); err != nil {
					silence.Stop()
					return nil, false, err
				}
				if r.ttl == ttl || reachAt > 0 {
					break wait
				}
			case <-silence.C:
				break wait
			case <-ctx.Done():
				silence.Stop()
				return nil, false, ctx.Err()
			}
		}
		silence.Stop()
	}
	// Let the probes still listening below the end of the trace finish: each until its
	// own replyWait; once the destination has answered, at most hopWait more (a router
	// before it that has not answered by then is silent).
	end := last
	if reachAt > 0 {
		end = reachAt
	}
	pendingBelow := func() bool {
		for t := 1; t <= end; t++ {
			if listening[t] {
				return true
			}
		}
		return false
	}
	var grace <-chan time.Time
	if reachAt > 0 {
		tm := time.NewTimer(hopWait)
		defer tm.Stop()
		grace = tm.C
	}
collect:
	for pendingBelow() {
		select {
		case r := <-results:
			if err := take(r); err != nil {
				return nil, false, err
			}
			if reachAt > 0 && reachAt < end {
				end = reachAt
			}
		case <-grace:
			break collect
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
	seen := map[netip.Addr]bool{}
	for ttl := 1; ttl <= end; ttl++ {
		a := got[ttl]
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
}

func (h icmpHops) Probe(ctx context.Context, ttl int, timeout time.Duration) (netprobe.Answer, error) {
	return h.echo.Probe(ctx, ttl, ttl, h.payload, timeout)
}

// tcpHops probes with TCP SYNs.
type tcpHops struct {
	engine *netprobe.Engine
	dst    netip.Addr
	port   int
}

func (h tcpHops) Probe(ctx context.Context, ttl int, timeout time.Duration) (netprobe.Answer, error) {
	return h.engine.ProbeTCP(ctx, h.dst, h.port, ttl, timeout)
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
