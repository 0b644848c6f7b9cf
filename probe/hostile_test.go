package probe_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/probe/scoutertest"
)

// hostileError is issue 10's error body: it sets the terminal title, clears the screen
// and starts a new line when printed raw.
const hostileError = `{"error":"bad \u001b]0;T\u0007\u001b[2J\nx"}`

func controlFree(t *testing.T, what, s string) {
	t.Helper()
	if strings.ContainsAny(s, "\x1b\x07\n\r\x9b\x9d") {
		t.Errorf("%s carries control characters: %q", what, s)
	}
}

// sweepOne runs a two-agent sweep where agent 0 is served by cfg.
func sweepOne(t *testing.T, cfg scoutertest.Config, opts probe.Options) probe.Sweep {
	t.Helper()
	cfg.Secret = secret
	bad := scoutertest.New(cfg)
	t.Cleanup(bad.Close)
	_, good := fleet(t, 1, scoutertest.Config{})
	agents := []mesh.Agent{{Name: "scouter-bad-0", Pop: "bad", Address: "198.18.0.50", URL: bad.URL}, good[0]}
	opts.Secret = secret
	opts.Targets = agents
	return probe.Run(context.Background(), []mesh.Agent{agents[0]}, opts, nil)
}

func TestHostileErrorBodyIsSanitised(t *testing.T) {
	sw := sweepOne(t, scoutertest.Config{Raw: func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(hostileError))
		return true
	}}, probe.Options{})
	if len(sw.Agents) != 1 || len(sw.Pings) != 1 {
		t.Fatalf("agents %d pings %d", len(sw.Agents), len(sw.Pings))
	}
	controlFree(t, "agent error", sw.Agents[0].Error)
	controlFree(t, "pair error", sw.Pings[0].Err)
	if !strings.Contains(sw.Pings[0].Err, "bad ]0;T[2J x") {
		t.Errorf("the message's text should survive without its escapes: %q", sw.Pings[0].Err)
	}
}

func TestHostileResultStringsAreSanitised(t *testing.T) {
	evil := "evil\x1b]0;pwned\x07\x1b[2J\r\nhost"
	sw := sweepOne(t, scoutertest.Config{
		EchoIDs: true,
		Trace: func(dst string) []scoutertest.Hop {
			return []scoutertest.Hop{{Addr: evil, ASN: 64500, RTT: 1}, {Addr: dst, ASN: 64501, RTT: 2}}
		},
	}, probe.Options{Kinds: probe.KindPing | probe.KindTraceroute})
	if len(sw.Traces) != 1 || sw.Traces[0].Err != "" {
		t.Fatalf("traces %+v", sw.Traces)
	}
	for _, h := range sw.Traces[0].Hops {
		controlFree(t, "hop address", h.Addr)
		controlFree(t, "hop name", h.Name)
	}
}

func TestRedirectIsRefusedWithoutSendingTheSecret(t *testing.T) {
	var leaked atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
		w.WriteHeader(http.StatusTeapot)
	}))
	t.Cleanup(elsewhere.Close)
	sw := sweepOne(t, scoutertest.Config{Raw: func(w http.ResponseWriter, r *http.Request) bool {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
		return true
	}}, probe.Options{})
	if leaked.Load() != 0 {
		t.Fatal("the secret followed the redirect")
	}
	st := sw.Agents[0]
	if st.State != mesh.StateError || !strings.Contains(st.Error, "redirect") || !strings.Contains(st.Error, elsewhere.URL) {
		t.Errorf("state %s error %q; want a refused redirect naming where it pointed", st.State, st.Error)
	}
	if strings.Contains(st.Error, secret) {
		t.Error("error leaks the secret")
	}
}

func TestHugeAnswerIsCalledTooLarge(t *testing.T) {
	sw := sweepOne(t, scoutertest.Config{Raw: func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		// Valid JSON as far as it goes: cut at the limit it would read as "not JSON".
		_, _ = w.Write([]byte(`{"is_running":false,"results":{"ping":[{"id":"`))
		chunk := []byte(strings.Repeat("a", 1<<20))
		for range 9 {
			if _, err := w.Write(chunk); err != nil {
				break
			}
		}
		return true
	}}, probe.Options{})
	st := sw.Agents[0]
	// The cap is what the tests sent could take (one ping: tens of KiB), not 8 MiB.
	if !strings.Contains(st.Error, "answer larger than") || !strings.Contains(st.Error, "KiB") || strings.Contains(st.Error, "not Scouter JSON") {
		t.Errorf("error %q; want it called larger than the answer to one ping can be", st.Error)
	}
}

func TestImplausibleCountIsThePairsError(t *testing.T) {
	for _, sent := range []string{"1e15", "1e10", "-3"} {
		t.Run(sent, func(t *testing.T) {
			sw := sweepOne(t, scoutertest.Config{Raw: rawResult(`{"ping":[{"id":"mt-0","failed":false,"message":null,"result":{"dst":"198.18.0.1","sent":` + sent + `,"loss":0,"replies":[{"seq":0,"rtt_ms":1}],"rtt":{"min":"1","avg":"1","max":"1"}}}]}`)}, probe.Options{})
			if len(sw.Pings) != 1 || !strings.Contains(sw.Pings[0].Err, "implausible value: sent") {
				t.Fatalf("pings %+v; want the pair's error to name sent", sw.Pings)
			}
		})
	}
}

func TestStuckAgentIsNotUnreachable(t *testing.T) {
	sw := sweepOne(t, scoutertest.Config{TestDuration: time.Hour}, probe.Options{Timeout: 300 * time.Millisecond})
	st := sw.Agents[0]
	if st.State == mesh.StateUnreachable || !strings.Contains(st.Error, "still running after") {
		t.Errorf("state %s error %q", st.State, st.Error)
	}
	if !strings.Contains(sw.Pings[0].Err, "still running after") {
		t.Errorf("pair error %q", sw.Pings[0].Err)
	}
}

// rawResult makes an agent that accepts any POST and answers every poll with results.
func rawResult(results string) func(http.ResponseWriter, *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		switch r.Method {
		case http.MethodPost:
			_, _ = w.Write([]byte(`{"receipt":"0123456789abcdef0123456789abcdef"}`))
		case http.MethodDelete:
			_, _ = w.Write([]byte(`{"message":"Provided 'receipt' has been successfully deleted."}`))
		default:
			_, _ = w.Write([]byte(`{"is_running":false,"receipt":"0123456789abcdef0123456789abcdef","results":` + results + `}`))
		}
		return true
	}
}
