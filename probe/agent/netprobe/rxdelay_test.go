//go:build linux

package netprobe

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// readHold is how long a test holds a reader back after an answer arrived: the delay a
// busy host adds between an answer's arrival and our read.
const readHold = 50 * time.Millisecond

// gate holds the readers of an engine back while it is shut (options.hold).
type gate struct {
	mu     sync.Mutex
	shut   chan struct{} // nil: open
	parked chan struct{} // a reader waits at the shut gate
}

func newGate() *gate { return &gate{parked: make(chan struct{}, 1)} }

func (g *gate) hold() {
	g.mu.Lock()
	c := g.shut
	g.mu.Unlock()
	if c == nil {
		return
	}
	select {
	case g.parked <- struct{}{}:
	default:
	}
	<-c
}

func (g *gate) close() {
	g.mu.Lock()
	if g.shut == nil {
		g.shut = make(chan struct{})
	}
	g.mu.Unlock()
	select { // a signal left from an earlier shut
	case <-g.parked:
	default:
	}
}

func (g *gate) open() {
	g.mu.Lock()
	if g.shut != nil {
		close(g.shut)
		g.shut = nil
	}
	g.mu.Unlock()
}

// waitReadable waits until a packet is queued on the socket (the reader is held back,
// so it stays there).
func waitReadable(t *testing.T, s *sock) {
	t.Helper()
	var (
		n    int
		perr error
	)
	if err := s.rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			n, perr = unix.Poll(fds, 5000)
			if perr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if perr != nil || n != 1 {
		t.Fatalf("poll: %d, %v; want the answer queued within 5 s", n, perr)
	}
}

// heldProbe runs probe while the reader of sock is held back: it waits until the
// answer is queued on the socket, holds the reader readHold longer, then lets it read.
// The reader must be parked at the shut gate already, its socket empty (parkReader).
func heldProbe(t *testing.T, g *gate, s *sock, probe func() (Answer, error)) Answer {
	t.Helper()
	type res struct {
		a   Answer
		err error
	}
	done := make(chan res, 1)
	go func() {
		a, err := probe()
		done <- res{a, err}
	}()
	defer g.open() // also when waitReadable fails
	waitReadable(t, s)
	time.Sleep(readHold)
	g.open()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.a
}

// checkHeld checks an answer read readHold after it arrived: with kernel receive times
// its RTT leaves the wait out; without, it has it (the user-space fallback).
func checkHeld(t *testing.T, a Answer, stamps bool) {
	t.Helper()
	if !a.From.IsValid() {
		t.Fatalf("no answer: %+v", a)
	}
	t.Logf("RTT %v (kernel stamp %v), reader held back %v after the answer arrived", a.RTT, a.KernelStamp, readHold)
	if stamps {
		if !a.KernelStamp || a.RTT >= readHold/2 {
			t.Errorf("with kernel receive times: RTT %v kernel=%v; want kernel=true and far below the %v the reader was held", a.RTT, a.KernelStamp, readHold)
		}
		return
	}
	if a.KernelStamp || a.RTT < readHold {
		t.Errorf("with kernel receive times off: RTT %v kernel=%v; want kernel=false and at least the %v the reader was held (the fallback)", a.RTT, a.KernelStamp, readHold)
	}
}

