package netprobe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ProbeTCP sends one TCP SYN to dst:port with the given TTL through an ordinary connect,
// and waits up to timeout: a SYN-ACK or RST means the destination answered; an ICMP
// time-exceeded or unreachable quoting our SYN (seen on the shared raw ICMP socket,
// matched by our local port) is a router's answer. Using connect instead of crafting the
// SYN keeps the kernel's TCP state consistent (no stray RSTs to fight) and needs no raw
// TCP socket; the price is that the SYN carries no payload.
//
// The probe's time starts right before connect(2) (the end of the dialer's Control).
// A router's ICMP answer ends at the kernel's receive time, as for echo probes; the
// destination's SYN-ACK or RST ends when the connect returned to us, in user space: the
// kernel answers the connect itself and gives no receive time for it.
func (e *Engine) ProbeTCP(ctx context.Context, dst netip.Addr, port, ttl int, timeout time.Duration) (Answer, error) {
	dst = dst.Unmap()
	m, err := e.muxFor(dst)
	if err != nil {
		return Answer{}, err
	}
	w := &waiter{dst: dst, ch: make(chan Answer, 1)}
	var k key
	registered := false
	// The send time, read in the dial's goroutine right before connect(2) follows; a
	// channel, since the answer that needs it comes through the mux's reader.
	sentc := make(chan time.Time, 1)
	d := net.Dialer{Control: func(network, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = prepareSYN(int(fd), dst.Is6(), ttl, &k) })
		if err == nil {
			err = serr
		}
		if err == nil {
			err = m.register(k, w)
			registered = err == nil
		}
		if err == nil {
			select {
			case sentc <- time.Now():
			default: // one connect per dial: never, but never block a dial on it
			}
		}
		return err
	}}
	network := "tcp4"
	if dst.Is6() {
		network = "tcp6"
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		at  time.Time
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := d.DialContext(dctx, network, netip.AddrPortFrom(dst, uint16(port)).String())
		at := time.Now()
		if c != nil {
			_ = c.Close()
		}
		done <- result{at, err}
	}()
	finish := func() {
		if registered {
			m.unregister(k)
		}
	}
	select {
	case a := <-w.ch:
		cancel()
		<-done
		finish()
		// Only a registered waiter gets answers, and Control sends the time once it
		// registered.
		a.RTT, a.KernelStamp = a.rx.rtt(<-sentc)
		return a, nil
	case r := <-done:
		defer finish()
		switch {
		case r.err == nil || errors.Is(r.err, syscall.ECONNREFUSED):
			// Control ran: the connect got an answer.
			return Answer{From: dst, Reply: true, RTT: max(0, r.at.Sub(<-sentc))}, nil
		case ctx.Err() != nil:
			return Answer{}, ctx.Err()
		case !registered:
			return Answer{}, fmt.Errorf("TCP probe to %s port %d: %w", dst, port, r.err)
		}
		var ne net.Error
		if errors.As(r.err, &ne) && ne.Timeout() {
			// Nothing came in time; an answer the reader holds at this moment counts.
			select {
			case a := <-w.ch:
				a.RTT, a.KernelStamp = a.rx.rtt(<-sentc)
				return a, nil
			default:
				return Answer{}, nil
			}
		}
		// Another error: Linux ends a connect in SYN_SENT when an ICMP error about the
		// SYN arrives (a router's time exceeded or unreachable). The raw socket got
		// its copy of that message first, but its reader, which every probe shares,
		// may not have read it yet on a busy host: wait for it within the probe's time
		// rather than call the hop silent.
		select {
		case a := <-w.ch:
			a.RTT, a.KernelStamp = a.rx.rtt(<-sentc)
			return a, nil
		case <-dctx.Done():
			if ctx.Err() != nil {
				return Answer{}, ctx.Err()
			}
			return Answer{}, nil
		}
	}
}

// prepareSYN sets the TTL of the socket, binds it to an ephemeral port so the port is
// known before the SYN leaves (it is the key that matches ICMP errors), and makes Close
// send a RST instead of lingering.
func prepareSYN(fd int, v6 bool, ttl int, k *key) error {
	var err error
	if v6 {
		err = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, ttl)
	} else {
		err = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_TTL, ttl)
	}
	if err != nil {
		return fmt.Errorf("set TTL %d: %w", ttl, err)
	}
	var sa unix.Sockaddr = &unix.SockaddrInet4{}
	if v6 {
		sa = &unix.SockaddrInet6{}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fmt.Errorf("bind TCP probe socket: %w", err)
	}
	lsa, err := unix.Getsockname(fd)
	if err != nil {
		return fmt.Errorf("read TCP probe port: %w", err)
	}
	var port int
	switch a := lsa.(type) {
	case *unix.SockaddrInet4:
		port = a.Port
	case *unix.SockaddrInet6:
		port = a.Port
	}
	*k = key{protoTCP, uint16(port), 0}
	return unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
}
