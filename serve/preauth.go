package serve

import (
	"log/slog"
	"net"
	"sync"
	"time"
)

// Before a client has logged in it costs a goroutine and a handshake's buffers, and
// holds a place that a key holder may need. A listener that refused connections past a
// limit (or left them in the kernel's backlog) let 500 idle TCP connects delay a key
// holder's login by 200 s. So the budget of connections that have not logged in is
// kept by dropping, never by refusing: when a source holds its share, its own oldest
// goes; when the whole budget is in use, the oldest connection of the source holding
// the most goes. A flood from one address only ever displaces itself; a key holder's
// login (a few round trips) is displaced only by a flood from more addresses than the
// budget, each faster than the login. Every such connection is also closed after
// HandshakeTimeout.

// Defaults of the pre-auth budget.
const (
	DefaultPreAuth          = 64 // connections not yet logged in, all sources together
	DefaultPreAuthPerSource = 8  // of them from one address (NAT: a few colleagues at once)
)

// preauth tracks the connections that have not logged in, oldest first.
type preauth struct {
	max, perSource int
	log            *slog.Logger
	now            func() time.Time

	mu      sync.Mutex
	pending []*pendingConn
	dropped int64
	lastLog time.Time
	unlog   int64 // drops since the last log line
}

// pendingConn is an accepted connection until it logs in or closes.
type pendingConn struct {
	net.Conn
	p    *preauth
	src  string
	once sync.Once
}

// preauthListener applies the budget to what it accepts.
type preauthListener struct {
	net.Listener
	p *preauth
}

func (l preauthListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	pc := &pendingConn{Conn: c, p: l.p, src: hostOf(c.RemoteAddr())}
	if victim := l.p.admit(pc); victim != nil {
		_ = victim.Close()
	}
	return pc, nil
}

// admit adds pc and returns the connection to drop to make room for it, if any.
func (p *preauth) admit(pc *pendingConn) *pendingConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	var victim *pendingConn
	perSrc := map[string]int{}
	for _, c := range p.pending {
		perSrc[c.src]++
	}
	switch {
	case perSrc[pc.src] >= p.perSource:
		for _, c := range p.pending { // its own oldest
			if c.src == pc.src {
				victim = c
				break
			}
		}
	case len(p.pending) >= p.max:
		most := 0
		for _, n := range perSrc {
			most = max(most, n)
		}
		for _, c := range p.pending { // oldest of the source holding the most
			if perSrc[c.src] == most {
				victim = c
				break
			}
		}
	}
	if victim != nil {
		p.removeLocked(victim)
		p.dropped++
		p.unlog++
		if now := p.now(); now.Sub(p.lastLog) >= 10*time.Second {
			p.log.Warn("ssh: pre-auth budget in use: dropped the oldest unauthenticated connection",
				"remote", victim.src, "dropped_since_last", p.unlog, "dropped_total", p.dropped,
				"budget", p.max, "per_source", p.perSource)
			p.lastLog, p.unlog = now, 0
		}
	}
	p.pending = append(p.pending, pc)
	return victim
}

func (p *preauth) removeLocked(pc *pendingConn) {
	for i, c := range p.pending {
		if c == pc {
			p.pending = append(p.pending[:i], p.pending[i+1:]...)
			return
		}
	}
}

// loggedIn takes the connection out of the budget: it is a key holder's now.
func (pc *pendingConn) loggedIn() {
	pc.once.Do(func() {
		pc.p.mu.Lock()
		pc.p.removeLocked(pc)
		pc.p.mu.Unlock()
	})
}

// Close implements net.Conn.
func (pc *pendingConn) Close() error {
	pc.loggedIn() // leaves the budget either way
	return pc.Conn.Close()
}

// Pending counts the connections that have not logged in.
func (p *preauth) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending)
}
