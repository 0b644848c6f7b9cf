package probe_test

import (
	"context"
	"fmt"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/probe/scoutertest"
)

const secret = "s3cret-for-tests"

// fleet starts n fake agents in n PoPs (p00, p01, ...) and returns them with their agents.
func fleet(t testing.TB, n int, cfg scoutertest.Config) ([]*scoutertest.Server, []mesh.Agent) {
	t.Helper()
	var servers []*scoutertest.Server
	var agents []mesh.Agent
	for i := range n {
		c := cfg
		if c.Secret == "" {
			c.Secret = secret
		}
		s := scoutertest.New(c)
		t.Cleanup(s.Close)
		servers = append(servers, s)
		agents = append(agents, mesh.Agent{
			Name: fmt.Sprintf("scouter-p%02d-0", i), Pop: fmt.Sprintf("p%02d", i),
			// Addresses are only strings to the fake agents: nothing is ever sent to them.
			Address: fmt.Sprintf("198.18.0.%d", i+1), URL: s.URL,
		})
	}
	return servers, agents
}

func TestSweepCompleteMesh(t *testing.T) {
	for _, n := range []int{3, 10, 40} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			servers, agents := fleet(t, n, scoutertest.Config{MaxTests: 10})
			var progress []probe.ProgressEvent
			sw := probe.Run(context.Background(), agents, probe.Options{Secret: secret, Count: 5}, func(e probe.Event) {
				if p, ok := e.(probe.ProgressEvent); ok {
					progress = append(progress, p)
				}
			})
			if got, want := len(sw.Pings), n*(n-1); got != want {
				t.Fatalf("pings: got %d, want %d", got, want)
			}
			seen := map[mesh.Pair]bool{}
			for _, r := range sw.Pings {
				if r.Err != "" {
					t.Fatalf("%s->%s: unexpected error %q", r.SrcPop, r.DstPop, r.Err)
				}
				if r.Failed || r.AvgRTT <= 0 || r.Sent != 5 || r.Recv != 5 || !r.Time.Equal(sw.Time) {
					t.Fatalf("bad result %+v", r)
				}
				seen[mesh.Pair{Src: r.SrcPop, Dst: r.DstPop}] = true
			}
			if len(seen) != n*(n-1) {
				t.Fatalf("distinct pairs: %d, want %d", len(seen), n*(n-1))
			}
			last := progress[len(progress)-1]
			if last.Done != last.Total || last.Total != n*(n-1) {
				t.Fatalf("progress ended at %+v", last)
			}
			for i, s := range servers {
				wantPosts := int64(math.Ceil(float64(n-1) / 10))
				if s.MaxBatch.Load() > 10 || s.Posts.Load() != wantPosts {
					t.Errorf("agent %d: max batch %d, posts %d (want <= 10, %d)", i, s.MaxBatch.Load(), s.Posts.Load(), wantPosts)
				}
				if s.Deletes.Load() != s.Posts.Load() {
					t.Errorf("agent %d: %d receipts deleted of %d", i, s.Deletes.Load(), s.Posts.Load())
				}
			}
			for _, a := range sw.Agents {
				if a.State != mesh.StateOK || a.Error != "" {
					t.Errorf("agent %s: %s %s", a.Name, a.State, a.Error)
				}
			}
		})
	}
}

func TestSweepResplitsOnAgentMaximum(t *testing.T) {
	servers, agents := fleet(t, 12, scoutertest.Config{MaxTests: 4})
	sw := probe.Run(context.Background(), agents, probe.Options{Secret: secret, MaxTests: 30}, nil)
	if len(sw.Pings) != 12*11 {
		t.Fatalf("pings %d", len(sw.Pings))
	}
	for _, r := range sw.Pings {
		if r.Err != "" {
			t.Fatalf("error after re-split: %s", r.Err)
		}
	}
	for _, s := range servers {
		if s.Refused.Load() == 0 || s.MaxBatch.Load() > 4 {
			t.Fatalf("refused %d, max batch %d", s.Refused.Load(), s.MaxBatch.Load())
		}
	}
}

func TestSweepTraceroute(t *testing.T) {
	_, agents := fleet(t, 3, scoutertest.Config{EchoIDs: true})
	sw := probe.Run(context.Background(), agents, probe.Options{Secret: secret, Kinds: probe.KindPing | probe.KindTraceroute}, nil)
	if len(sw.Traces) != 6 || len(sw.Pings) != 6 {
		t.Fatalf("traces %d pings %d", len(sw.Traces), len(sw.Pings))
	}
	tr := sw.Traces[0]
	if tr.Err != "" || len(tr.Hops) != 3 || !tr.Hops[1].NoResponse || tr.ASPath != "64500 * 64501" || tr.FinalHopTTL != 3 || tr.FinalHopRTT != 20 || tr.Failed {
		t.Fatalf("trace %+v", tr)
	}
}

