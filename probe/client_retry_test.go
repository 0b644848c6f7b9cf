package probe_test

import (
	"context"
	"testing"
	"time"

	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/probe/scoutertest"
)

// TestAgentsThatCloseAfterEveryAnswer: issue 18 item 6. Upstream Scouter under uWSGI
// closes the connection after every answer without "Connection: close"; a request
// sent on the kept-alive connection meets a reset. The agents here take 4 tests per
// POST, so the first POST of every source (5 pings and 5 traceroutes) is refused with
// 400 "too many tests" and the re-split POST follows on the connection that answered
// the 400: the case that read "unreachable: submit tests: connection reset by peer"
// for whole rows. Every sweep, over one client that keeps connections alive, must
// measure every pair.
func TestAgentsThatCloseAfterEveryAnswer(t *testing.T) {
	servers, agents := fleet(t, 6, scoutertest.Config{MaxTests: 4, OneAnswerPerConn: true, EchoIDs: true,
		TestDuration: 20 * time.Millisecond})
	hc := probe.DefaultHTTPClient() // one client (and connection pool) for every sweep, as live has
	for i := range 3 {
		sw := probe.Run(context.Background(), agents, probe.Options{Secret: secret, Count: 1, HTTPClient: hc,
			Kinds: probe.KindPing | probe.KindTraceroute}, nil)
		if len(sw.Pings) != 30 || len(sw.Traces) != 30 {
			t.Fatalf("sweep %d: %d pings and %d traces, want 30 each", i, len(sw.Pings), len(sw.Traces))
		}
		for _, r := range sw.Pings {
			if r.Err != "" {
				t.Errorf("sweep %d: ping %s→%s: %s", i, r.Src, r.DstPop, r.Err)
			}
		}
		for _, r := range sw.Traces {
			if r.Err != "" {
				t.Errorf("sweep %d: trace %s→%s: %s", i, r.Src, r.DstPop, r.Err)
			}
		}
		for _, a := range sw.Agents {
			if a.Error != "" {
				t.Errorf("sweep %d: agent %s: %s %s", i, a.Name, a.State, a.Error)
			}
		}
	}
	var reused, refused int64
	for _, s := range servers {
		reused += s.Reused.Load()
		refused += s.Refused.Load()
	}
	// Else the test proves nothing: the client never met a closed connection.
	if reused == 0 || refused == 0 {
		t.Errorf("%d requests on used connections, %d POSTs refused as too large: the test did not exercise the case", reused, refused)
	}
	t.Logf("%d requests met a closed connection and were sent again", reused)
}
