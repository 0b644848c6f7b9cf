package probe_test

import (
	"bytes"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/probe/scoutertest"
)

// amplifying builds issue 23 item 1's answers: valid JSON of about size bytes whose
// decoded form costs up to ~190x its size.
func amplifying(size int, head, elem, tail string) []byte {
	var b bytes.Buffer
	b.WriteString(head)
	for b.Len() < size-len(tail)-len(elem)-1 {
		if b.Len() > len(head) {
			b.WriteByte(',')
		}
		b.WriteString(elem)
	}
	b.WriteString(tail)
	return b.Bytes()
}

// TestHostileAnswersAreBoundedDecoded: an agent that refuses batches as too large
// ("Max: 1") and answers every receipt with 8 MiB of empty entries, running or done, or
// of traceroute hops, took snapshot past 1.4 GB (issue 23 item 1). Each answer is now
// refused before it is decoded, its pairs get an error that says what it held, the
// healthy agent's pairs are measured, and the whole sweep allocates a few MB.
func TestHostileAnswersAreBoundedDecoded(t *testing.T) {
	hop := `{"ttl":1,"src":"198.18.0.9","hostname":"h","asn":1,"rtt_ms":1,"no_response":false}`
	for _, tt := range []struct {
		name   string
		kinds  probe.Kind
		answer []byte
		want   string
	}{
		// 8 MiB: more bytes than the answer to one test can take.
		{"done with 8 MiB of empty ping entries", probe.KindPing,
			amplifying(8<<20, `{"is_running":false,"results":{"ping":[`, `{}`, `]}}`), "answer larger than 37 KiB"},
		{"running with 8 MiB of empty ping entries", probe.KindPing,
			amplifying(8<<20, `{"is_running":true,"results":{"ping":[`, `{}`, `]}}`), "answer larger than 37 KiB"},
		{"8 MiB of traceroute hops", probe.KindTraceroute,
			amplifying(8<<20, `{"is_running":false,"results":{"traceroute":[{"id":"x","result":{"dst":"198.18.0.2","trace":[`, hop, `]}}]}}`), "answer larger than 64 KiB"},
		// Within the byte cap, but more entries or hops than were asked for.
		{"done with empty ping entries", probe.KindPing,
			amplifying(30<<10, `{"is_running":false,"results":{"ping":[`, `{}`, `]}}`), "ping results for 1 ping tests sent"},
		{"running with empty ping entries", probe.KindPing,
			amplifying(30<<10, `{"is_running":true,"results":{"ping":[`, `{}`, `]}}`), "ping results for 1 ping tests sent"},
		{"traceroute hops", probe.KindTraceroute,
			amplifying(30<<10, `{"is_running":false,"results":{"traceroute":[{"id":"x","result":{"dst":"198.18.0.2","trace":[`, hop, `]}}]}}`), "hops in one traceroute of max_ttl 32"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			polls := 0
			hostile := func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("Content-Type", "application/json")
				switch {
				case r.Method == http.MethodPost && strings.Contains(readBody(r), `},{`):
					w.WriteHeader(http.StatusBadRequest)
					_, _ = w.Write([]byte(`{"error":"Provided number of tests is too high. Max: 1"}`))
				case r.Method == http.MethodPost:
					_, _ = w.Write([]byte(`{"receipt":"0123456789abcdef0123456789abcdef"}`))
				case r.Method == http.MethodGet:
					polls++
					_, _ = w.Write(tt.answer)
				default:
					_, _ = w.Write([]byte(`{"message":"Provided 'receipt' has been successfully deleted."}`))
				}
				return true
			}
			bad := scoutertest.New(scoutertest.Config{Secret: secret, Raw: hostile})
			t.Cleanup(bad.Close)
			_, good := fleet(t, 3, scoutertest.Config{})
			src := mesh.Agent{Name: "scouter-bad-0", Pop: "bad", Address: "198.18.0.50", URL: bad.URL}
			opts := probe.Options{Secret: secret, Kinds: tt.kinds, MaxTests: 10, Targets: append([]mesh.Agent{src}, good...)}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			sw := probe.Run(t.Context(), []mesh.Agent{src}, opts, nil)
			runtime.ReadMemStats(&after)
			if polls == 0 {
				t.Fatal("the hostile agent was never polled")
			}
			if n := len(sw.Pings) + len(sw.Traces); n != 3 || polls < 3 {
				t.Fatalf("%d results, %d polls; want 3 of each (one a batch after Max: 1)", n, polls)
			}
			for _, r := range sw.Pings {
				if !strings.Contains(r.Err, tt.want) {
					t.Errorf("ping %s: error %q, want %q", r.Dst, r.Err, tt.want)
				}
			}
			for _, r := range sw.Traces {
				if !strings.Contains(r.Err, tt.want) {
					t.Errorf("trace %s: error %q, want %q", r.Dst, r.Err, tt.want)
				}
			}
			// The server side wrote 8 MiB answers from one slice; the client read at
			// most its cap of each. Decoded whole, one answer alone allocated 1.4 GB.
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("the sweep allocated %d KiB", alloc>>10)
			if alloc > 64<<20 {
				t.Errorf("the sweep allocated %d MiB", alloc>>20)
			}
		})
	}
}

// TestHealthyPairsBesideAHostileAgent: the hostile agent's pairs fail, the healthy
// agent's ping it and are measured.
func TestHealthyPairsBesideAHostileAgent(t *testing.T) {
	answer := amplifying(30<<10, `{"is_running":false,"results":{"ping":[`, `{}`, `]}}`)
	hostile := scoutertest.New(scoutertest.Config{Secret: secret, Raw: rawResult(string(answer[len(`{"is_running":false,"results":`) : len(answer)-1]))})
	t.Cleanup(hostile.Close)
	_, good := fleet(t, 2, scoutertest.Config{})
	agents := append(good, good[0])
	agents[2].Name, agents[2].Pop, agents[2].Address, agents[2].URL = "scouter-bad-0", "bad", "198.18.0.50", hostile.URL
	sw := probe.Run(t.Context(), agents, probe.Options{Secret: secret}, nil)
	bad, ok := 0, 0
	for _, r := range sw.Pings {
		switch {
		case r.Src == "scouter-bad-0" && strings.Contains(r.Err, "ping results for"):
			bad++
		case r.Src != "scouter-bad-0" && r.Err == "":
			ok++
		default:
			t.Errorf("%s -> %s: %q", r.Src, r.Dst, r.Err)
		}
	}
	if bad != 2 || ok != 4 {
		t.Errorf("%d refused hostile pairs (want 2), %d healthy pairs measured (want 4)", bad, ok)
	}
}

func readBody(r *http.Request) string {
	var b bytes.Buffer
	_, _ = b.ReadFrom(http.MaxBytesReader(nil, r.Body, 1<<20))
	return b.String()
}
