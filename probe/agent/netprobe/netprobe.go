// Package netprobe sends the packets of meshtop's agent: ICMP echo requests (ping and
// ICMP traceroute) and TCP SYNs with a chosen TTL (TCP traceroute), and matches every
// answer to the probe that caused it.
//
// With a raw ICMP socket (root or CAP_NET_RAW) one socket per address family is shared
// by every probe of the process; a reader goroutine hands each echo reply, time-exceeded
// or unreachable message to the waiting probe by (echo ID, sequence) or, for TCP, by the
// probe's local port quoted in the ICMP error. Every echo session owns an ID nobody else
// in the process holds, so two concurrent pings of the same destination never take each
// other's replies. Without raw sockets, where the system allows unprivileged ICMP
// datagram sockets (net.ipv4.ping_group_range), each echo session opens its own socket
// and the kernel does the demultiplexing; traceroute needs ICMP errors the kernel only
// gives to raw sockets, so it is not available in that mode.
//
// RTTs end at the kernel's receive time of the answer where the system gives one
// (SO_TIMESTAMPNS on Linux, as ping(8) and mtr use), not when our reader got to it: on a
// busy host a reader may wake milliseconds after the answer arrived. They start at
// time.Now() read right before sendto(2). See sock.go and rxtime.go.
package netprobe

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"
)

// Method is how the engine sends ICMP.
type Method string

// Methods.
const (
	MethodRaw      Method = "raw socket"
	MethodDatagram Method = "unprivileged datagram"
	MethodNone     Method = "unavailable"
)

// Answer is what came back for one probe. From is invalid when nothing came back.
type Answer struct {
	From netip.Addr
	// Reply is true for an echo reply, or a SYN-ACK/RST for a TCP probe: the destination
	// itself answered. False for time exceeded or unreachable from a router.
	Reply bool
	RTT   time.Duration // never negative
	TTL   int           // TTL (hop limit) of the answer's IP header, 0 if unknown
	Len   int           // bytes of the ICMP message (header + payload), 0 for TCP
	// KernelStamp is true when RTT ends at the kernel's receive time of the answer;
	// false when it ends when our read returned (no kernel stamp, a clock step, or a
	// TCP connect's answer).
	KernelStamp bool
	rx          rxTime
}

// ErrNoTraceroute is returned by traceroute probes when the engine has no raw socket.
var ErrNoTraceroute = errors.New("traceroute needs a raw ICMP socket: run the agent as root or give it CAP_NET_RAW")

// Engine owns the ICMP sockets of the process.
type Engine struct {
	method Method
	why    string // why raw sockets are not used (for the log), "" in raw mode
	v4, v6 *mux   // raw mode only; nil when that family could not be opened
	v6err  error
	opts   options
	rxWhy  string // why answers are not stamped by the kernel, "" when they are
	// keep is, in datagram mode, a socket with receive stamps on that lives as long as
	// the engine. Linux stamps packets on arrival only while some socket asks for it,
	// and switches that on in deferred work when none did: the first replies to a new
	// session's socket would otherwise be stamped when read. Raw mode's sockets live
	// as long.
	keep *sock

	idMu   sync.Mutex
	nextID uint16
	idUsed map[uint16]bool
}

// options are the engine's settings for tests.
type options struct {
	noStamps bool   // no kernel receive times: the user-space fallback alone
	hold     func() // called by every reader before each read (holds it back)
}

// Open picks the best method the system allows: a raw socket, else unprivileged ICMP
// datagram sockets, else none (every probe then fails with a clear error).
func Open() *Engine { return open(options{}) }

func open(o options) *Engine {
	e := &Engine{idUsed: map[uint16]bool{}, nextID: uint16(time.Now().UnixNano()), opts: o}
	v4, err4 := openMux(false, o)
	if err4 == nil {
		e.method, e.v4 = MethodRaw, v4
		e.v6, e.v6err = openMux(true, o)
		e.rxWhy = errText(v4.s.stampErr)
		return e
	}
	e.why = err4.Error()
	if s, err := openSock("udp4", "0.0.0.0", !o.noStamps); err == nil {
		e.rxWhy = errText(s.stampErr)
		e.keep = s
		e.method = MethodDatagram
		return e
	} else {
		e.why += "; unprivileged ICMP: " + err.Error()
	}
	e.method = MethodNone
	e.rxWhy = "no ICMP socket"
	return e
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Method says how pings are sent.
func (e *Engine) Method() Method { return e.method }

// Why explains, outside raw mode, why raw sockets could not be used.
func (e *Engine) Why() string { return e.why }

// RxTimes says where RTTs end, for the agent's log: at the kernel's receive time, or
// (and why) when our read returned.
func (e *Engine) RxTimes() string {
	if e.rxWhy == "" {
		return "kernel receive times (" + rxStampName + ")"
	}
	return "read times in user space (" + e.rxWhy + ")"
}

// Close releases the sockets.
func (e *Engine) Close() error {
	var errs []error
	for _, m := range []*mux{e.v4, e.v6} {
		if m != nil {
			errs = append(errs, m.close())
		}
	}
	if e.keep != nil {
		errs = append(errs, e.keep.close())
		e.keep = nil
	}
	return errors.Join(errs...)
}

func (e *Engine) muxFor(dst netip.Addr) (*mux, error) {
	if e.method != MethodRaw {
		return nil, ErrNoTraceroute
	}
	if dst.Is4() {
		return e.v4, nil
	}
	if e.v6 == nil {
		return nil, fmt.Errorf("no IPv6 raw ICMP socket: %w", e.v6err)
	}
	return e.v6, nil
}

// allocID hands out an echo ID no other live session of this process holds.
func (e *Engine) allocID() (uint16, error) {
	e.idMu.Lock()
	defer e.idMu.Unlock()
	for range 1 << 16 {
		id := e.nextID
		e.nextID++
		if !e.idUsed[id] {
			e.idUsed[id] = true
			return id, nil
		}
	}
	return 0, errors.New("all 65536 ICMP echo IDs are in use")
}

func (e *Engine) freeID(id uint16) {
	e.idMu.Lock()
	delete(e.idUsed, id)
	e.idMu.Unlock()
}