// routerNetns makes two network namespaces of the test's own: S, where the test's
// child runs, and R, a router one hop away that answers with time exceeded (TTL 1
// towards 198.18.251.0/24, fd6d:7401::/64) and unreachable (198.18.252.0/24,
// fd6d:7402::/64: its unreachable routes). It returns S's name.
func routerNetns(t *testing.T) string {
	t.Helper()
	id := rand.IntN(1_000_000)
	s, r := fmt.Sprintf("mt-rxs%d", id), fmt.Sprintf("mt-rxr%d", id)
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	for _, ns := range []string{s, r} {
		run("ip", "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
		run("ip", "-n", ns, "link", "set", "lo", "up")
	}
	run("ip", "-n", s, "link", "add", "rx0", "type", "veth", "peer", "name", "rx1", "netns", r)
	run("ip", "-n", s, "addr", "add", "198.18.250.1/30", "dev", "rx0")
	run("ip", "-n", s, "addr", "add", "fd6d:7400::1/64", "dev", "rx0", "nodad")
	run("ip", "-n", s, "link", "set", "rx0", "up")
	run("ip", "-n", s, "route", "add", "default", "via", "198.18.250.2")
	run("ip", "-n", s, "-6", "route", "add", "default", "via", "fd6d:7400::2")
	run("ip", "-n", r, "addr", "add", "198.18.250.2/30", "dev", "rx1")
	run("ip", "-n", r, "addr", "add", "fd6d:7400::2/64", "dev", "rx1", "nodad")
	run("ip", "-n", r, "link", "set", "rx1", "up")
	run("ip", "-n", r, "route", "add", "198.18.251.0/24", "via", "198.18.250.1")
	run("ip", "-n", r, "route", "add", "unreachable", "198.18.252.0/24")
	run("ip", "-n", r, "-6", "route", "add", "fd6d:7401::/64", "via", "fd6d:7400::1")
	run("ip", "-n", r, "-6", "route", "add", "unreachable", "fd6d:7402::/64")
	// No rate limit of R's ICMP errors to S (the IPv4 one by its mask: a zero
	// icmp_ratelimit would empty the token bucket that unreachables are also counted in).
	run("ip", "netns", "exec", r, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
		"net.ipv4.icmp_ratemask=0", "net.ipv6.icmp.ratelimit=0")
	return s
}

const rxDelayChildEnv = "MT_NETPROBE_RXDELAY_CHILD"

// TestRTTExcludesReadDelay sends probes whose answers (echo replies, time exceeded and
// unreachable from a router, IPv4 and IPv6, and an ICMP answer to a TCP probe) arrive on
// the raw sockets while their reader is held back readHold, as a busy host's scheduler
// would: with kernel receive times the RTT leaves the wait out; with them off it has
// it, which is the user-space fallback. The test binary re-runs itself inside a network
// namespace of its own (every socket of the probes, the TCP probe's too, is opened
// there, and nothing else sends there).
func TestRTTExcludesReadDelay(t *testing.T) {
	if os.Getenv(rxDelayChildEnv) == "1" {
		rxDelayChild(t)
		return
	}
	needRoot(t)
	runChild(t, routerNetns(t), os.Args[0], "TestRTTExcludesReadDelay", []string{rxDelayChildEnv + "=1"})
}

func rxDelayChild(t *testing.T) {
	if !localAddr(t, "198.18.250.1") {
		t.Fatal("the child runs outside the test's namespace")
	}
	for _, stamps := range []bool{true, false} {
		t.Run(fmt.Sprintf("stamps=%v", stamps), func(t *testing.T) {
			g := newGate()
			e := open(options{noStamps: !stamps, hold: g.hold})
			t.Cleanup(func() {
				g.open()
				_ = e.Close()
			})
			if e.Method() != MethodRaw {
				t.Fatalf("method %q (%s), want raw socket", e.Method(), e.Why())
			}
			if (e.RxTimes() == "kernel receive times (SO_TIMESTAMPNS)") != stamps {
				t.Errorf("RxTimes() = %q with stamps %v", e.RxTimes(), stamps)
			}
			tests := []struct {
				name  string
				dst   string
				ttl   int
				tcp   bool
				from  string
				reply bool
			}{
				{"echo reply v4", "127.0.0.1", 0, false, "127.0.0.1", true},
				{"echo reply v6", "::1", 0, false, "::1", true},
				{"echo reply from the router v4", "198.18.250.2", 0, false, "198.18.250.2", true},
				{"time exceeded v4", "198.18.251.1", 1, false, "198.18.250.2", false},
				{"time exceeded v6", "fd6d:7401::1", 1, false, "fd6d:7400::2", false},
				{"unreachable v4", "198.18.252.1", 0, false, "198.18.250.2", false},
				{"unreachable v6", "fd6d:7402::1", 0, false, "fd6d:7400::2", false},
				{"time exceeded for a TCP SYN v4", "198.18.251.1", 1, true, "198.18.250.2", false},
			}
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					dst := netip.MustParseAddr(tt.dst)
					m, warm := e.v4, netip.MustParseAddr("198.18.250.2")
					if dst.Is6() {
						if e.v6 == nil {
							t.Skipf("no IPv6: %v", e.v6err)
						}
						m, warm = e.v6, netip.MustParseAddr("fd6d:7400::2")
					}
					w, err := e.NewEcho(warm)
					if err != nil {
						t.Fatal(err)
					}
					defer w.Close()
					parkReader(t, g, m.s, warmUp(m, w))
					var probe func() (Answer, error)
					if tt.tcp {
						probe = func() (Answer, error) { return e.ProbeTCP(context.Background(), dst, 80, tt.ttl, 5*time.Second) }
					} else {
						s, err := e.NewEcho(dst)
						if err != nil {
							t.Fatal(err)
						}
						defer s.Close()
						probe = func() (Answer, error) { return s.Probe(context.Background(), i, tt.ttl, 56, 5*time.Second) }
					}
					a := heldProbe(t, g, m.s, probe)
					if a.From != netip.MustParseAddr(tt.from) || a.Reply != tt.reply {
						t.Errorf("answer from %v reply=%v, want from %s reply=%v", a.From, a.Reply, tt.from, tt.reply)
					}
					checkHeld(t, a, stamps)
				})
			}
		})
	}
}

