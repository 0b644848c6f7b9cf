package netprobe

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// sock is one ICMP socket (raw: a mux's, shared; datagram: one echo session's), written
// and read through its file descriptor so that the send time is read right before
// sendto(2) and every answer carries the kernel's receive time. A user-space reader may
// wake long after the answer arrived (a busy host, a goroutine waiting for a thread):
// ping(8) and mtr avoid that delay in the RTT the same way.
type sock struct {
	pc  *icmp.PacketConn
	rc  syscall.RawConn
	v6  bool
	hdr bool // reads start with the IPv4 header (raw IPv4 sockets)
	p4  *ipv4.PacketConn
	p6  *ipv6.PacketConn
	// stampErr says why the kernel does not stamp what this socket receives (nil: it
	// does); answers then end at our read (rxTime.user).
	stampErr error
}

// oobSize holds the control messages a read asks for: the receive time (a timespec)
// and the TTL or hop limit (an int), with room to spare.
var oobSize = unix.CmsgSpace(16) + unix.CmsgSpace(4) + 64

// openSock opens an ICMP socket: network "ip4:icmp" / "ip6:ipv6-icmp" (raw) or "udp4" /
// "udp6" (unprivileged datagram), asks for the TTL of what it receives and, with
// stamps, for the kernel's receive time.
func openSock(network, addr string, stamps bool) (*sock, error) {
	pc, err := icmp.ListenPacket(network, addr)
	if err != nil {
		return nil, err
	}
	s := &sock{pc: pc, v6: network == "ip6:ipv6-icmp" || network == "udp6"}
	s.hdr = network == "ip4:icmp"
	// The ipv4/ipv6 PacketConn carries the socket's net.PacketConn (*net.IPConn or, for
	// datagram sockets, a *net.UDPConn), whose RawConn reaches the file descriptor.
	var inner net.PacketConn
	if s.v6 {
		s.p6 = pc.IPv6PacketConn()
		inner = s.p6.PacketConn
		err = s.p6.SetControlMessage(ipv6.FlagHopLimit, true)
	} else {
		s.p4 = pc.IPv4PacketConn()
		inner = s.p4.PacketConn
		err = s.p4.SetControlMessage(ipv4.FlagTTL, true)
	}
	if err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("ask for the TTL of ICMP answers (%s): %w", network, err)
	}
	sc, ok := inner.(syscall.Conn)
	if !ok {
		_ = pc.Close()
		return nil, fmt.Errorf("ICMP socket (%s): %T has no file descriptor", network, inner)
	}
	if s.rc, err = sc.SyscallConn(); err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("ICMP socket (%s): %w", network, err)
	}
	s.stampErr = errors.New("off")
	if stamps {
		s.stampErr = enableRxStamps(s.rc)
	}
	return s, nil
}

func (s *sock) close() error { return s.pc.Close() }

// send writes b to sa and returns the time read right before sendto(2), so that no
// wait before it (the socket's lock, a full send buffer: the write is retried and the
// time read again) lands in the RTT.
func (s *sock) send(b []byte, sa unix.Sockaddr) (time.Time, error) {
	var (
		sent time.Time
		err  error
	)
	werr := s.rc.Write(func(fd uintptr) bool {
		for {
			sent = time.Now()
			err = unix.Sendto(int(fd), b, 0, sa)
			if err != unix.EINTR {
				return err != unix.EAGAIN
			}
		}
	})
	if werr != nil {
		return sent, werr
	}
	if err != nil {
		return sent, os.NewSyscallError("sendto", err)
	}
	return sent, nil
}

// packet is one received ICMP message.
type packet struct {
	b    []byte     // the ICMP message (header and body); nil if the read was malformed
	from netip.Addr // invalid if the source was not an IP address
	ttl  int        // TTL or hop limit of the answer's IP header, 0 if unknown
	rx   rxTime
}

// recv reads one ICMP message into buf (oob: a buffer of oobSize for the control
// messages). It blocks until one arrives or the socket is closed.
func (s *sock) recv(buf, oob []byte) (packet, error) {
	var (
		n, oobn int
		from    unix.Sockaddr
		err     error
		at      time.Time
	)
	rerr := s.rc.Read(func(fd uintptr) bool {
		for {
			n, oobn, _, from, err = unix.Recvmsg(int(fd), buf, oob, 0)
			// The fallback's end of the RTT: right after the read returned.
			at = time.Now()
			if err != unix.EINTR {
				return err != unix.EAGAIN
			}
		}
	})
	if rerr != nil {
		return packet{}, rerr
	}
	if err != nil {
		return packet{}, os.NewSyscallError("recvmsg", err)
	}
	p := packet{b: buf[:n], rx: rxTime{user: at}}
	switch sa := from.(type) {
	case *unix.SockaddrInet4:
		p.from = netip.AddrFrom4(sa.Addr)
	case *unix.SockaddrInet6:
		p.from = netip.AddrFrom16(sa.Addr).Unmap()
	}
	if s.hdr {
		// A raw IPv4 socket reads the IP header too (IPv6 raw sockets never do).
		if n < 20 || int(buf[0]&0x0f)*4 < 20 || int(buf[0]&0x0f)*4 > n {
			p.b = nil
		} else {
			p.b = buf[int(buf[0]&0x0f)*4 : n]
		}
	}
	if oobn > 0 {
		c := oob[:oobn]
		if s.v6 {
			var cm ipv6.ControlMessage
			if cm.Parse(c) == nil {
				p.ttl = cm.HopLimit
			}
		} else {
			var cm ipv4.ControlMessage
			if cm.Parse(c) == nil {
				p.ttl = cm.TTL
			}
		}
		if k, ok := rxStamp(c); ok {
			p.rx.kernel = k
		}
	}
	return p, nil
}

// sockaddrOf is the address sendto(2) takes for dst (an IPv6 zone becomes the
// interface index).
func sockaddrOf(dst netip.Addr) (unix.Sockaddr, error) {
	if dst.Is4() {
		return &unix.SockaddrInet4{Addr: dst.As4()}, nil
	}
	sa := &unix.SockaddrInet6{Addr: dst.As16()}
	if z := dst.Zone(); z != "" {
		if ifi, err := net.InterfaceByName(z); err == nil {
			sa.ZoneId = uint32(ifi.Index)
		} else if i, perr := strconv.ParseUint(z, 10, 32); perr == nil {
			sa.ZoneId = uint32(i)
		} else {
			return nil, fmt.Errorf("zone of %s: %w", dst, err)
		}
	}
	return sa, nil
}
