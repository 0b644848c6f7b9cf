//go:build linux

package lab

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

// needRoot skips a test that needs root, except under CI where it must run.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 && os.Getenv("CI") == "" {
		t.Skip("needs root (network namespaces, TUN); runs in CI")
	}
}

// testLab builds the namespaces and TUN devices of cfg (no agents) and runs a forwarder
// in this process. Everything is removed when the test ends.
func testLab(t *testing.T, cfg Config) (Layout, *Forwarder) {
	t.Helper()
	needRoot(t)
	cfg.Name = fmt.Sprintf("lt%d", rand.IntN(1_000_000))
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	t.Cleanup(func() {
		if err := Down(context.Background(), dir, cfg.Name, nil); err != nil {
			t.Errorf("lab down: %v", err)
		}
	})
	unlock, err := lockStateDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := prepare(ctx, cfg, UpOptions{StateDir: dir})
	unlock()
	if err != nil {
		t.Fatal(err)
	}
	var tuns []io.ReadWriteCloser
	for _, p := range s.Layout.Pops {
		if err := buildPop(ctx, s.Layout, p); err != nil {
			t.Fatal(err)
		}
		tun, err := openTUN(p.Netns, tunName)
		if err != nil {
			t.Fatal(err)
		}
		tuns = append(tuns, tun)
	}
	f, err := NewForwarder(s.Layout, tuns, cfg.Paths())
	if err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- f.Run(fctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("forwarder: %v", err)
		}
	})
	return s.Layout, f
}

// pinger sends ICMP echo requests from inside a PoP's namespace.
type pinger struct {
	c  *icmp.PacketConn
	id int
}

