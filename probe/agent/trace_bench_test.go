//go:build linux

package agent

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/meshtop/meshtop/probe/agent/netprobe"
)

// BenchmarkTraceDeadDestination is issue 18 item 2's figure: the agent's ICMP trace to a
// destination that never answers, with real packets and the default timings (hop
// timeout 1 s, reply wait 3 s), before and after, in one run:
//
//   - upstream-walk: the loop this agent had before (upstream's walk, one TTL after
//     another, a hop timeout of silence each; kept below as the baseline);
//   - concurrent: TTLs probed at once (one probe per hop, as upstream's clients ask);
//   - concurrent-5-probes: what meshtop's sweeps ask (probes 5).
//
// The destination is an address behind a veth pair in a network namespace of the
// benchmark's own, where every probe vanishes. Needs root; one iteration is enough:
//
//	go test -run '^$' -bench TraceDeadDestination -benchtime 1x ./probe/agent/
func BenchmarkTraceDeadDestination(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root: a network namespace and raw ICMP sockets")
	}
	eng, dst := deadNetns(b)
	echo, err := eng.NewEcho(dst)
	if err != nil {
		b.Fatal(err)
	}
	defer echo.Close()
	p := icmpHops{echo: echo, payload: defaultPayload}
	plan := func(probes int) tracePlan {
		return tracePlan{maxTTL: maxTTL, rounds: probes, pace: DefaultHopPace, every: DefaultRoundInterval,
			grace: DefaultHopTimeout, replyWait: DefaultReplyWait}
	}
	for _, c := range []struct {
		name string
		run  func(context.Context) (int, bool, error)
	}{
		{"upstream-walk", func(ctx context.Context) (int, bool, error) {
			hops, reached, err := traceLoopWalk(ctx, walkProber{p}, dst, maxTTL, DefaultHopTimeout, DefaultReplyWait)
			return len(hops), reached, err
		}},
		{"concurrent", func(ctx context.Context) (int, bool, error) {
			hops, reached, err := traceLoop(ctx, p, dst, plan(1))
			return len(hops), reached, err
		}},
		{"concurrent-5-probes", func(ctx context.Context) (int, bool, error) {
			hops, reached, err := traceLoop(ctx, p, dst, plan(5))
			return len(hops), reached, err
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				start := time.Now()
				n, reached, err := c.run(context.Background())
				if err != nil || reached || n != maxTTL {
					b.Fatalf("trace to a dead destination: %d hops, reached %v, %v", n, reached, err)
				}
				b.ReportMetric(time.Since(start).Seconds(), "s/trace")
			}
		})
	}
}

// deadNetns makes a network namespace whose only route leads nowhere, and
// opens a probe engine inside it; both go when the benchmark ends.
func deadNetns(b *testing.B) (*netprobe.Engine, netip.Addr) {
	b.Helper()
	name := fmt.Sprintf("mt-bench-%d", rand.IntN(1_000_000))
	ip := func(args ...string) {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			b.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	ip("netns", "add", name)
	b.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	// A veth pair: frames for the destination go to a MAC nobody has, so the peer
	// drops them; a permanent neighbour entry keeps ARP (and its unreachables) out.
	ip("-n", name, "link", "add", "dead0", "type", "veth", "peer", "name", "dead1")
	ip("-n", name, "addr", "add", "198.18.254.1/30", "dev", "dead0")
	ip("-n", name, "link", "set", "dead0", "up")
	ip("-n", name, "link", "set", "dead1", "up")
	ip("-n", name, "neigh", "add", "198.18.254.2", "lladdr", "02:00:5e:00:53:01", "dev", "dead0", "nud", "permanent")
	errc := make(chan error, 1)
	var eng *netprobe.Engine
	go func() {
		// This thread enters the namespace and dies with the goroutine: the sockets
		// opened here stay in the namespace.
		runtime.LockOSThread()
		f, err := os.Open("/run/netns/" + name)
		if err == nil {
			err = unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
			f.Close()
		}
		if err == nil {
			eng = netprobe.Open()
		}
		errc <- err
	}()
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = eng.Close() })
	if eng.Method() != netprobe.MethodRaw {
		b.Fatalf("probe engine in %s: %s (%s)", name, eng.Method(), eng.Why())
	}
	return eng, netip.MustParseAddr("198.18.254.2")
}

// walkProber adapts a hopProber to the baseline loop, which sent one probe per TTL
// (the TTL was its sequence number).
type walkProber struct{ p hopProber }

func (w walkProber) Probe(ctx context.Context, ttl int, timeout time.Duration) (netprobe.Answer, error) {
	return w.p.Probe(ctx, ttl, ttl, timeout)
}

// traceLoopWalk is the baseline of BenchmarkTraceDeadDestination: the trace loop of
// this agent before issue 18 (commit 2577ec7), unchanged but for its name and prober.
func traceLoopWalk(ctx context.Context, p walkProber, dst netip.Addr, maxTTL int, hopWait, replyWait time.Duration) (hops []hop, reached bool, err error) {
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