// parkReader brings a reader to the shut gate with nothing queued on its socket s:
// warm-up echo requests (send(i) sends the i-th, whose reply nobody waits for) wake it
// until it parks, then the test reads away whatever it left queued.
func parkReader(t *testing.T, g *gate, s *sock, send func(i int) error) {
	t.Helper()
	g.close()
	parked := false
	for i := 0; i < 50 && !parked; i++ {
		select {
		case <-g.parked:
			parked = true
			continue
		default:
		}
		if err := send(i); err != nil {
			t.Fatal(err)
		}
		select {
		case <-g.parked:
			parked = true
		case <-time.After(100 * time.Millisecond):
		}
	}
	if !parked {
		t.Fatal("the reader did not come to the gate")
	}
	time.Sleep(10 * time.Millisecond) // the last warm-up reply may be on its way
	var rerr error
	if err := s.rc.Control(func(fd uintptr) {
		buf := make([]byte, 1<<16)
		for rerr == nil {
			_, _, rerr = unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if rerr != unix.EAGAIN {
		t.Fatalf("drain the socket: %v", rerr)
	}
}

// warmUp sends echo requests of session w through m, whose replies nobody waits for.
func warmUp(m *mux, w *Echo) func(i int) error {
	return func(i int) error {
		b, err := w.request(60000+i, 8)
		if err == nil {
			_, err = m.send(b, w.dst, w.sa, 0)
		}
		return err
	}
}

// localAddr says whether a is an address of this network namespace.
func localAddr(t *testing.T, a string) bool {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range addrs {
		if p, ok := x.(*net.IPNet); ok && p.IP.String() == a {
			return true
		}
	}
	return false
}

// datagramHeld is the datagram child's check (TestDatagramMode): an echo reply read
// readHold after it arrived on an unprivileged ICMP socket.
func datagramHeld(t *testing.T) {
	for _, stamps := range []bool{true, false} {
		t.Run(fmt.Sprintf("held reader, stamps=%v", stamps), func(t *testing.T) {
			g := newGate()
			e := open(options{noStamps: !stamps, hold: g.hold})
			defer e.Close()
			if e.Method() != MethodDatagram {
				t.Fatalf("method %q (%s), want unprivileged datagram", e.Method(), e.Why())
			}
			if (e.RxTimes() == "kernel receive times (SO_TIMESTAMPNS)") != stamps {
				t.Errorf("RxTimes() = %q with stamps %v", e.RxTimes(), stamps)
			}
			s, err := e.NewEcho(netip.MustParseAddr("127.0.0.1"))
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				g.open()
				s.Close()
			}()
			parkReader(t, g, s.dc, func(i int) error {
				b, err := s.request(60000+i, 8)
				if err == nil {
					_, err = s.dc.send(b, s.sa)
				}
				return err
			})
			a := heldProbe(t, g, s.dc, func() (Answer, error) {
				return s.Probe(context.Background(), 7, 0, 56, 5*time.Second)
			})
			checkHeld(t, a, stamps)
		})
	}
}
