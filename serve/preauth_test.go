package serve

import (
	"log/slog"
	"net"
	"testing"
	"time"
)

type fakeConn struct {
	net.Conn
	remote net.Addr
	closed bool
}

func (c *fakeConn) RemoteAddr() net.Addr { return c.remote }
func (c *fakeConn) Close() error         { c.closed = true; return nil }

// TestPreAuthDropsTheOldest: the budget drops, never refuses: a source over its share
// displaces its own oldest connection, a full budget the oldest of the source holding
// the most; a connection that logged in leaves the budget.
func TestPreAuthDropsTheOldest(t *testing.T) {
	p := &preauth{max: 4, perSource: 2, log: slog.New(slog.DiscardHandler), now: time.Now}
	conn := func(ip string) (*pendingConn, *fakeConn) {
		fc := &fakeConn{remote: &net.TCPAddr{IP: net.ParseIP(ip), Port: 1}}
		return &pendingConn{Conn: fc, p: p, src: ip}, fc
	}
	admit := func(pc *pendingConn) *fakeConn {
		if v := p.admit(pc); v != nil {
			_ = v.Close()
			return v.Conn.(*fakeConn)
		}
		return nil
	}
	a1, fa1 := conn("10.0.0.1")
	a2, _ := conn("10.0.0.1")
	a3, _ := conn("10.0.0.1")
	if admit(a1) != nil || admit(a2) != nil {
		t.Fatal("dropped within the budget")
	}
	if v := admit(a3); v != fa1 {
		t.Fatalf("a source over its share must displace its own oldest; dropped %v", v)
	}
	b1, _ := conn("10.0.0.2")
	c1, _ := conn("10.0.0.3")
	if admit(b1) != nil || admit(c1) != nil {
		t.Fatal("dropped within the budget")
	}
	// Full (a2, a3, b1, c1): a newcomer displaces the oldest of 10.0.0.1 (holds two).
	d1, _ := conn("10.0.0.4")
	if v := admit(d1); v == nil || v.remote.String() != "10.0.0.1:1" {
		t.Fatalf("dropped %v, want 10.0.0.1's oldest", v)
	}
	// A login leaves the budget: room for one more without a drop.
	b1.loggedIn()
	e1, _ := conn("10.0.0.5")
	if v := admit(e1); v != nil {
		t.Fatalf("dropped %v after a login made room", v)
	}
	if p.Pending() != 4 || p.dropped != 2 {
		t.Errorf("pending %d dropped %d", p.Pending(), p.dropped)
	}
}
