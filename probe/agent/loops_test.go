package agent

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/meshtop/meshtop/probe/agent/netprobe"
)

// fakeEcho answers probes from a script: seq -> answer (missing: silence).
type fakeEcho struct {
	answers map[int]netprobe.Answer
	errAt   int // seq at which Probe fails; -1 never
	seqs    []int
}

func (f *fakeEcho) Probe(_ context.Context, seq, ttl, _ int, _ time.Duration) (netprobe.Answer, error) {
	f.seqs = append(f.seqs, seq)
	if ttl != 0 {
		return netprobe.Answer{}, errors.New("ping must not set a TTL")
	}
	if seq == f.errAt {
		return netprobe.Answer{}, errors.New("send failed")
	}
	return f.answers[seq], nil
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
	if len(f.seqs) != 4 || f.seqs[0] != 0 || f.seqs[3] != 3 {
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

// fakeHops answers by TTL from a script.
type fakeHops struct {
	answers map[int]netip.Addr
	asked   []int
}

func (f *fakeHops) Probe(_ context.Context, ttl int) (netprobe.Answer, error) {
	f.asked = append(f.asked, ttl)
	a, ok := f.answers[ttl]
	if !ok {
		return netprobe.Answer{}, nil
	}
	return netprobe.Answer{From: a, RTT: time.Duration(ttl) * time.Millisecond}, nil
}

func TestTraceLoop(t *testing.T) {
	ip := netip.MustParseAddr
	dst := ip("198.18.9.1")
	tests := []struct {
		name    string
		answers map[int]netip.Addr
		maxTTL  int
		want    []string // per hop: address or "*"
		reached bool
	}{
		{"direct", map[int]netip.Addr{1: dst}, 32, []string{"198.18.9.1"}, true},
		{"routers then dst", map[int]netip.Addr{1: ip("198.18.0.1"), 2: ip("198.18.1.1"), 3: dst}, 32,
			[]string{"198.18.0.1", "198.18.1.1", "198.18.9.1"}, true},
		{"silent hop in the middle", map[int]netip.Addr{1: ip("198.18.0.1"), 3: dst}, 32,
			[]string{"198.18.0.1", "*", "198.18.9.1"}, true},
		{"repeated address is no response", map[int]netip.Addr{1: ip("198.18.0.1"), 2: ip("198.18.0.1"), 3: ip("198.18.1.1"), 4: ip("198.18.0.1"), 5: dst}, 32,
			[]string{"198.18.0.1", "*", "198.18.1.1", "*", "198.18.9.1"}, true},
		{"never reached stops at max_ttl", map[int]netip.Addr{1: ip("198.18.0.1")}, 4,
			[]string{"198.18.0.1", "*", "*", "*"}, false},
		{"max_ttl 0 sends nothing", map[int]netip.Addr{1: dst}, 0, nil, false},
		{"stops at dst even below max_ttl", map[int]netip.Addr{1: dst, 2: ip("198.18.0.1")}, 3, []string{"198.18.9.1"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeHops{answers: tt.answers}
			hops, reached, err := traceLoop(context.Background(), f, dst, tt.maxTTL)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i, h := range hops {
				if h.ttl != i+1 {
					t.Errorf("hop %d has ttl %d", i, h.ttl)
				}
				if h.addr.IsValid() {
					got = append(got, h.addr.String())
				} else {
					got = append(got, "*")
				}
			}
			if reached != tt.reached || len(got) != len(tt.want) {
				t.Fatalf("hops %v reached %v, want %v reached %v", got, reached, tt.want, tt.reached)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("hops %v, want %v", got, tt.want)
				}
			}
			if len(f.asked) != len(tt.want) {
				t.Errorf("probed TTLs %v, want %d probes", f.asked, len(tt.want))
			}
		})
	}
}
