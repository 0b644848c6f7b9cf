package netprobe

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"
)

// needRoot skips a test that needs raw sockets, but only outside CI: under CI=true the
// test must run (and fail if it cannot).
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 && os.Getenv("CI") == "" {
		t.Skip("needs root for raw ICMP sockets (runs under CI=true)")
	}
}

func openRaw(t *testing.T) *Engine {
	t.Helper()
	needRoot(t)
	e := Open()
	if e.Method() != MethodRaw {
		t.Fatalf("Open as root: method %q (%s), want raw socket", e.Method(), e.Why())
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// echoMsg builds an ICMP echo message of the given type.
func echoMsg(typ byte, id, seq uint16) []byte {
	b := make([]byte, 8+4)
	b[0] = typ
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	return b
}

// quoted4 builds an ICMPv4 error of type typ quoting an IPv4 packet to dst whose first
// transport bytes are t.
func quoted4(typ byte, proto byte, dst netip.Addr, t []byte) []byte {
	ip := make([]byte, 20)
	ip[0] = 0x45
	ip[9] = proto
	copy(ip[16:], dst.AsSlice())
	b := append(make([]byte, 8), ip...)
	b[0] = typ
	return append(b, t...)
}

func quoted6(typ byte, proto byte, dst netip.Addr, t []byte) []byte {
	ip := make([]byte, 40)
	ip[0] = 0x60
	ip[6] = proto
	copy(ip[24:], dst.AsSlice())
	b := append(make([]byte, 8), ip...)
	b[0] = typ
	return append(b, t...)
}

func TestClassify(t *testing.T) {
	dst4 := netip.MustParseAddr("198.18.5.1")
	dst6 := netip.MustParseAddr("2001:db8::1")
	tcpHdr := []byte{0x9c, 0x40, 0, 80, 1, 2, 3, 4}
	tests := []struct {
		name      string
		b         []byte
		v6        bool
		wantKey   key
		wantDst   netip.Addr
		wantReply bool
		wantOK    bool
	}{
		{"v4 echo reply", echoMsg(0, 7, 3), false, key{protoICMP, 7, 3}, netip.Addr{}, true, true},
		{"v4 echo request is ignored", echoMsg(8, 7, 3), false, key{}, netip.Addr{}, false, false},
		{"v4 time exceeded quoting our echo", quoted4(11, protoICMP, dst4, echoMsg(8, 9, 4)[:8]), false, key{protoICMP, 9, 4}, dst4, false, true},
		{"v4 unreachable quoting our echo", quoted4(3, protoICMP, dst4, echoMsg(8, 9, 5)[:8]), false, key{protoICMP, 9, 5}, dst4, false, true},
		{"v4 time exceeded quoting a TCP SYN", quoted4(11, protoTCP, dst4, tcpHdr), false, key{protoTCP, 40000, 0}, dst4, false, true},
		{"v4 error quoting an echo reply is not ours", quoted4(11, protoICMP, dst4, echoMsg(0, 9, 4)[:8]), false, key{}, netip.Addr{}, false, false},
		{"v4 error quoting UDP is not ours", quoted4(11, 17, dst4, tcpHdr), false, key{}, netip.Addr{}, false, false},
		{"v4 truncated quote", quoted4(11, protoICMP, dst4, nil), false, key{}, netip.Addr{}, false, false},
		{"too short", []byte{0, 0, 0}, false, key{}, netip.Addr{}, false, false},
		{"v6 echo reply", echoMsg(129, 7, 3), true, key{protoICMPv6, 7, 3}, netip.Addr{}, true, true},
		{"v6 time exceeded quoting our echo", quoted6(3, protoICMPv6, dst6, echoMsg(128, 9, 4)[:8]), true, key{protoICMPv6, 9, 4}, dst6, false, true},
		{"v6 time exceeded quoting a TCP SYN", quoted6(3, protoTCP, dst6, tcpHdr), true, key{protoTCP, 40000, 0}, dst6, false, true},
		{"v4 type on a v6 socket", echoMsg(0, 7, 3), true, key{}, netip.Addr{}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, d, reply, ok := classify(tt.b, tt.v6)
			if ok != tt.wantOK || (ok && (k != tt.wantKey || d != tt.wantDst || reply != tt.wantReply)) {
				t.Errorf("classify = %v %v reply=%v ok=%v, want %v %v reply=%v ok=%v", k, d, reply, ok, tt.wantKey, tt.wantDst, tt.wantReply, tt.wantOK)
			}
		})
	}
}

// TestDispatchDemultiplexes feeds answers to a mux with several waiters and checks each
// goes to its own probe only: same destination, different IDs; a reply from a stranger;
// an error about a packet to another destination.
func TestDispatchDemultiplexes(t *testing.T) {
	m := &mux{waiters: map[key]*waiter{}}
	dst := netip.MustParseAddr("127.0.0.1")
	other := netip.MustParseAddr("198.18.9.9")
	a := &waiter{dst: dst, ch: make(chan Answer, 1)}
	b := &waiter{dst: dst, ch: make(chan Answer, 1)}
	if err := m.register(key{protoICMP, 100, 0}, a); err != nil {
		t.Fatal(err)
	}
	if err := m.register(key{protoICMP, 101, 0}, b); err != nil {
		t.Fatal(err)
	}
	if err := m.register(key{protoICMP, 101, 0}, a); err == nil {
		t.Fatal("registering a key twice succeeded")
	}
	now := rxTime{user: time.Now()}
	m.dispatch(echoMsg(0, 100, 0), other, 64, now)                                    // stranger: dropped
	m.dispatch(quoted4(11, protoICMP, other, echoMsg(8, 101, 0)[:8]), other, 60, now) // about another dst
	if len(a.ch) != 0 || len(b.ch) != 0 {
		t.Fatalf("answers not meant for the waiters were delivered: a=%d b=%d", len(a.ch), len(b.ch))
	}
	m.dispatch(echoMsg(0, 101, 0), dst, 64, now)
	if len(a.ch) != 0 || len(b.ch) != 1 {
		t.Fatalf("reply for ID 101 went to a=%d b=%d, want only b", len(a.ch), len(b.ch))
	}
	got := <-b.ch
	if !got.Reply || got.From != dst || got.TTL != 64 || got.Len != 12 {
		t.Errorf("answer = %+v", got)
	}
	m.dispatch(echoMsg(0, 100, 1), dst, 64, now) // right ID, wrong seq
	if len(a.ch) != 0 {
		t.Error("a reply with another sequence number was delivered")
	}
	m.unregister(key{protoICMP, 100, 0})
	m.dispatch(echoMsg(0, 100, 0), dst, 64, now)
	if len(a.ch) != 0 {
		t.Error("a reply was delivered after unregister")
	}
}

func TestAllocIDUnique(t *testing.T) {
	e := &Engine{idUsed: map[uint16]bool{}, nextID: 65530}
	seen := map[uint16]bool{}
	for range 20 { // wraps around 65535
		id, err := e.allocID()
		if err != nil {
			t.Fatal(err)
		}
		if seen[id] {
			t.Fatalf("ID %d handed out twice", id)
		}
		seen[id] = true
	}
	e.freeID(65530)
	e.nextID = 65530
	if id, _ := e.allocID(); id != 65530 {
		t.Errorf("freed ID not reused: got %d", id)
	}
}

// TestConcurrentPingsSameDestination runs several echo sessions to the same loopback
// address at once; every session must get exactly its own replies.
func TestConcurrentPingsSameDestination(t *testing.T) {
	e := openRaw(t)
	for _, d := range []string{"127.0.0.1", "::1"} {
		dst := netip.MustParseAddr(d)
		t.Run(d, func(t *testing.T) {
			if dst.Is6() && e.v6 == nil {
				t.Skipf("no IPv6: %v", e.v6err)
			}
			const sessions, probes = 8, 10
			var wg sync.WaitGroup
			errs := make(chan string, sessions*probes)
			for range sessions {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s, err := e.NewEcho(dst)
					if err != nil {
						errs <- err.Error()
						return
					}
					defer s.Close()
					for seq := range probes {
						a, err := s.Probe(context.Background(), seq, 0, 56, 2*time.Second)
						switch {
						case err != nil:
							errs <- err.Error()
						case !a.Reply || a.From != dst:
							errs <- "no reply"
						case a.Len != 64 || a.TTL <= 0 || a.RTT < 0:
							errs <- "bad reply fields"
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Error(e)
			}
		})
	}
}

func TestEchoWithTTLReachesLoopback(t *testing.T) {
	e := openRaw(t)
	s, err := e.NewEcho(netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, err := s.Probe(context.Background(), 1, 1, 0, 2*time.Second)
	if err != nil || !a.Reply || a.Len != 8 {
		t.Fatalf("TTL-1 echo to 127.0.0.1 with empty payload = %+v, %v; want a reply of 8 bytes", a, err)
	}
}

func TestWait(t *testing.T) {
	ch := make(chan Answer, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := wait(ctx, ch, time.Now(), time.Hour); err != context.Canceled {
		t.Errorf("wait with a cancelled context: %v, want context.Canceled", err)
	}
	if a, err := wait(context.Background(), ch, time.Now(), time.Millisecond); err != nil || a.From.IsValid() {
		t.Errorf("wait with no answer = %+v, %v; want a zero answer", a, err)
	}
	sent := time.Now()
	ch <- Answer{From: netip.MustParseAddr("127.0.0.1"), rx: rxTime{user: sent.Add(-time.Second)}} // clock went "back"
	if a, _ := wait(context.Background(), ch, sent, time.Hour); a.RTT != 0 {
		t.Errorf("RTT of an answer stamped before the send = %v, want 0 (never negative)", a.RTT)
	}
}

func TestProbeTCP(t *testing.T) {
	e := openRaw(t)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	open := ln.Addr().(*net.TCPAddr).Port
	closedLn, _ := net.Listen("tcp4", "127.0.0.1:0")
	closed := closedLn.Addr().(*net.TCPAddr).Port
	_ = closedLn.Close()
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	dst := netip.MustParseAddr("127.0.0.1")
	for name, port := range map[string]int{"open port (SYN-ACK)": open, "closed port (RST)": closed} {
		t.Run(name, func(t *testing.T) {
			a, err := e.ProbeTCP(context.Background(), dst, port, 1, 2*time.Second)
			if err != nil || !a.Reply || a.From != dst || a.RTT < 0 {
				t.Fatalf("ProbeTCP = %+v, %v; want the destination's answer", a, err)
			}
		})
	}
}

func TestNoRawSocketMessages(t *testing.T) {
	e := &Engine{method: MethodNone, why: "operation not permitted", idUsed: map[uint16]bool{}}
	if _, err := e.NewEcho(netip.MustParseAddr("127.0.0.1")); err == nil {
		t.Error("NewEcho without any ICMP socket succeeded")
	}
	if _, err := e.ProbeTCP(context.Background(), netip.MustParseAddr("127.0.0.1"), 80, 1, time.Second); err != ErrNoTraceroute {
		t.Errorf("ProbeTCP without raw socket: %v, want ErrNoTraceroute", err)
	}
}
