package agent

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/meshtop/meshtop/probe/agent/netprobe"
)

// fakeEcho answers probes from a script: seq -> answer (missing: silence). An answer
// whose RTT is longer than the probe's timeout is not seen, as on the wire; the fake
// waits for min(RTT, timeout) of wall time only when slow is set.
type fakeEcho struct {
	answers map[int]netprobe.Answer
	errAt   int // seq at which Probe fails; -1 never
	slow    bool

	mu       sync.Mutex
	seqs     []int
	timeouts map[int]time.Duration
}

func (f *fakeEcho) Probe(ctx context.Context, seq, ttl, _ int, timeout time.Duration) (netprobe.Answer, error) {
	f.mu.Lock()
	f.seqs = append(f.seqs, seq)
	if f.timeouts == nil {
		f.timeouts = map[int]time.Duration{}
	}
	f.timeouts[seq] = timeout
	f.mu.Unlock()
	if ttl != 0 {
		return netprobe.Answer{}, errors.New("ping must not set a TTL")
	}
	if seq == f.errAt {
		return netprobe.Answer{}, errors.New("send failed")
	}
	a, ok := f.answers[seq]
	if f.slow {
		d := timeout
		if ok {
			d = min(a.RTT, timeout)
		}
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return netprobe.Answer{}, ctx.Err()
		}
	}
	if !ok || a.RTT > timeout {
		return netprobe.Answer{}, nil
	}
	return a, nil
}

func TestPingLoop(t *testing.T) {
	dst := netip.MustParseAddr("198.18.1.2")
	router := netip.MustParseAddr("198.18.0.1")
	f := &fakeEcho{errAt: -1, answers: map[int]netprobe.Answer{
		0: {From: dst, Reply: true, RTT: 1500 * time.Microsecond, TTL: 60, Len: 64},
		// 1: lost
		2: {From: router, Reply: false, RTT: time.Millisecond}, // unreachable from a router: not a reply
		3: {From: dst, Reply: true, RTT: 2500 * time.Microsecond, TTL: 60, Len: 64},
	}}
	replies, err := pingLoop(context.Background(), f, dst, 4, 56, 0, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(f.seqs)
	if !slices.Equal(f.seqs, []int{0, 1, 2, 3}) {
		t.Errorf("sequence numbers sent = %v, want 0..3", f.seqs)
	}
	if len(replies) != 2 || replies[0].Seq != 0 || replies[1].Seq != 3 || replies[0].RTTms != 1.5 || replies[1].TTL != 60 {
		t.Fatalf("replies = %+v", replies)
	}
	out := pingResult("dst.example", pingParams{count: 4, payload: 56}, false, replies)
	if out.Sent != 4 || out.Recv != 2 || out.Loss != 50 || out.Failed || out.PacketSize != 84 || out.Dst != "dst.example" {
		t.Errorf("result = %+v", out)
	}
	if *out.RTT.Min != "1.500" || *out.RTT.Max != "2.500" || *out.RTT.Avg != "2.000" {
		t.Errorf("rtt = %s %s %s", *out.RTT.Min, *out.RTT.Max, *out.RTT.Avg)
	}

	none := pingResult("x", pingParams{count: 3, payload: 0}, true, []replyOut{})
	if !none.Failed || none.Loss != 100 || none.RTT.Avg != nil || none.PacketSize != 48 {
		t.Errorf("all lost = %+v", none)
	}

	f = &fakeEcho{errAt: 1}
	if _, err := pingLoop(context.Background(), f, dst, 3, 56, 0, time.Second); err == nil {
		t.Error("a send error was swallowed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := pingLoop(ctx, &fakeEcho{errAt: -1}, dst, 3, 56, time.Hour, time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled during the interval: %v", err)
	}
}

// TestPingLoopWaitsPastTheInterval is issue 10 item 2: a reply slower than the interval
// between requests is a measurement, not a loss. Every request listens until replyWait
// after the last one; what comes later is lost.
func TestPingLoopWaitsPastTheInterval(t *testing.T) {
	dst := netip.MustParseAddr("198.18.1.2")
	// Scaled down 100x (1 s interval, 3 s wait, a 1.5 s path): the fake answers at once
	// and reports its scripted RTT, so only the listening time pingLoop gives each
	// request decides what counts.
	const interval, wait = 10 * time.Millisecond, 30 * time.Millisecond
	f := &fakeEcho{errAt: -1, answers: map[int]netprobe.Answer{}}
	for seq := range 5 {
		f.answers[seq] = netprobe.Answer{From: dst, Reply: true, RTT: 15 * time.Millisecond, TTL: 60, Len: 64}
	}
	f.answers[4] = netprobe.Answer{From: dst, Reply: true, RTT: 35 * time.Millisecond, TTL: 60, Len: 64}
	replies, err := pingLoop(context.Background(), f, dst, 5, 56, interval, wait)
	if err != nil {
		t.Fatal(err)
	}
	if len(replies) != 4 {
		t.Fatalf("replies %+v: want the four replies slower than the interval, not the one slower than the wait", replies)
	}
	for _, r := range replies {
		if r.RTTms != 15 {
			t.Errorf("reply %d: rtt %v ms, want 15", r.Seq, r.RTTms)
		}
	}
	for seq := range 5 {
		want := time.Duration(4-seq)*interval + wait
		if got := f.timeouts[seq]; got != want {
			t.Errorf("request %d listens %s, want %s (until the wait after the last request)", seq, got, want)
		}
	}
}

// TestPingLoopOverlaps runs the real schedule with short times: requests leave one
// interval apart while earlier replies are still on their way, and a reply later than
// the interval but within the wait counts.
func TestPingLoopOverlaps(t *testing.T) {
	dst := netip.MustParseAddr("198.18.1.2")
	f := &fakeEcho{errAt: -1, slow: true, answers: map[int]netprobe.Answer{
		0: {From: dst, Reply: true, RTT: 60 * time.Millisecond, Len: 64},
		1: {From: dst, Reply: true, RTT: 60 * time.Millisecond, Len: 64},
		2: {From: dst, Reply: true, RTT: 60 * time.Millisecond, Len: 64},
	}}
	replies, err := pingLoop(context.Background(), f, dst, 3, 56, 20*time.Millisecond, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(replies) != 3 {
		t.Fatalf("replies %+v, want 3 (each 3 intervals slow, well within the wait)", replies)
	}
}
