package agent

import (
	"context"
	"net/netip"
	"time"

	"github.com/meshtop/meshtop/probe/agent/netprobe"
)

// echoProber sends one echo request and waits for its answer (netprobe.Echo; a fake in
// tests, so the ping loop is tested without a network).
type echoProber interface {
	Probe(ctx context.Context, seq, ttl, payloadSize int, timeout time.Duration) (netprobe.Answer, error)
}

// pingLoop sends count echo requests like upstream: one at a time, each waits up to
// timeout for its reply, then the loop pauses interval before the next one. Only echo
// replies from dst count.
func pingLoop(ctx context.Context, p echoProber, dst netip.Addr, count, payload int, interval, timeout time.Duration) ([]replyOut, error) {
	replies := []replyOut{}
	for seq := range count {
		a, err := p.Probe(ctx, seq, 0, payload, timeout)
		if err != nil {
			return replies, err
		}
		if a.Reply && a.From == dst {
			replies = append(replies, replyOut{Len: a.Len, RTTms: pyFloat(ms(a.RTT)), Seq: seq, TTL: a.TTL})
		}
		if seq < count-1 {
			if err := sleepCtx(ctx, interval); err != nil {
				return replies, err
			}
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

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
