package netprobe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Echo is one ping test's or one ICMP traceroute's series of echo requests to one
// destination. It owns its echo ID until Close. Probes of one session are sequential.
type Echo struct {
	e   *Engine
	dst netip.Addr
	id  uint16
	m   *mux             // raw mode
	dc  *icmp.PacketConn // datagram mode: this session's own socket
}

// NewEcho starts an echo session to dst.
func (e *Engine) NewEcho(dst netip.Addr) (*Echo, error) {
	dst = dst.Unmap()
	switch e.method {
	case MethodRaw:
		m, err := e.muxFor(dst)
		if err != nil {
			return nil, err
		}
		id, err := e.allocID()
		if err != nil {
			return nil, err
		}
		return &Echo{e: e, dst: dst, id: id, m: m}, nil
	case MethodDatagram:
		network, addr := "udp4", "0.0.0.0"
		if dst.Is6() {
			network, addr = "udp6", "::"
		}
		c, err := icmp.ListenPacket(network, addr)
		if err != nil {
			return nil, fmt.Errorf("open ICMP datagram socket: %w", err)
		}
		if dst.Is6() {
			err = c.IPv6PacketConn().SetControlMessage(ipv6.FlagHopLimit, true)
		} else {
			err = c.IPv4PacketConn().SetControlMessage(ipv4.FlagTTL, true)
		}
		if err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("ask for the TTL of ICMP replies: %w", err)
		}
		return &Echo{e: e, dst: dst, dc: c}, nil
	}
	return nil, fmt.Errorf("no ICMP socket available (%s): run the agent as root, give it CAP_NET_RAW, or allow unprivileged ICMP with sysctl net.ipv4.ping_group_range", e.why)
}

// Close releases the session's ID or socket.
func (s *Echo) Close() {
	if s.m != nil {
		s.e.freeID(s.id)
	}
	if s.dc != nil {
		_ = s.dc.Close()
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
	sent, err := s.m.send(b, s.dst, ttl)
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
		a.RTT = max(0, a.at.Sub(sent))
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
	sent := time.Now()
	deadline := sent.Add(timeout)
	if err := s.dc.SetReadDeadline(deadline); err != nil {
		return Answer{}, fmt.Errorf("set read deadline: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = s.dc.SetReadDeadline(time.Now()) })
	defer stop()
	if _, err := s.dc.WriteTo(b, &net.UDPAddr{IP: s.dst.AsSlice(), Zone: s.dst.Zone()}); err != nil {
		return Answer{}, fmt.Errorf("send to %s: %w", s.dst, err)
	}
	buf := make([]byte, 1<<16)
	for {
		var (
			n    int
			rttl int
			src  net.Addr
			err  error
		)
		if s.dst.Is6() {
			var cm *ipv6.ControlMessage
			n, cm, src, err = s.dc.IPv6PacketConn().ReadFrom(buf)
			if cm != nil {
				rttl = cm.HopLimit
			}
		} else {
			var cm *ipv4.ControlMessage
			n, cm, src, err = s.dc.IPv4PacketConn().ReadFrom(buf)
			if cm != nil {
				rttl = cm.TTL
			}
		}
		at := time.Now()
		if err != nil {
			if ctx.Err() != nil {
				return Answer{}, ctx.Err()
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return Answer{}, nil
			}
			return Answer{}, fmt.Errorf("read ICMP reply: %w", err)
		}
		// The kernel rewrites the ID to the socket's own; only the sequence identifies
		// the probe (a late reply to an earlier probe of this session is skipped).
		k, _, reply, ok := classify(buf[:n], s.dst.Is6())
		ua, isUDP := src.(*net.UDPAddr)
		if !ok || !reply || !isUDP || k.seq != uint16(seq) {
			continue
		}
		from, _ := netip.AddrFromSlice(ua.IP)
		if from.Unmap() != s.dst {
			continue
		}
		return Answer{From: from.Unmap(), Reply: true, RTT: max(0, at.Sub(sent)), TTL: rttl, Len: n}, nil
	}
}
