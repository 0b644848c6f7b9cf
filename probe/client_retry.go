package probe

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
)

// send does req (whose body, if any, is body) and sends it once more, on a new
// connection, when it failed on a reused connection before any byte of an answer came
// back. Upstream Scouter runs under uWSGI, which closes the connection after every
// answer without saying "Connection: close": a request that follows on the kept-alive
// connection (a re-split POST right after a 400 "too many tests", a poll) meets a
// closed socket and fails with a reset or EOF. That is no outage, and the agent never
// saw the request, so it is safe to send again. Go's transport already does this for
// GET; POST and DELETE are ours to retry.
func send(hc *http.Client, req *http.Request, body []byte) (*http.Response, error) {
	var reused, answered atomic.Bool
	trace := &httptrace.ClientTrace{
		GotConn:              func(info httptrace.GotConnInfo) { reused.Store(info.Reused) },
		GotFirstResponseByte: func() { answered.Store(true) },
	}
	ctx := req.Context()
	resp, err := hc.Do(req.WithContext(httptrace.WithClientTrace(ctx, trace)))
	if err == nil || !reused.Load() || answered.Load() || ctx.Err() != nil {
		return resp, err
	}
	again := req.Clone(ctx)
	again.Body, again.GetBody = nil, nil
	if body != nil {
		again.Body = io.NopCloser(bytes.NewReader(body))
	}
	fresh := *hc
	fresh.Transport = freshTransport(hc.Transport)
	return fresh.Do(again)
}

// freshTransport is rt without connection reuse (a copy: retries are rare, and a copy
// that keeps no connection leaves nothing behind); a RoundTripper that is not an
// *http.Transport is returned as it is (we cannot tell it to dial anew).
func freshTransport(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	t, ok := rt.(*http.Transport)
	if !ok {
		return rt
	}
	f := t.Clone()
	f.DisableKeepAlives = true
	return f
}