func newPinger(t *testing.T, netns string) *pinger {
	t.Helper()
	var c *icmp.PacketConn
	err := withNetns(netns, func() (err error) {
		c, err = icmp.ListenPacket("ip4:icmp", "0.0.0.0")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &pinger{c: c, id: rand.IntN(0xffff)}
}

// probe sends one echo request with the given TTL and returns who answered and how
// (echo reply or time exceeded), or ok=false after timeout.
func (p *pinger) probe(t *testing.T, dst netip.Addr, ttl, seq int, timeout time.Duration) (from netip.Addr, typ ipv4.ICMPType, rtt time.Duration, ok bool) {
	t.Helper()
	if err := p.c.IPv4PacketConn().SetTTL(ttl); err != nil {
		t.Fatal(err)
	}
	msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: p.id, Seq: seq, Data: []byte("meshtop-lab-test")}}
	b, _ := msg.Marshal(nil)
	start := time.Now()
	if _, err := p.c.WriteTo(b, &net.IPAddr{IP: dst.AsSlice()}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	deadline := start.Add(timeout)
	for {
		_ = p.c.SetReadDeadline(deadline)
		n, peer, err := p.c.ReadFrom(buf)
		if err != nil {
			return netip.Addr{}, 0, 0, false
		}
		m, err := icmp.ParseMessage(1, buf[:n])
		if err != nil {
			continue
		}
		a, _ := netip.AddrFromSlice(peer.(*net.IPAddr).IP.To4())
		switch body := m.Body.(type) {
		case *icmp.Echo:
			if m.Type == ipv4.ICMPTypeEchoReply && body.ID == p.id && body.Seq == seq {
				return a, ipv4.ICMPTypeEchoReply, time.Since(start), true
			}
		case *icmp.TimeExceeded:
			// The quote holds our IP header and the echo header: match id and seq.
			if len(body.Data) >= 28 {
				q := body.Data[20:]
				if int(q[4])<<8|int(q[5]) == p.id && int(q[6])<<8|int(q[7]) == seq {
					return a, ipv4.ICMPTypeTimeExceeded, time.Since(start), true
				}
			}
		}
	}
}

func threePops() Config {
	return Config{
		Pops:    []PopConfig{{Name: "a"}, {Name: "b"}, {Name: "c"}},
		Routers: []RouterSpec{{Name: "r1", ASN: 64700}, {Name: "r2", ASN: 64701}},
		Default: LinkSpec{RTT: Duration(10 * time.Millisecond)},
		Links: []LinkSpec{
			{Pops: []string{"a", "b"}, RTT: Duration(40 * time.Millisecond), Via: []string{"r1", "r2"}},
		},
	}
}

func TestForwarderDelaysAndRoutes(t *testing.T) {
	l, _ := testLab(t, threePops())
	a, b, c := l.Pops[0], l.Pops[1], l.Pops[2]
	p := newPinger(t, a.Netns)

	// Echo across the emulated WAN: never faster than the configured round trip.
	for i, tc := range []struct {
		dst PopLayout
		rtt time.Duration
	}{{b, 40 * time.Millisecond}, {c, 10 * time.Millisecond}} {
		from, typ, rtt, ok := p.probe(t, tc.dst.MeshAddr, 64, i+1, 2*time.Second)
		if !ok || typ != ipv4.ICMPTypeEchoReply || from != tc.dst.MeshAddr {
			t.Fatalf("ping %s: ok=%v type=%v from=%v, want an echo reply from %s", tc.dst.Name, ok, typ, from, tc.dst.MeshAddr)
		}
		if rtt < tc.rtt {
			t.Errorf("ping %s: rtt %v is below the emulated %v", tc.dst.Name, rtt, tc.rtt)
		}
	}

	// Router hops: TTL 1 and 2 expire at r1 and r2, TTL 3 reaches b.
	want := []struct {
		from netip.Addr
		typ  ipv4.ICMPType
	}{
		{l.Routers[0].Addr, ipv4.ICMPTypeTimeExceeded},
		{l.Routers[1].Addr, ipv4.ICMPTypeTimeExceeded},
		{b.MeshAddr, ipv4.ICMPTypeEchoReply},
	}
	for ttl, w := range want {
		from, typ, _, ok := p.probe(t, b.MeshAddr, ttl+1, 100+ttl, 2*time.Second)
		if !ok || from != w.from || typ != w.typ {
			t.Errorf("ttl %d: got ok=%v %v from %v, want %v from %v", ttl+1, ok, typ, from, w.typ, w.from)
		}
	}
}

func TestForwarderSetPathAndLoss(t *testing.T) {
	l, f := testLab(t, threePops())
	a, b := l.Pops[0], l.Pops[1]
	p := newPinger(t, a.Netns)

	// Re-route a->b through r2 only: TTL 1 now expires at r2, TTL 2 arrives.
	via := []string{"r2"}
	if err := f.SetPath("a", "b", PathUpdate{Via: &via, Both: true}); err != nil {
		t.Fatal(err)
	}
	if from, typ, _, ok := p.probe(t, b.MeshAddr, 1, 1, 2*time.Second); !ok || from != l.Routers[1].Addr || typ != ipv4.ICMPTypeTimeExceeded {
		t.Errorf("after set via r2, ttl 1: ok=%v %v from %v, want time exceeded from %v", ok, typ, from, l.Routers[1].Addr)
	}
	if from, _, _, ok := p.probe(t, b.MeshAddr, 2, 2, 2*time.Second); !ok || from != b.MeshAddr {
		t.Errorf("after set via r2, ttl 2: ok=%v from %v, want %v", ok, from, b.MeshAddr)
	}

	// 50% loss from a to b only: losses are spread evenly, so exactly half of ten
	// requests get through.
	loss := 50.0
	short := time.Millisecond
	if err := f.SetPath("a", "b", PathUpdate{Loss: &loss, Delay: &short}); err != nil {
		t.Fatal(err)
	}
	got := 0
	for i := range 10 {
		if _, _, _, ok := p.probe(t, b.MeshAddr, 64, 200+i, 300*time.Millisecond); ok {
			got++
		}
	}
	if got != 5 {
		t.Errorf("with 50%% loss a->b: %d of 10 pings answered, want 5", got)
	}
	for _, ps := range f.Paths() {
		if ps.Src == "a" && ps.Dst == "b" && ps.Dropped != 5 {
			t.Errorf("a->b dropped counter = %d, want 5", ps.Dropped)
		}
	}

	for _, tc := range []struct {
		src, dst string
		u        PathUpdate
		want     string
	}{
		{"a", "zz", PathUpdate{}, `pop "zz" is not in lab`},
		{"a", "a", PathUpdate{}, "two different pops"},
		{"a", "b", PathUpdate{Via: &[]string{"nope"}}, `router "nope" is not in this lab`},
		{"a", "b", PathUpdate{Loss: ptr(150.0)}, "out of 0-100%"},
	} {
		if err := f.SetPath(tc.src, tc.dst, tc.u); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SetPath(%s, %s): err %v, want it to say %q", tc.src, tc.dst, err, tc.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestForwarderRouterLoss: a router that drops its ICMP answers (rate limiting) shows
// loss at its hop only; a router that loses packets on the way in shows it at its hop
// and every later one. Losses are random per packet, so the counts are checked against
// bounds a fair coin stays in (binomial, beyond 4 standard deviations), and the
// router's own counters against what the probes saw.
func TestForwarderRouterLoss(t *testing.T) {
	l, f := testLab(t, threePops())
	b := l.Pops[1]
	p := newPinger(t, l.Pops[0].Netns)
	short := time.Millisecond
	if err := f.SetPath("a", "b", PathUpdate{Delay: &short, Both: true}); err != nil {
		t.Fatal(err)
	}
	const n = 40
	answered := func(ttl, seq0 int) int {
		got := 0
		for i := range n {
			if _, _, _, ok := p.probe(t, b.MeshAddr, ttl, seq0+i, 60*time.Millisecond); ok {
				got++
			}
		}
		return got
	}
	// 50% of 40: mean 20, sd 3.2; 75% lost (two crossings of a 50% router): mean 10.
	around := func(got, mean int) bool { return got >= mean-13 && got <= mean+13 }
	if err := f.SetRouter("r1", RouterUpdate{ICMPLoss: ptr(50.0)}); err != nil {
		t.Fatal(err)
	}
	if got := [3]int{answered(1, 0), answered(2, 100), answered(3, 200)}; !around(got[0], n/2) || got[1] != n || got[2] != n {
		t.Errorf("r1 rate-limits ICMP 50%%: answered of %d at ttl 1, 2, 3 = %v, want ~%d, %d, %d", n, got, n/2, n, n)
	} else {
		if d := f.Routers()[0].ICMPDropped; d != uint64(n-got[0]) {
			t.Errorf("r1 counted %d ICMP answers dropped, the probes saw %d", d, n-got[0])
		}
	}
	if err := f.SetRouter("r1", RouterUpdate{ICMPLoss: ptr(0.0), Loss: ptr(50.0)}); err != nil {
		t.Fatal(err)
	}
	// ttl 1: lost on the way in only; ttl 2 and 3: the answer comes back through r1 too.
	got := [3]int{answered(1, 300), answered(2, 400), answered(3, 500)}
	if !around(got[0], n/2) || !around(got[1], n/4) || !around(got[2], n/4) {
		t.Errorf("r1 loses 50%% on the way in: answered of %d at ttl 1, 2, 3 = %v, want ~%d, ~%d, ~%d", n, got, n/2, n/4, n/4)
	}
	rs := f.Routers()
	if lost := uint64(3*n - got[0] - got[1] - got[2]); rs[0].Name != "r1" || rs[0].Loss != 50 || rs[0].Dropped != lost {
		t.Errorf("router status %+v, want loss 50 and %d dropped", rs[0], lost)
	}
	if err := f.SetRouter("nope", RouterUpdate{}); err == nil || !strings.Contains(err.Error(), `router "nope" is not in lab`) {
		t.Errorf("SetRouter(nope): %v", err)
	}
	if err := f.SetRouter("r1", RouterUpdate{Loss: ptr(101.0)}); err == nil {
		t.Error("SetRouter accepted 101% loss")
	}
}

// TestScenarioApply plays a scenario with short times and checks that its events took
// effect in order.
func TestScenarioApply(t *testing.T) {
	_, f := testLab(t, threePops())
	ms := func(n int) Duration { return Duration(time.Duration(n) * time.Millisecond) }
	loss := Percent(100)
	none := Percent(0)
	via := []string{"r2"}
	sc := Scenario{Events: []Event{
		{At: ms(50), Pops: []string{"a", "c"}, Loss: &none},
		{At: ms(10), Pops: []string{"a", "c"}, Loss: &loss},
		{At: ms(20), Pops: []string{"a", "b"}, Via: &via, OneWay: true},
		{At: ms(30), Router: "r1", ICMPLoss: &loss},
	}}
	var log strings.Builder
	f.Play(context.Background(), sc, &log) // once: returns after the last event
	if n := strings.Count(log.String(), "applied"); n != 4 {
		t.Fatalf("scenario log:\n%s", log.String())
	}
	for _, ps := range f.Paths() {
		switch {
		case ps.Src == "a" && ps.Dst == "c" && ps.Path.Loss != 0:
			t.Errorf("a->c loss %v: the later event (0%%) must win", ps.Path.Loss)
		case ps.Src == "a" && ps.Dst == "b" && strings.Join(ps.Path.Via, ",") != "r2":
			t.Errorf("a->b via %v, want r2", ps.Path.Via)
		case ps.Src == "b" && ps.Dst == "a" && strings.Join(ps.Path.Via, ",") != "r2,r1":
			t.Errorf("b->a via %v: a oneway event must not change it", ps.Path.Via)
		}
	}
	if r := f.Routers()[0]; r.ICMPLoss != 100 {
		t.Errorf("r1 icmp loss %v, want 100", r.ICMPLoss)
	}
}