// TestSweepFailuresStayLocal: each broken agent gives a clear error naming it, and every
// other agent's results are intact.
func TestSweepFailuresStayLocal(t *testing.T) {
	_, good := fleet(t, 3, scoutertest.Config{})
	wrong := scoutertest.New(scoutertest.Config{Secret: "another"})
	t.Cleanup(wrong.Close)
	garbage := scoutertest.New(scoutertest.Config{Secret: secret, Mode: scoutertest.Garbage})
	t.Cleanup(garbage.Close)
	html := scoutertest.New(scoutertest.Config{Secret: secret, Mode: scoutertest.HTMLPage})
	t.Cleanup(html.Close)
	fivexx := scoutertest.New(scoutertest.Config{Secret: secret, Mode: scoutertest.Status500})
	t.Cleanup(fivexx.Close)
	// A dead agent: a port that was listening and is closed now.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + l.Addr().String()
	l.Close()

	bad := []struct {
		name, url string
		state     mesh.AgentState
		want      string
	}{
		{"scouter-wrong-0", wrong.URL, mesh.StateAuthFailed, "refused the secret"},
		{"scouter-garbage-0", garbage.URL, mesh.StateError, "not Scouter JSON"},
		{"scouter-html-0", html.URL, mesh.StateError, "text/html"},
		{"scouter-5xx-0", fivexx.URL, mesh.StateError, "HTTP 500"},
		{"scouter-dead-0", deadURL, mesh.StateUnreachable, "connection refused"},
	}
	agents := append([]mesh.Agent{}, good...)
	for i, b := range bad {
		agents = append(agents, mesh.Agent{Name: b.name, Pop: strings.Split(b.name, "-")[1], Address: fmt.Sprintf("198.18.1.%d", i+1), URL: b.url})
	}
	sw := probe.Run(context.Background(), agents, probe.Options{Secret: secret, Timeout: 20 * time.Second}, nil)
	states := map[string]mesh.AgentStatus{}
	for _, a := range sw.Agents {
		states[a.Name] = a
	}
	for _, b := range bad {
		st := states[b.name]
		if st.State != b.state || !strings.Contains(st.Error, b.want) || !strings.Contains(st.Error, b.name) {
			t.Errorf("%s: state %s error %q; want %s containing %q and the agent's name", b.name, st.State, st.Error, b.state, b.want)
		}
		if strings.Contains(st.Error, secret) {
			t.Errorf("%s: error leaks the secret", b.name)
		}
		if strings.Contains(st.Error, "\n") {
			t.Errorf("%s: error is not one line: %q", b.name, st.Error)
		}
	}
	// Good agents measured every target, the bad ones' addresses included (the fake
	// agents answer for any address).
	measured := 0
	for _, r := range sw.Pings {
		if states[r.Src].State == mesh.StateOK {
			if r.Err != "" {
				t.Errorf("good agent %s -> %s: %s", r.Src, r.DstPop, r.Err)
			}
			measured++
		} else if r.Err == "" {
			t.Errorf("bad agent %s produced a measurement", r.Src)
		}
	}
	if want := 3 * (len(agents) - 1); measured != want {
		t.Errorf("good agents measured %d pairs, want %d", measured, want)
	}
}

func TestSweepPerTestMessageAndLoss(t *testing.T) {
	_, agents := fleet(t, 2, scoutertest.Config{RTT: func(dst string, count int) []float64 {
		if dst == "198.18.0.2" {
			return []float64{10, -1, 14, -1, 12} // 40% loss
		}
		return []float64{-1, -1, -1, -1, -1}
	}})
	// A target without an address makes the agent answer with a per-test message.
	targets := append(agents[:2:2], mesh.Agent{Name: "nowhere", Pop: "zzz"})
	sw := probe.Run(context.Background(), agents, probe.Options{Secret: secret, Targets: targets}, nil)
	byPair := map[string]mesh.PingResult{}
	for _, r := range sw.Pings {
		byPair[r.Src+">"+r.DstPop] = r
	}
	lossy := byPair["scouter-p00-0>p01"]
	if lossy.LossPct != 40 || lossy.Recv != 3 || lossy.AvgRTT != 12 || lossy.JitterMs != 3 || lossy.Probes[1] != 0 || lossy.Probes[2] != 14 {
		t.Errorf("lossy pair: %+v", lossy)
	}
	dead := byPair["scouter-p01-0>p00"]
	if !dead.Failed || dead.AvgRTT != 0 || dead.JitterPct != 100 || dead.LossPct != 100 || dead.Err != "" {
		t.Errorf("100%% loss pair: %+v", dead)
	}
	msg := byPair["scouter-p00-0>zzz"]
	if !strings.Contains(msg.Err, "'dst' was not given") {
		t.Errorf("per-test message: %+v", msg)
	}
}

