package agent

import (
	"context"
	"net/netip"
	"time"

	"github.com/meshtop/meshtop/probe/agent/netprobe"
)

// echoProber sends one echo request and waits for its answer (netprobe.Echo; a fake in
// tests, so the ping loop is tested without a network). Probes of one prober may run at
// once, each with its own sequence number.
type echoProber interface {
	Probe(ctx context.Context, seq, ttl, payloadSize int, timeout time.Duration) (netprobe.Answer, error)
}

// pingLoop sends count echo requests one interval apart, as ping(8) does: it never
// waits for a reply before sending the next request, and it accepts every reply that
// arrives until replyWait after the last request was sent (ping's deadline). Upstream
// waits 1 s per probe and calls anything slower lost, so a 1.5 s path read as 100%
// loss; here it reads 1500 ms. The test ends as soon as every request is answered.
// Only echo replies from dst count. A send error ends the test with that error.
func pingLoop(ctx context.Context, p echoProber, dst netip.Addr, count, payload int, interval, replyWait time.Duration) ([]replyOut, error) {
	type result struct {
		seq int
		a   netprobe.Answer
		err error
	}
	ctx, cancel := context.WithCancel(ctx)
	results := make(chan result, count)
	running := 0
	defer func() {
		// No probe goroutine outlives the loop: the session they use is closed next.
		cancel()
		for ; running > 0; running-- {
			<-results
		}
	}()
	got := make([]*netprobe.Answer, count)
	take := func(r result) error {
		running--
		if r.err != nil {
			return r.err
		}
		got[r.seq] = &r.a
		return nil
	}
	for seq := range count {
		// Each request listens until replyWait after the last one is due to leave.
		timeout := time.Duration(count-1-seq)*interval + replyWait
		running++
		go func() {
			a, err := p.Probe(ctx, seq, 0, payload, timeout)
			results <- result{seq, a, err}
		}()
		if seq == count-1 {
			break
		}
		pause := time.NewTimer(interval)
	wait:
		for {
			select {
			case r := <-results:
				if err := take(r); err != nil {
					pause.Stop()
					return nil, err
				}
			case <-pause.C:
				break wait
			case <-ctx.Done():
				pause.Stop()
				return nil, ctx.Err()
			}
		}
	}
	for running > 0 {
		if err := take(<-results); err != nil {
			return nil, err
		}
	}
	replies := []replyOut{}
	for seq, a := range got {
		if a != nil && a.Reply && a.From == dst {
			replies = append(replies, replyOut{Len: a.Len, RTTms: pyFloat(ms(a.RTT)), Seq: seq, TTL: a.TTL})
		}
	}
	return replies, nil
}

// pingResult summarises the replies as upstream does.
func pingResult(dst string, p pingParams, v6 bool, replies []replyOut) pingOut {
	hdr := 28 // IPv4 + ICMP headers, as upstream counts
	if v6 {
		hdr = 48
	}
	out := pingOut{
		Comment: p.comment, Dst: dst, Sent: p.count, Recv: len(replies),
		PayloadSize: p.payload, PacketSize: p.payload + hdr, Replies: replies,
		Loss:   pyFloat(100 * float64(p.count-len(replies)) / float64(p.count)),
		Failed: len(replies) == 0,
	}
	if len(replies) > 0 {
		lo, hi, sum := float64(replies[0].RTTms), float64(replies[0].RTTms), 0.0
		for _, r := range replies {
			v := float64(r.RTTms)
			lo, hi, sum = min(lo, v), max(hi, v), sum+v
		}
		out.RTT = rttOut{Min: str3(lo), Max: str3(hi), Avg: str3(sum / float64(len(replies)))}
	}
	return out
}

func str3(v float64) *string {
	s := fmtFloat3(v)
	return &s
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
