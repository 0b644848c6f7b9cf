package netprobe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// IANA protocol numbers used as the first part of a demultiplexing key.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoICMPv6 = 58
)

// key names the probe an answer belongs to: an echo (ID, seq) or a TCP local port.
type key struct {
	proto uint8
	id    uint16
	seq   uint16
}

type waiter struct {
	dst netip.Addr
	ch  chan Answer // buffered 1; the first answer wins
}

// mux is one raw ICMP socket shared by every probe of one address family.
type mux struct {
	v6   bool
	s    *sock
	hold func() // tests: called before each read

	sendMu sync.Mutex // the socket's TTL is per socket: set it and send as one step
	ttl    int

	mu      sync.Mutex
	waiters map[key]*waiter
	closed  chan struct{}
	done    chan struct{}
}

const defaultTTL = 64

func openMux(v6 bool, o options) (*mux, error) {
	network, addr := "ip4:icmp", "0.0.0.0"
	if v6 {
		network, addr = "ip6:ipv6-icmp", "::"
	}
	s, err := openSock(network, addr, !o.noStamps)
	if err != nil {
		return nil, fmt.Errorf("open raw ICMP socket (%s): %w", network, err)
	}
	m := &mux{v6: v6, s: s, hold: o.hold, waiters: map[key]*waiter{}, closed: make(chan struct{}), done: make(chan struct{}), ttl: -1}
	if v6 {
		// Only the messages a probe can be waiting for: echo replies and errors.
		var f ipv6.ICMPFilter
		f.SetAll(true)
		for _, t := range []ipv6.ICMPType{ipv6.ICMPTypeEchoReply, ipv6.ICMPTypeTimeExceeded, ipv6.ICMPTypeDestinationUnreachable, ipv6.ICMPTypePacketTooBig, ipv6.ICMPTypeParameterProblem} {
			f.Accept(t)
		}
		err = s.p6.SetICMPFilter(&f)
	} else if runtime.GOOS == "linux" {
		// The same for IPv4 (Linux's ICMP_FILTER): a raw socket otherwise gets a copy
		// of every ICMP message the host receives, every echo request to it among them,
		// and the reader that every probe waits on would read them all.
		var f ipv4.ICMPFilter
		f.SetAll(true)
		for _, t := range []ipv4.ICMPType{ipv4.ICMPTypeEchoReply, ipv4.ICMPTypeDestinationUnreachable, ipv4.ICMPTypeTimeExceeded, ipv4.ICMPTypeParameterProblem} {
			f.Accept(t)
		}
		err = s.p4.SetICMPFilter(&f)
	}
	if err != nil {
		_ = s.close()
		return nil, fmt.Errorf("set options of raw ICMP socket (%s): %w", network, err)
	}
	go m.read()
	return m, nil
}

func (m *mux) close() error {
	select {
	case <-m.closed:
		return nil
	default:
	}
	close(m.closed)
	err := m.s.close()
	<-m.done
	return err
}

func (m *mux) register(k key, w *waiter) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, busy := m.waiters[k]; busy {
		return fmt.Errorf("probe %v is already waiting", k)
	}
	m.waiters[k] = w
	return nil
}

func (m *mux) unregister(k key) {
	m.mu.Lock()
	delete(m.waiters, k)
	m.mu.Unlock()
}

// send writes one ICMP message with the given TTL (0: the default 64) and returns the
// time read right before the write.
func (m *mux) send(b []byte, dst netip.Addr, sa unix.Sockaddr, ttl int) (time.Time, error) {
	if ttl <= 0 {
		ttl = defaultTTL
	}
	m.sendMu.Lock()
	defer m.sendMu.Unlock()
	if ttl != m.ttl {
		var err error
		if m.v6 {
			err = m.s.p6.SetHopLimit(ttl)
		} else {
			err = m.s.p4.SetTTL(ttl)
		}
		if err != nil {
			m.ttl = -1
			return time.Time{}, fmt.Errorf("set TTL %d: %w", ttl, err)
		}
		m.ttl = ttl
	}
	sent, err := m.s.send(b, sa)
	if err != nil {
		return sent, fmt.Errorf("send to %s: %w", dst, err)
	}
	return sent, nil
}

func (m *mux) read() {
	defer close(m.done)
	buf := make([]byte, 1<<16)
	oob := make([]byte, oobSize)
	for {
		if m.hold != nil {
			m.hold()
		}
		p, err := m.s.recv(buf, oob)
		if err != nil {
			select {
			case <-m.closed:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// A transient error (e.g. ENOBUFS) must not end the reader of every probe.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if !p.from.IsValid() {
			continue
		}
		m.dispatch(p.b, p.from, p.ttl, p.rx)
	}
}

// dispatch hands one received ICMP message to the probe it answers, if any.
func (m *mux) dispatch(b []byte, from netip.Addr, ttl int, rx rxTime) {
	k, innerDst, reply, ok := classify(b, m.v6)
	if !ok {
		return
	}
	m.mu.Lock()
	w := m.waiters[k]
	m.mu.Unlock()
	if w == nil {
		return
	}
	if reply && from != w.dst {
		return // an echo reply with our ID from someone we did not ask
	}
	if !reply && innerDst != w.dst {
		return // an error about a packet we did not send to this destination
	}
	select {
	case w.ch <- Answer{From: from, Reply: reply, TTL: ttl, Len: len(b), rx: rx}:
	default:
	}
}

// classify parses an ICMP message: an echo reply gives its (ID, seq); an error message
// gives the key of the probe it quotes and that probe's destination.
func classify(b []byte, v6 bool) (k key, innerDst netip.Addr, reply bool, ok bool) {
	if len(b) < 8 {
		return key{}, netip.Addr{}, false, false
	}
	typ := b[0]
	echoProto := uint8(protoICMP)
	if v6 {
		echoProto = protoICMPv6
	}
	isReply := (!v6 && typ == 0) || (v6 && typ == 129)
	if isReply {
		return key{echoProto, binary.BigEndian.Uint16(b[4:6]), binary.BigEndian.Uint16(b[6:8])}, netip.Addr{}, true, true
	}
	isError := (!v6 && (typ == 3 || typ == 11 || typ == 12)) || (v6 && typ >= 1 && typ <= 4)
	if !isError {
		return key{}, netip.Addr{}, false, false
	}
	// The quoted packet (IP header + at least 8 bytes) starts after the 8-byte header.
	q := b[8:]
	var proto uint8
	var t []byte
	if v6 {
		if len(q) < 40+8 || q[0]>>4 != 6 {
			return key{}, netip.Addr{}, false, false
		}
		proto = q[6]
		innerDst = netip.AddrFrom16([16]byte(q[24:40]))
		t = q[40:]
	} else {
		if len(q) < 20 || q[0]>>4 != 4 {
			return key{}, netip.Addr{}, false, false
		}
		hl := int(q[0]&0x0f) * 4
		if hl < 20 || len(q) < hl+8 {
			return key{}, netip.Addr{}, false, false
		}
		proto = q[9]
		innerDst = netip.AddrFrom4([4]byte(q[16:20]))
		t = q[hl:]
	}
	switch {
	case proto == echoProto && ((!v6 && t[0] == 8) || (v6 && t[0] == 128)):
		return key{echoProto, binary.BigEndian.Uint16(t[4:6]), binary.BigEndian.Uint16(t[6:8])}, innerDst, false, true
	case proto == protoTCP:
		return key{protoTCP, binary.BigEndian.Uint16(t[0:2]), 0}, innerDst, false, true
	}
	return key{}, netip.Addr{}, false, false
}
