package metrics

import (
	"math"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
)

func testStore(t0 time.Time) *mesh.Store {
	s := mesh.NewStore(10)
	s.SetAgents([]mesh.AgentStatus{
		{Agent: mesh.Agent{Name: "a-0", Pop: "a"}, State: mesh.StateOK},
		{Agent: mesh.Agent{Name: "b-0", Pop: "b"}, State: mesh.StateOK},
		{Agent: mesh.Agent{Name: "c-0", Pop: "c"}, State: mesh.StateUnreachable, Error: "connection refused"},
	})
	s.AddPing(mesh.PingResult{Time: t0, Src: "a-0", SrcPop: "a", DstPop: "b", Sent: 5, AvgRTT: 250, MinRTT: 240, MaxRTT: 260,
		JitterMs: 5, JitterPct: 2, LossPct: 20})
	s.AddPing(mesh.PingResult{Time: t0, Src: "b-0", SrcPop: "b", DstPop: "a", Sent: 5, LossPct: 100, JitterPct: 100, Failed: true})
	s.AddPing(mesh.PingResult{Time: t0, Src: "c-0", SrcPop: "c", DstPop: "a", Err: "agent c-0: connection refused"})
	return s
}

type fakeRec struct{}

func (fakeRec) Status() (int, int64, error) { return 7, 3, nil }

func TestMetricsFromStore(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := t0.Add(5 * time.Minute)
	m := New(Options{Store: testStore(t0), Interval: time.Minute, PerPair: true, Recorder: fakeRec{},
		Sessions: func() int { return 4 }, Now: func() time.Time { return now }})
	h := m.Hooks()
	h.Event(probe.PingEvent{Result: mesh.PingResult{}})
	h.Event(probe.PingEvent{Result: mesh.PingResult{Failed: true}})
	h.Event(probe.TraceEvent{Result: mesh.TraceResult{Err: "x"}})
	h.Done(probe.Sweep{Time: t0.Add(4*time.Minute + 50*time.Second)})

	got := map[string]float64{}
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			var labels []string
			for _, l := range mt.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			key := mf.GetName() + "{" + strings.Join(labels, ",") + "}"
			switch {
			case mt.Gauge != nil:
				got[key] = mt.GetGauge().GetValue()
			case mt.Counter != nil:
				got[key] = mt.GetCounter().GetValue()
			}
		}
	}
	for key, want := range map[string]float64{
		"meshtop_pair_latency_seconds{dst_pop=b,src_pop=a}":   0.25,
		"meshtop_pair_jitter_seconds{dst_pop=b,src_pop=a}":    0.005,
		"meshtop_pair_jitter_percent{dst_pop=b,src_pop=a}":    2,
		"meshtop_pair_loss_percent{dst_pop=b,src_pop=a}":      20,
		"meshtop_pair_failed{dst_pop=b,src_pop=a}":            0,
		"meshtop_pair_failed{dst_pop=a,src_pop=b}":            1,
		"meshtop_pair_loss_percent{dst_pop=a,src_pop=b}":      100,
		"meshtop_agent_up{agent=c-0,pop=c,state=unreachable}": 0,
		"meshtop_agent_up{agent=a-0,pop=a,state=ok}":          1,
		"meshtop_tests_total{kind=ping}":                      2,
		"meshtop_tests_failed_total{kind=ping}":               1,
		"meshtop_tests_failed_total{kind=traceroute}":         1,
		"meshtop_recorder_backlog_points{}":                   7,
		"meshtop_recorder_dropped_points_total{}":             3,
		"meshtop_ssh_sessions{}":                              4,
		"meshtop_sweeps_total{}":                              1,
		"meshtop_sweep_lag_seconds{}":                         0, // 10 s after the sweep, interval 1 m: on time
		"meshtop_pairs{}":                                     2,
	} {
		if v, ok := got[key]; !ok || math.Abs(v-want) > 1e-9 {
			t.Errorf("%s = %v (present %v), want %v", key, v, ok, want)
		}
	}
	// A failed test has no latency: the series is absent, never a 0 that reads as fast.
	for _, key := range []string{"meshtop_pair_latency_seconds{dst_pop=a,src_pop=b}", "meshtop_pair_latency_seconds{dst_pop=a,src_pop=c}"} {
		if _, ok := got[key]; ok {
			t.Errorf("%s exported", key)
		}
	}
	// Lag grows once the next sweep is overdue.
	now = t0.Add(10 * time.Minute)
	if v := testutil.ToFloat64(&lagOnly{m}); math.Abs(v-(5*60+10-60)) > 1e-6 {
		t.Errorf("lag %v, want 250", v)
	}
}

// lagOnly collects just the lag gauge of m.
type lagOnly struct{ *Metrics }

func (l *lagOnly) Describe(ch chan<- *prometheus.Desc) { ch <- descLag }
func (l *lagOnly) Collect(ch chan<- prometheus.Metric) {
	c := make(chan prometheus.Metric, 100)
	(&stateCollector{l.Metrics}).Collect(c)
	close(c)
	for m := range c {
		if m.Desc() == descLag {
			ch <- m
		}
	}
}

func TestPerPairOff(t *testing.T) {
	m := New(Options{Store: testStore(time.Now()), Interval: time.Minute})
	n, err := testutil.GatherAndCount(m.Registry(), "meshtop_pair_latency_seconds", "meshtop_pair_failed", "meshtop_pairs")
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d series with per-pair off, want only meshtop_pairs", n)
	}
}

// TestAlertRules checks deploy/'s example rules with promtool and that every meshtop
// metric they use is one this package exports.
func TestAlertRules(t *testing.T) {
	rules, err := os.ReadFile("../deploy/prometheus/meshtop-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	m := New(Options{Store: testStore(time.Now()), Interval: time.Minute, PerPair: true, Recorder: fakeRec{}, Sessions: func() int { return 0 }})
	m.Hooks().Done(probe.Sweep{Time: time.Now()})
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, mf := range mfs {
		have[mf.GetName()] = true
	}
	for _, name := range regexp.MustCompile(`meshtop_[a-z_]+`).FindAllString(string(rules), -1) {
		if !have[name] {
			t.Errorf("rules use %s, which meshtop does not export", name)
		}
	}
	if _, err := exec.LookPath("promtool"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is not installed (scripts/test.sh installs Debian's prometheus)")
		}
		t.Skip("promtool is not installed")
	}
	for _, args := range [][]string{
		{"check", "rules", "meshtop-rules.yml"},
		{"test", "rules", "meshtop-rules.test.yml"},
	} {
		cmd := exec.Command("promtool", args...)
		cmd.Dir = "../deploy/prometheus"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}
