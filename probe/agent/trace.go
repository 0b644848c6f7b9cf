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
// are tested without a network). seq is unique among the probes of one trace. Probes of
// one prober may run at once.
type hopProber interface {
	Probe(ctx context.Context, seq, ttl int, timeout time.Duration) (netprobe.Answer, error)
}

// hop is one line of a trace; addr is invalid for a silent hop. probes holds every
// probe's answer at this TTL in round order (an invalid From: lost).
type hop struct {
	ttl    int
	addr   netip.Addr
	rtt    time.Duration
	probes []netprobe.Answer
}

// tracePlan is how one trace probes.
type tracePlan struct {
	maxTTL int
	rounds int           // probes per hop: TTL 1..end once per round
	pace   time.Duration // between two probes of a round
	every  time.Duration // between the starts of two rounds
	// grace is how long routers below the destination are waited for, beyond the
	// destination's own RTT, once every round is out and the destination answered.
	grace time.Duration
	// replyWait is how long a probe listens: an answer up to then counts.
	replyWait time.Duration
}

// traceLoop probes TTL 1..maxTTL the way mtr and trippy do: without waiting for one
// TTL's answer (or its silence) before sending the next. A round sends one probe per
// TTL, pace apart, and stops at the lowest TTL the destination has answered so far (the
// later rounds, while it has not, a few TTLs past the last that answered); rounds start
// every apart, each probe listens up to replyWait. So a trace to a dead destination
// costs the sending plus one reply wait, not a hop wait per silent TTL, and a router gets
// one probe per round (mtr's default is one a second).
//
// The trace ends at the lowest TTL the destination answered (reached), or at maxTTL.
// Once every round is out and the destination has answered, a router below it that
// has not answered within the destination's RTT plus grace is silent: routers nearer
// than the destination answer sooner than it, and the trace need not wait replyWait for
// a hop that never answers. Hop lines follow upstream's rules (see hopLines).
func traceLoop(ctx context.Context, p hopProber, dst netip.Addr, plan tracePlan) (hops []hop, reached bool, err error) {
	if plan.maxTTL <= 0 {
		return nil, false, nil
	}
	plan.rounds = max(plan.rounds, 1)
	type result struct {
		round, ttl int
		a          netprobe.Answer
		err        error
	}
	pctx, cancel := context.WithCancel(ctx)
	results := make(chan result, plan.rounds*plan.maxTTL)
	running := 0
	defer func() {
		// Probes still listening above the destination's TTL are of no use now; none
		// may outlive the loop (the session they use is closed next).
		cancel()
		for ; running > 0; running-- {
			<-results
		}
	}()
	got := make([][]netprobe.Answer, plan.rounds) // [round][ttl]
	sent := make([][]bool, plan.rounds)
	listening := make([][]bool, plan.rounds)
	for r := range got {
		got[r] = make([]netprobe.Answer, plan.maxTTL+1)
		sent[r] = make([]bool, plan.maxTTL+1)
		listening[r] = make([]bool, plan.maxTTL+1)
	}
	highest := 0             // the highest TTL anyone answered
	end := 0                 // lowest TTL the destination answered, 0: not yet
	var dstRTT time.Duration // the destination's slowest answer
	take := func(r result) error {
		running--
		listening[r.round][r.ttl] = false
		if r.err != nil {
			return r.err
		}
		got[r.round][r.ttl] = r.a
		if r.a.From.IsValid() {
			highest = max(highest, r.ttl)
		}
		if r.a.From == dst {
			dstRTT = max(dstRTT, r.a.RTT)
			if end == 0 || r.ttl < end {
				end = r.ttl
			}
		}
		return nil
	}
	// pause waits d while taking results; it returns early with an error only.
	pause := func(d time.Duration) error {
		if d <= 0 {
			return nil
		}
		t := time.NewTimer(d)
		defer t.Stop()
		for {
			select {
			case r := <-results:
				if err := take(r); err != nil {
					return err
				}
			case <-t.C:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	start := time.Now()
	var lastSend time.Time
	for round := range plan.rounds {
		if err := pause(time.Until(start.Add(time.Duration(round) * plan.every))); err != nil {
			return nil, false, err
		}
		// The first round looks for the end of the path; the others go no further than
		// the destination, or while it is not known yet, a little past the last TTL
		// that answered: a dead destination (or a slow one, not heard of yet) gets no
		// more than one round of probes past the routers that answer.
		limit := func() int {
			switch {
			case end > 0:
				return end
			case round > 0:
				return min(plan.maxTTL, highest+roundMargin)
			}
			return plan.maxTTL
		}
		for ttl := 1; ttl <= limit(); ttl++ {
			if ttl > 1 {
				if err := pause(plan.pace); err != nil {
					return nil, false, err
				}
				if ttl > limit() {
					break
				}
			}
			running++
			sent[round][ttl] = true
			listening[round][ttl] = true
			seq := probeSeq(round, ttl)
			go func() {
				a, err := p.Probe(pctx, seq, ttl, plan.replyWait)
				results <- result{round, ttl, a, err}
			}()
			lastSend = time.Now()
		}
	}
	// Every round is out: wait for the probes at or below the end of the trace.
	pendingBelow := func() bool {
		limit := plan.maxTTL
		if end > 0 {
			limit = end
		}
		for r := range listening {
			for ttl := 1; ttl <= limit; ttl++ {
				if listening[r][ttl] {
					return true
				}
			}
		}
		return false
	}
	for pendingBelow() {
		var grace <-chan time.Time
		var tm *time.Timer
		if end > 0 {
			// Recomputed on every answer: a slower answer of the destination moves it.
			tm = time.NewTimer(time.Until(lastSend.Add(dstRTT + plan.grace)))
			grace = tm.C
		}
		stop := false
		select {
		case r := <-results:
			if err := take(r); err != nil {
				return nil, false, err
			}
		case <-grace:
			stop = true
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
		if tm != nil {
			tm.Stop()
		}
		if stop {
			break
		}
	}
	last := plan.maxTTL
	if end > 0 {
		last = end
	}
	return hopLines(got, sent, dst, last, end > 0), end > 0, nil
}

// roundMargin is how many TTLs past the last that answered a later round probes while
// the destination is not known: room for a silent router or two before it.
const roundMargin = 3

// probeSeq numbers the probes of one trace (ICMP sequence numbers): unique per round
// and TTL.
func probeSeq(round, ttl int) int { return round*(maxTTL+1) + ttl }

// hopLines turns the answers of every round into one line per TTL 1..last with
// upstream's fields: a TTL's address is the one that answered most of its probes (the
// destination at the last TTL of a trace that reached it), its RTT that address's first
// answer. As upstream, an address already seen at an earlier TTL is recorded as no
// response (a loop, or a router answering for several TTLs). The answers of the probes
// sent to a TTL are kept as they came (a zero Answer for a lost one).
func hopLines(got [][]netprobe.Answer, sent [][]bool, dst netip.Addr, last int, reached bool) []hop {
	hops := make([]hop, 0, last)
	seen := map[netip.Addr]bool{}
	for ttl := 1; ttl <= last; ttl++ {
		h := hop{ttl: ttl}
		count := map[netip.Addr]int{}
		var best netip.Addr
		for r := range got {
			if !sent[r][ttl] {
				continue
			}
			a := got[r][ttl]
			h.probes = append(h.probes, a)
			if !a.From.IsValid() {
				continue
			}
			count[a.From]++
			if !best.IsValid() || count[a.From] > count[best] {
				best = a.From
			}
		}
		if reached && ttl == last {
			best = dst
		}
		if best.IsValid() && !seen[best] {
			seen[best] = true
			h.addr = best
			for _, a := range h.probes {
				if a.From == best {
					h.rtt = a.RTT
					break
				}
			}
		}
		hops = append(hops, h)
	}
	return hops
}

// icmpHops probes with echo requests of one session; seq numbers the probes.
type icmpHops struct {
	echo    *netprobe.Echo
	payload int
}

func (h icmpHops) Probe(ctx context.Context, seq, ttl int, timeout time.Duration) (netprobe.Answer, error) {
	return h.echo.Probe(ctx, seq, ttl, h.payload, timeout)
}

// tcpHops probes with TCP SYNs; each probe has its own local port, which matches it.
type tcpHops struct {
	engine *netprobe.Engine
	dst    netip.Addr
	port   int
}

func (h tcpHops) Probe(ctx context.Context, _, ttl int, timeout time.Duration) (netprobe.Answer, error) {
	return h.engine.ProbeTCP(ctx, h.dst, h.port, ttl, timeout)
}

// hopsOut renders hops, looking up ASNs and reverse names of all answering hops at once
// so that slow reverse DNS costs one timeout per trace, not one per hop. withProbes
// adds each probe's answer (the client asked for several probes per hop).
func (a *Agent) hopsOut(ctx context.Context, hops []hop, withProbes bool) []hopOut {
	out := make([]hopOut, len(hops))
	var wg sync.WaitGroup
	for i, h := range hops {
		out[i] = hopOut{TTL: h.ttl, NoResponse: !h.addr.IsValid()}
		if withProbes {
			ps := make([]*probeOut, len(h.probes))
			for j, p := range h.probes {
				if p.From.IsValid() {
					src, rtt := p.From.String(), pyFloat(ms(p.RTT))
					ps[j] = &probeOut{RTTms: rtt, Src: src}
				}
			}
			out[i].Probes = &ps
		}
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
