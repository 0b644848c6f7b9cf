// Package metrics exposes meshtop serve's state to Prometheus: per-pair gauges read from
// the live store at scrape time (so a pair that leaves the mesh leaves /metrics too),
// per-agent state, sweep duration and lag, tests sent and failed, the recorder's backlog
// and dropped points, and SSH sessions.
package metrics

import (
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/meshtop/meshtop/live"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
)

// Options shape the metrics.
type Options struct {
	Store *mesh.Store
	// Interval is the ping sweep interval; lag is measured against it.
	Interval time.Duration
	// PerPair exports the per-pair gauges (pairs x 5 series); off for very large meshes.
	PerPair bool
	// Recorder, when set, is asked for its backlog and drops at scrape time.
	Recorder interface {
		Status() (backlog int, dropped int64, lastErr error)
	}
	// Stats, when set, is the loop's schedule (live.Loop.Stats): sources behind, the
	// oldest measurement's age, and its view of the lag.
	Stats func() live.Stats
	// Sessions, when set, counts open SSH sessions at scrape time.
	Sessions func() int
	// Now is the clock (tests).
	Now func() time.Time
}

// Metrics is the registry and what feeds it.
type Metrics struct {
	o   Options
	reg *prometheus.Registry

	testsSent   *prometheus.CounterVec
	testsFailed *prometheus.CounterVec
	sweeps      prometheus.Counter
	duration    prometheus.Histogram
	lastSweep   prometheus.Gauge

	mu        sync.Mutex
	lastStart time.Time
}

// New registers every metric.
func New(o Options) *Metrics {
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Metrics{o: o, reg: prometheus.NewRegistry()}
	m.testsSent = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "meshtop_tests_total", Help: "Tests whose result came back or failed, by kind (ping, traceroute).",
	}, []string{"kind"})
	m.testsFailed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "meshtop_tests_failed_total", Help: "Tests that could not be measured (agent down, per-test error) or whose ping got nothing back.",
	}, []string{"kind"})
	m.sweeps = prometheus.NewCounter(prometheus.CounterOpts{Name: "meshtop_sweeps_total", Help: "Finished sweeps."})
	m.duration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "meshtop_sweep_duration_seconds", Help: "How long a sweep took, start to last result.",
		Buckets: []float64{1, 2, 5, 10, 20, 30, 60, 120, 300},
	})
	m.lastSweep = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "meshtop_last_sweep_timestamp_seconds", Help: "Start time of the last finished sweep (Unix seconds).",
	})
	for _, kind := range []string{"ping", "traceroute"} {
		m.testsSent.WithLabelValues(kind)
		m.testsFailed.WithLabelValues(kind)
	}
	m.reg.MustRegister(m.testsSent, m.testsFailed, m.sweeps, m.duration, m.lastSweep, &stateCollector{m},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is where the metrics live (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{MaxRequestsInFlight: 4, Timeout: 10 * time.Second})
}

// Hooks count tests and sweeps; chain them before the feed (live.Feed.Hooks).
func (m *Metrics) Hooks() live.Hooks {
	return live.Hooks{
		Event: func(e probe.Event) {
			switch e := e.(type) {
			case probe.PingEvent:
				m.testsSent.WithLabelValues("ping").Inc()
				if e.Result.Err != "" || e.Result.Failed {
					m.testsFailed.WithLabelValues("ping").Inc()
				}
			case probe.TraceEvent:
				m.testsSent.WithLabelValues("traceroute").Inc()
				if e.Result.Err != "" {
					m.testsFailed.WithLabelValues("traceroute").Inc()
				}
			}
		},
		Done: func(sw probe.Sweep) {
			if len(sw.Pings) == 0 && len(sw.Traces) > 0 {
				return // a traceroute sweep, on its own clock: sweeps here are the pings'
			}
			m.sweeps.Inc()
			m.duration.Observe(max(0, m.o.Now().Sub(sw.Time).Seconds()))
			m.lastSweep.Set(float64(sw.Time.UnixMilli()) / 1000)
			m.mu.Lock()
			m.lastStart = sw.Time
			m.mu.Unlock()
		},
	}
}

// stateCollector reads the store and the recorder at scrape time.
type stateCollector struct{ m *Metrics }

var (
	descPair    = map[string]*prometheus.Desc{}
	descAgentUp = prometheus.NewDesc("meshtop_agent_up",
		"1 when the agent could be used in its last sweep, 0 when it failed (state says how).",
		[]string{"agent", "pop", "state"}, nil)
	descLag = prometheus.NewDesc("meshtop_sweep_lag_seconds",
		"How far sweeps are behind schedule: now - last finished sweep's start - interval, or how much a source's pass outlasts the interval, whichever is more (0 when on time).",
		nil, nil)
	descBacklog = prometheus.NewDesc("meshtop_recorder_backlog_points",
		"Points waiting to be written to InfluxDB (--record).", nil, nil)
	descDropped = prometheus.NewDesc("meshtop_recorder_dropped_points_total",
		"Points the recorder dropped because its buffer was full (--record).", nil, nil)
	descSessions = prometheus.NewDesc("meshtop_ssh_sessions", "Open SSH sessions.", nil, nil)
	descBehind   = prometheus.NewDesc("meshtop_sources_behind",
		"Source agents whose pings cannot be measured every interval (a recent ping pass took longer; traceroutes, on their own clock, do not count).", nil, nil)
	descOldest = prometheus.NewDesc("meshtop_oldest_measurement_age_seconds",
		"Age bound of every pair's newest measurement: time since the least recent pass of any source began.", nil, nil)
	descPairs = prometheus.NewDesc("meshtop_pairs", "PoP pairs with data in the store.", nil, nil)
)

