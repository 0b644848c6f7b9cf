package agent

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Deliberate differences from upstream: recv is filled in (upstream leaves it null by
// mistake); the status page says how the agent pings and its limits.
var (
	knownPing    = map[string]string{"$.results.ping[].result.recv": "int"}
	statusExtras = []string{"$.ping_method", "$.traceroute", "$.max_test_count", "$.max_process_count"}
)

// TestContractWithUpstream sends the requests of SPEC appendix A to a real agent on a
// loopback port (real pings of 127.0.0.1) and compares every answer with the recorded
// upstream answer: same keys, sorted, same JSON value types, same texts.
func TestContractWithUpstream(t *testing.T) {
	needRoot(t)
	asnDB, err := OpenASNDB(writeASNDB(t, map[string]uint32{"127.0.0.0/8": 64511}))
	if err != nil {
		t.Fatal(err)
	}
	defer asnDB.Close()
	a, base := startAgent(t, func(c *Config) { c.MaxProcs = 1; c.ASN = asnDB })
	if a.Method() != "raw socket" {
		t.Fatalf("agent as root pings by %q, want raw socket", a.Method())
	}
	tests := base + "/api/v1.0/tests"

	t.Run("ping", func(t *testing.T) {
		// Hold the only pool slot so the first GET sees the tests running.
		slot, _ := a.pool.acquire(context.Background(), "test")
		post := call(t, http.MethodPost, tests, testSecret, `{"ping":[{"dst":"127.0.0.1","count":3}]}`)
		if post.code != 200 || post.ctype != "application/json" {
			t.Fatalf("POST: %d %s %s", post.code, post.ctype, post.body)
		}
		sameShape(t, "post_receipt.json", post.body, nil)
		var rc struct{ Receipt string }
		_ = json.Unmarshal(post.body, &rc)
		running := call(t, http.MethodGet, tests+"?receipt="+rc.Receipt, testSecret, "")
		sameShape(t, "tests_running_ping.json", running.body, nil)
		a.pool.release(slot, 0, false)
		done := waitDone(t, base, rc.Receipt)
		sameShape(t, "tests_done_ping.json", done, knownPing)
		var res struct {
			Results struct {
				Ping []struct {
					Failed bool
					Result struct {
						Sent, Recv int
						Loss       float64
						Replies    []struct{ Seq, TTL, Len int }
					}
				}
			}
		}
		if err := json.Unmarshal(done, &res); err != nil || len(res.Results.Ping) != 1 {
			t.Fatalf("done answer: %v %s", err, done)
		}
		p := res.Results.Ping[0]
		if p.Failed || p.Result.Sent != 3 || p.Result.Recv != 3 || p.Result.Loss != 0 || len(p.Result.Replies) != 3 {
			t.Errorf("ping of 127.0.0.1 as root: %s", done)
		}
		for i, r := range p.Result.Replies {
			if r.Seq != i || r.Len != 64 || r.TTL != 64 {
				t.Errorf("reply %d = %+v, want seq %d len 64 ttl 64", i, r, i)
			}
		}
	})

	t.Run("count abc", func(t *testing.T) {
		id := postTests(t, base, `{"ping":[{"dst":"127.0.0.1","count":"abc","id":"ec094f"}]}`)
		done := waitDone(t, base, id)
		sameShape(t, "tests_done_count_abc.json", done, nil)
		want := strings.Replace(string(readUpstream(t, "tests_done_count_abc.json")), "7fb6c2d0e4a14e0f9a3b5c6d7e8f9309", id, 1)
		if strings.TrimSpace(string(done)) != strings.TrimSpace(want) {
			t.Errorf("answer\n%s\nupstream\n%s", done, want)
		}
	})

	t.Run("traceroute", func(t *testing.T) {
		id := postTests(t, base, `{"traceroute":[{"dst":"127.0.0.1"}]}`)
		done := waitDone(t, base, id)
		sameShape(t, "tests_done_traceroute.json", done, nil)
		var res struct {
			Results struct {
				Traceroute []struct {
					Failed bool
					Result struct {
						Failed bool
						Trace  []struct {
							TTL      int
							Src      string
							Hostname string
							ASN      int
						}
					}
				}
			}
		}
		_ = json.Unmarshal(done, &res)
		tr := res.Results.Traceroute
		if len(tr) != 1 || tr[0].Failed || tr[0].Result.Failed || len(tr[0].Result.Trace) != 1 {
			t.Fatalf("traceroute of 127.0.0.1: %s", done)
		}
		if h := tr[0].Result.Trace[0]; h.TTL != 1 || h.Src != "127.0.0.1" || h.Hostname != "127.0.0.1" || h.ASN != 64511 {
			t.Errorf("hop = %+v, want ttl 1 from 127.0.0.1, hostname the address (--rdns=false), ASN 64511", h)
		}
	})

	// meshtop's `probes` option: upstream's shape plus each hop's probes.
	t.Run("traceroute with probes", func(t *testing.T) {
		id := postTests(t, base, `{"traceroute":[{"dst":"127.0.0.1","probes":3}]}`)
		done := waitDone(t, base, id)
		sameShape(t, "tests_done_traceroute.json", done, nil, "$.results.traceroute[].result.trace[].probes")
		var res struct {
			Results struct {
				Traceroute []struct {
					Result struct {
						Trace []struct {
							Src    string
							Probes []*struct {
								Src   string
								RTTms float64 `json:"rtt_ms"`
							}
						}
					}
				}
			}
		}
		_ = json.Unmarshal(done, &res)
		tr := res.Results.Traceroute
		if len(tr) != 1 || len(tr[0].Result.Trace) != 1 || len(tr[0].Result.Trace[0].Probes) != 3 {
			t.Fatalf("traceroute of 127.0.0.1 with 3 probes per hop: %s", done)
		}
		for i, p := range tr[0].Result.Trace[0].Probes {
			if p == nil || p.Src != "127.0.0.1" || p.RTTms <= 0 {
				t.Errorf("probe %d = %+v, want an answer of 127.0.0.1", i, p)
			}
		}
	})

	t.Run("errors", func(t *testing.T) {
		eleven := `{"ping":[` + strings.Repeat(`{"dst":"127.0.0.1"},`, 6) + `{}],"traceroute":[` + strings.Repeat(`{},`, 3) + `{}]}`
		for _, c := range []struct {
			name, method, url, body, file string
			code                          int
		}{
			{"too many tests", http.MethodPost, tests, eleven, "too_many_tests.json", 400},
			{"null body", http.MethodPost, tests, "null", "null_body.json", 400},
			{"unknown receipt", http.MethodGet, tests + "?receipt=0123456789abcdef0123456789abcdef", "", "receipt_not_found.json", 404},
			{"unknown receipt (DELETE)", http.MethodDelete, tests + "?receipt=0123456789abcdef0123456789abcdef", "", "receipt_not_found.json", 404},
			{"no receipt", http.MethodGet, tests, "", "receipt_missing.json", 400},
			{"empty receipt", http.MethodGet, tests + "?receipt=", "", "receipt_empty.json", 400},
		} {
			got := call(t, c.method, c.url, testSecret, c.body)
			want := readUpstream(t, c.file)
			if got.code != c.code || got.ctype != "application/json" || strings.TrimSpace(string(got.body)) != strings.TrimSpace(string(want)) {
				t.Errorf("%s: %d %s %s, want %d %s", c.name, got.code, got.ctype, got.body, c.code, want)
			}
		}
		id := postTests(t, base, `{"ping":[{}]}`)
		got := call(t, http.MethodDelete, tests+"?receipt="+id, testSecret, "")
		if want := readUpstream(t, "receipt_deleted.json"); got.code != 200 || strings.TrimSpace(string(got.body)) != strings.TrimSpace(string(want)) {
			t.Errorf("DELETE: %d %s, want 200 %s", got.code, got.body, want)
		}
		if got := call(t, http.MethodGet, tests+"?receipt="+id, testSecret, ""); got.code != 404 {
			t.Errorf("GET after DELETE: %d %s, want 404", got.code, got.body)
		}
	})

	t.Run("status", func(t *testing.T) {
		got := call(t, http.MethodGet, base+"/api/v1.0/status", testSecret, "")
		if got.code != 200 {
			t.Fatalf("status: %d %s", got.code, got.body)
		}
		sameShape(t, "status.json", got.body, nil, statusExtras...)
		var st struct {
			PingMethod    string `json:"ping_method"`
			TotalRequests int    `json:"total_requests"`
			WorkerStatus  []struct {
				Requests int
				Status   string
				RSS      int64
			} `json:"worker_status"`
		}
		_ = json.Unmarshal(got.body, &st)
		if st.PingMethod != "raw socket" || st.TotalRequests < 10 || len(st.WorkerStatus) != 1 || st.WorkerStatus[0].Requests < 2 || st.WorkerStatus[0].Status != "idle" || st.WorkerStatus[0].RSS <= 0 {
			t.Errorf("status = %s", got.body)
		}
	})
}

// TestHopShapes renders an answering and a silent hop and compares them with appendix A.
func TestHopShapes(t *testing.T) {
	path := writeASNDB(t, map[string]uint32{"198.18.77.0/24": 64511})
	asn, err := OpenASNDB(path)
	if err != nil {
		t.Fatal(err)
	}
	defer asn.Close()
	a, _ := startAgent(t, func(c *Config) { c.ASN = asn })
	hops := a.hopsOut(context.Background(), []hop{{ttl: 1, addr: mustAddr("198.18.77.3"), rtt: 48600}, {ttl: 2}}, false)
	for i, file := range []string{"hop.json", "silent_hop.json"} {
		b, _ := json.Marshal(hops[i])
		sameShape(t, file, b, nil)
		if want := strings.TrimSpace(string(readUpstream(t, file))); string(b) != want {
			t.Errorf("hop %d = %s, want %s", i, b, want)
		}
	}
}
