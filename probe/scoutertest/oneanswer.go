package scoutertest

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// oneAnswer wraps h like upstream Scouter's uWSGI: one answer per connection, after
// which the connection is closed without a "Connection: close" to warn the client. A
// client that keeps the connection alive sends its next request into the close. To
// make that race certain instead of a matter of timing, the connection is held until
// the next request's first bytes arrive, and then reset (closed with the request
// unread), which is what the client meets when uWSGI's close crosses its request.
type oneAnswer struct {
	h http.Handler
	s *Server

	mu    sync.Mutex
	conns map[net.Conn]bool // hijacked, waiting for a request to refuse
}

func (o *oneAnswer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	o.h.ServeHTTP(rec, r)
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("scoutertest: OneAnswerPerConn needs an HTTP/1 server")
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return
	}
	res := rec.Result()
	body := rec.Body.Bytes()
	fmt.Fprintf(rw, "HTTP/1.1 %d %s\r\n", res.StatusCode, http.StatusText(res.StatusCode))
	res.Header.Del("Connection")
	res.Header.Set("Content-Length", fmt.Sprint(len(body)))
	_ = res.Header.Write(rw)
	_, _ = rw.WriteString("\r\n")
	_, _ = rw.Write(body)
	if rw.Flush() != nil {
		conn.Close()
		return
	}
	o.mu.Lock()
	o.conns[conn] = true
	o.mu.Unlock()
	go o.refuseNext(conn, rw.Reader)
}

// refuseNext waits for a next request on conn and resets the connection under it.
func (o *oneAnswer) refuseNext(conn net.Conn, rd *bufio.Reader) {
	defer func() {
		o.mu.Lock()
		delete(o.conns, conn)
		o.mu.Unlock()
	}()
	_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := rd.Peek(1); err == nil {
		o.s.Reused.Add(1)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // a reset, as a close with unread data gives
	}
	conn.Close()
}

// close ends every connection still held.
func (o *oneAnswer) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for c := range o.conns {
		c.Close()
	}
}