// pairGauges are the per-pair series: name, help, and how to read them from a cell.
var pairGauges = []struct {
	name, help string
	value      func(c *mesh.Cell) float64
}{
	{"meshtop_pair_latency_seconds", "Average RTT of the pair's last sweep (absent when the last test failed: see meshtop_pair_failed).", metricValue(mesh.Latency, 0.001)},
	{"meshtop_pair_jitter_seconds", "Jitter (mean absolute difference of successive RTTs) of the last sweep.", metricValue(mesh.JitterMs, 0.001)},
	{"meshtop_pair_jitter_percent", "Jitter as a percentage of the average RTT, last sweep (the grid's jitter %).", metricValue(mesh.JitterPct, 1)},
	{"meshtop_pair_loss_percent", "Packet loss now, percent: the grid's, over the probes since the pair's loss rate last changed (100 when the last test failed).", metricValue(mesh.Loss, 1)},
	{"meshtop_pair_failed", "1 when the pair's last test failed (nothing came back) or could not be measured.", func(c *mesh.Cell) float64 {
		if c.Last.Failed || c.Err != "" {
			return 1
		}
		return 0
	}},
}

// metricValue reads a metric's last value, scaled to the exported unit (Prometheus wants
// seconds, the grid shows ms).
func metricValue(metric mesh.Metric, scale float64) func(c *mesh.Cell) float64 {
	return func(c *mesh.Cell) float64 {
		v, failed := c.Value(metric, mesh.Last)
		if failed && !metric.CountsFailed() {
			return math.NaN()
		}
		return v * scale
	}
}

func init() {
	for _, g := range pairGauges {
		descPair[g.name] = prometheus.NewDesc(g.name, g.help, []string{"src_pop", "dst_pop"}, nil)
	}
}

func (s *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range descPair {
		ch <- d
	}
	ch <- descAgentUp
	ch <- descLag
	ch <- descBacklog
	ch <- descDropped
	ch <- descSessions
	ch <- descPairs
	ch <- descBehind
	ch <- descOldest
}

func (s *stateCollector) Collect(ch chan<- prometheus.Metric) {
	o := s.m.o
	if o.Store != nil {
		mx := o.Store.Matrix()
		pairs := 0
		for _, src := range mx.Pops {
			for _, dst := range mx.Pops {
				c := mx.Cell(src, dst)
				if c == nil || c.Samples == 0 {
					continue
				}
				pairs++
				if !o.PerPair {
					continue
				}
				for _, g := range pairGauges {
					// A value that is not there (a failed test's latency) is left out rather
					// than exported as NaN or 0: 0 would read as "fast".
					if v := g.value(c); !math.IsNaN(v) {
						ch <- prometheus.MustNewConstMetric(descPair[g.name], prometheus.GaugeValue, v, src, dst)
					}
				}
			}
		}
		ch <- prometheus.MustNewConstMetric(descPairs, prometheus.GaugeValue, float64(pairs))
		for _, a := range mx.Agents {
			up := 1.0
			if a.State.Failing() {
				up = 0
			}
			state := string(a.State)
			if state == "" {
				state = "unknown"
			}
			ch <- prometheus.MustNewConstMetric(descAgentUp, prometheus.GaugeValue, up, a.Name, a.Pop, state)
		}
	}
	s.m.mu.Lock()
	last := s.m.lastStart
	s.m.mu.Unlock()
	var st live.Stats
	if o.Stats != nil {
		st = o.Stats()
		ch <- prometheus.MustNewConstMetric(descBehind, prometheus.GaugeValue, float64(st.Behind))
		ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, st.OldestAge.Seconds())
	}
	if !last.IsZero() {
		// Behind schedule either way: the last sweep started too long ago (a stuck loop),
		// or passes take longer than the interval (the loop's own lag).
		lag := max(o.Now().Sub(last)-o.Interval, st.Lag, 0)
		ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, lag.Seconds())
	}
	if o.Recorder != nil {
		backlog, dropped, _ := o.Recorder.Status()
		ch <- prometheus.MustNewConstMetric(descBacklog, prometheus.GaugeValue, float64(backlog))
		ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(dropped))
	}
	if o.Sessions != nil {
		ch <- prometheus.MustNewConstMetric(descSessions, prometheus.GaugeValue, float64(o.Sessions()))
	}
}
