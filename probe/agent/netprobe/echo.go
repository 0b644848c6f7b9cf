package netprobe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// Echo is one ping test's or one ICMP traceroute's series of echo requests to one
// destination. It owns its echo ID until Close. Probes of one session may run at once
// (each with its own sequence number).
type Echo struct {
	e   *Engine
	dst netip.Addr
	id  uint16
	sa  unix.Sockaddr // dst as sendto(2) takes it
	m   *mux          // raw mode
	dc  *sock         // datagram mode: this session's own socket

	// Datagram mode: probes waiting by sequence number, and the reader's lifecycle.
	dmu     sync.Mutex
	dwait   map[uint16]*waiter
	dclosed chan struct{}
	ddone   chan struct{}
}

// NewEcho starts an echo session to dst.
func (e *Engine) NewEcho(dst netip.Addr) (*Echo, error) {
	dst = dst.Unmap()
	if e.method == MethodRaw || e.method == MethodDatagram {
		sa, err := sockaddrOf(dst)
		if err != nil {
			return nil, err
		}
		if e.method == MethodRaw {
			m, err := e.muxFor(dst)
			if err != nil {
				return nil, err
			}
			id, err := e.allocID()
			if err != nil {
				return nil, err
			}
			return &Echo{e: e, dst: dst, sa: sa, id: id, m: m}, nil
		}
		network, addr := "udp4", "0.0.0.0"
		if dst.Is6() {
			network, addr = "udp6", "::"
		}
		c, err := openSock(network, addr, !e.opts.noStamps)
		if err != nil {
			return nil, fmt.Errorf("open ICMP datagram socket: %w", err)
		}
		s := &Echo{e: e, dst: dst, sa: sa, dc: c, dwait: map[uint16]*waiter{}, dclosed: make(chan struct{}), ddone: make(chan struct{})}
		go s.readDatagram()
		return s, nil
	}
	return nil, fmt.Errorf("no ICMP socket available (%s): run the agent as root, give it CAP_NET_RAW, or allow unprivileged ICMP with sysctl net.ipv4.ping_group_range", e.why)
}

// Close releases the session's ID or socket.
func (s *Echo) Close() {
	if s.m != nil {
		s.e.freeID(s.id)
	}
	if s.dc != nil {
		close(s.dclosed)
		_ = s.dc.close()
		<-s.ddone
	}
}

func (s *Echo) request(seq, payloadSize int) ([]byte, error) {
	typ := icmp.Type(ipv4.ICMPTypeEcho)
	if s.dst.Is6() {
		typ = ipv6.ICMPTypeEchoRequest
	}
	data := make([]byte, payloadSize)
	for i := range data {
		data[i] = byte('a' + i%26)
	}
	// The checksum of ICMPv6 is computed by the kernel (raw and datagram sockets alike).
	return (&icmp.Message{Type: typ, Body: &icmp.Echo{ID: int(s.id), Seq: seq, Data: data}}).Marshal(nil)
}

// Probe sends echo request seq with the given TTL (0: default) and waits up to timeout
// for an answer to it. No answer is a zero Answer and a nil error; the error is for
// failures to send and for ctx ending.
func (s *Echo) Probe(ctx context.Context, seq, ttl, payloadSize int, timeout time.Duration) (Answer, error) {
	b, err := s.request(seq, payloadSize)
	if err != nil {
		return Answer{}, fmt.Errorf("build echo request: %w", err)
	}
	if s.dc != nil {
		return s.probeDatagram(ctx, b, seq, ttl, timeout)
	}
	proto := uint8(protoICMP)
	if s.dst.Is6() {
		proto = protoICMPv6
	}
	k := key{proto, s.id, uint16(seq)}
	w := &waiter{dst: s.dst, ch: make(chan Answer, 1)}
	if err := s.m.register(k, w); err != nil {
		return Answer{}, err
	}
	defer s.m.unregister(k)
	sent, err := s.m.send(b, s.dst, s.sa, ttl)
	if err != nil {
		return Answer{}, err
	}
	return wait(ctx, w.ch, sent, timeout)
}

func wait(ctx context.Context, ch <-chan Answer, sent time.Time, timeout time.Duration) (Answer, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case a := <-ch:
		a.RTT, a.KernelStamp = a.rx.rtt(sent)
		return a, nil
	case <-t.C:
		return Answer{}, nil
	case <-ctx.Done():
		return Answer{}, ctx.Err()
	}
}

func (s *Echo) probeDatagram(ctx context.Context, b []byte, seq, ttl int, timeout time.Duration) (Answer, error) {
	if ttl > 0 {
		return Answer{}, ErrNoTraceroute
	}
	w := &waiter{dst: s.dst, ch: make(chan Answer, 1)}
	s.dmu.Lock()
	if s.dwait[uint16(seq)] != nil {
		s.dmu.Unlock()
		return Answer{}, fmt.Errorf("probe %d is already waiting", seq)
	}
	s.dwait[uint16(seq)] = w
	s.dmu.Unlock()
	defer func() {
		s.dmu.Lock()
		delete(s.dwait, uint16(seq))
		s.dmu.Unlock()
	}()
	sent, err := s.dc.send(b, s.sa)
	if err != nil {
		return Answer{}, fmt.Errorf("send to %s: %w", s.dst, err)
	}
	return wait(ctx, w.ch, sent, timeout)
}

// readDatagram is the reader of a datagram session's own socket: it hands each echo
// reply to the probe waiting for its sequence number, so that the probes of one session
// may overlap (a ping keeps sending while earlier replies are still on their way).
func (s *Echo) readDatagram() {
	defer close(s.ddone)
	buf := make([]byte, 1<<16)
	oob := make([]byte, oobSize)
	for {
		if s.e.opts.hold != nil {
			s.e.opts.hold()
		}
		p, err := s.dc.recv(buf, oob)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-s.dclosed:
				return
			default:
			}
			time.Sleep(10 * time.Millisecond) // transient (ENOBUFS): keep reading
			continue
		}
		// The kernel rewrites the ID to the socket's own; only the sequence identifies
		// the probe.
		k, _, reply, ok := classify(p.b, s.dst.Is6())
		if !ok || !reply || p.from != s.dst {
			continue
		}
		s.dmu.Lock()
		w := s.dwait[k.seq]
		s.dmu.Unlock()
		if w == nil {
			continue // a reply after its probe gave up
		}
		select {
		case w.ch <- Answer{From: p.from, Reply: true, TTL: p.ttl, Len: len(p.b), rx: p.rx}:
		default:
		}
	}
}