func TestSweepSlowAgentHoldsNobodyBack(t *testing.T) {
	_, fast := fleet(t, 2, scoutertest.Config{})
	slow := scoutertest.New(scoutertest.Config{Secret: secret, TestDuration: time.Hour})
	t.Cleanup(slow.Close)
	agents := append(fast, mesh.Agent{Name: "scouter-slow-0", Pop: "slow", Address: "198.18.0.99", URL: slow.URL})
	sw := probe.Run(context.Background(), agents, probe.Options{Secret: secret, Timeout: 500 * time.Millisecond}, nil)
	for _, a := range sw.Agents {
		switch {
		case a.Name == "scouter-slow-0" && (a.State == mesh.StateUnreachable || !strings.Contains(a.Error, "still running after")):
			// It answered every poll with is_running: true: slow, not unreachable.
			t.Errorf("slow agent: %s %s", a.State, a.Error)
		case a.Name != "scouter-slow-0" && a.State != mesh.StateOK:
			t.Errorf("%s: %s %s", a.Name, a.State, a.Error)
		}
	}
	if len(sw.Pings) != 6 {
		t.Fatalf("pings %d", len(sw.Pings))
	}
}

// BenchmarkSweep50 reports the sweep wall time of 50 agents whose tests each take a fixed
// T, divided by T (target <= 1.1).
func BenchmarkSweep50(b *testing.B) {
	const T = 5 * time.Second // a 5-probe ping at upstream's 1 probe/s
	_, agents := fleet(b, 50, scoutertest.Config{TestDuration: T})
	b.ResetTimer()
	var total time.Duration
	for range b.N {
		start := time.Now()
		sw := probe.Run(context.Background(), agents, probe.Options{Secret: secret}, nil)
		total += time.Since(start)
		if len(sw.Pings) != 50*49 {
			b.Fatalf("pings %d", len(sw.Pings))
		}
	}
	b.ReportMetric(float64(total)/float64(b.N)/float64(T), "wall/T")
}

// TestFailedPairGoesAlone: a pair whose last ping failed is pinged in a POST of its own
// next time, beside the others' POST even when the agent gets one batch at a time (its
// window had shrunk), so the others' results do not wait for its lost probes.
func TestFailedPairGoesAlone(t *testing.T) {
	dead := "198.18.0.2"
	servers, agents := fleet(t, 4, scoutertest.Config{
		TestTime: func(_, dst string, _ int) time.Duration {
			if dst == dead {
				return 300 * time.Millisecond
			}
			return 100 * time.Millisecond
		},
		RTT: func(dst string, count int) []float64 {
			out := make([]float64, count)
			for i := range out {
				out[i] = 10
				if dst == dead {
					out[i] = -1
				}
			}
			return out
		}})
	src := probe.NewSource(agents[0])
	opts := probe.Options{Secret: secret, Count: 1, Window: 1}
	if st := src.Pass(context.Background(), agents, opts, probe.Stamp{}, nil); st.Error != "" {
		t.Fatal(st.Error)
	}
	posts, most := servers[0].Posts.Load(), servers[0].MaxReceipts.Load()
	if posts != 1 || most != 1 {
		t.Fatalf("first pass: %d POSTs, %d receipts at once; want 1 (nothing failed yet)", posts, most)
	}
	var got []probe.Event
	if st := src.Pass(context.Background(), agents, opts, probe.Stamp{}, func(e probe.Event) { got = append(got, e) }); st.Error != "" {
		t.Fatal(st.Error)
	}
	if n := servers[0].Posts.Load() - posts; n != 2 {
		t.Errorf("second pass: %d POSTs, want 2 (the failed pair alone, the others together)", n)
	}
	if n := servers[0].MaxReceipts.Load(); n != 2 {
		t.Errorf("second pass: %d receipts at once, want 2 (the failed pair's beside the others')", n)
	}
	if len(got) != 3 {
		t.Errorf("second pass: %d results, want 3", len(got))
	}
}
