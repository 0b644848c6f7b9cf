//go:build linux

package lab

import (
	"encoding/binary"
	"net/netip"
)

// The forwarder reads raw IPv4 packets from TUN devices. It needs only a handful of
// header fields and must rewrite TTL and build ICMP errors, so it works on the bytes
// directly: golang.org/x/net/ipv4's Header round-trips through host-order quirks and
// allocations that buy nothing here.

const (
	ipv4HeaderMin   = 20
	protoICMP       = 1
	icmpTimeExceed  = 11
	icmpEchoRequest = 8
	icmpEchoReply   = 0
)

// ipv4Packet is a validated view of an IPv4 packet.
type ipv4Packet struct {
	b      []byte
	hdrLen int
}

// parseIPv4 checks that b holds a whole IPv4 packet with a sane header.
func parseIPv4(b []byte) (ipv4Packet, bool) {
	if len(b) < ipv4HeaderMin || b[0]>>4 != 4 {
		return ipv4Packet{}, false
	}
	hl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:4]))
	if hl < ipv4HeaderMin || total < hl || total > len(b) {
		return ipv4Packet{}, false
	}
	return ipv4Packet{b: b[:total], hdrLen: hl}, true
}

func (p ipv4Packet) ttl() int        { return int(p.b[8]) }
func (p ipv4Packet) proto() int      { return int(p.b[9]) }
func (p ipv4Packet) src() netip.Addr { return netip.AddrFrom4([4]byte(p.b[12:16])) }
func (p ipv4Packet) dst() netip.Addr { return netip.AddrFrom4([4]byte(p.b[16:20])) }
func (p ipv4Packet) payload() []byte { return p.b[p.hdrLen:] }

// fragOffset is the fragment offset; only the first fragment (0) may cause ICMP errors.
func (p ipv4Packet) fragOffset() int { return int(binary.BigEndian.Uint16(p.b[6:8]) & 0x1fff) }

// isICMPError reports whether the packet is itself an ICMP error, which a router must
// never answer with another ICMP error (RFC 1812 4.3.2.7).
func (p ipv4Packet) isICMPError() bool {
	if p.proto() != protoICMP || len(p.payload()) < 1 {
		return false
	}
	switch p.payload()[0] {
	case 3, 4, 5, 11, 12:
		return true
	}
	return false
}

// setTTL rewrites the TTL and the header checksum in place.
func (p ipv4Packet) setTTL(ttl int) {
	p.b[8] = byte(ttl)
	p.b[10], p.b[11] = 0, 0
	binary.BigEndian.PutUint16(p.b[10:12], checksum(p.b[:p.hdrLen]))
}

// checksum is the Internet checksum (RFC 1071).
func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// quoteLen is how much of the expired packet the ICMP error quotes: its header and the
// first 8 bytes of payload (RFC 792), which carry the ICMP echo id/seq or the TCP and
// UDP ports that tracers match replies by.
func quoteLen(p ipv4Packet) int {
	return min(len(p.b), p.hdrLen+8)
}

// timeExceeded builds the ICMP time exceeded (TTL exceeded in transit) that router
// address from sends back to the source of the expired packet p. ttl is the TTL of the
// answer as it reaches the source.
func timeExceeded(p ipv4Packet, from netip.Addr, ttl int, id uint16) []byte {
	q := p.b[:quoteLen(p)]
	icmpLen := 8 + len(q)
	total := ipv4HeaderMin + icmpLen
	b := make([]byte, total)
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:4], uint16(total))
	binary.BigEndian.PutUint16(b[4:6], id)
	b[8] = byte(ttl)
	b[9] = protoICMP
	src := from.As4()
	dst := p.src().As4()
	copy(b[12:16], src[:])
	copy(b[16:20], dst[:])
	binary.BigEndian.PutUint16(b[10:12], checksum(b[:ipv4HeaderMin]))
	icmp := b[ipv4HeaderMin:]
	icmp[0] = icmpTimeExceed
	icmp[1] = 0 // TTL exceeded in transit
	copy(icmp[8:], q)
	binary.BigEndian.PutUint16(icmp[2:4], checksum(icmp))
	return b
}
