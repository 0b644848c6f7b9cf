package mesh

import (
	"fmt"
	"strconv"
	"strings"
)

// Metric is what a grid cell shows.
type Metric int

// The metrics of SPEC 2, in the order the TUI cycles through them. A new metric is a
// constant here, a row in metricTable and its field in PingResult and Sample; everything
// else (parsing, help, keys, thresholds, InfluxDB fields and queries, folding, reducing,
// formatting) iterates over the table.
const (
	Latency   Metric = iota // avg_rtt_ms
	JitterPct               // jitter_pct
	JitterMs                // jitter_ms
	Loss                    // loss_pct
	numMetrics
)

// MetricSpec is everything meshtop knows about one metric.
type MetricSpec struct {
	Name    string   // flag and config name: latency
	Aliases []string // also accepted by ParseMetric (the InfluxDB field always is)
	Field   string   // field of the InfluxDB ping measurement
	Title   string   // header and legend label
	Unit    string   // "ms" or "%"
	Key     string   // TUI key that selects it
	Help    string   // that key's help text
	// Thresholds are the defaults t1,t2,t3 (SPEC 2, from the workshop's dashboards).
	Thresholds Thresholds
	// CountsFailed: a failed test (nothing came back) is part of the metric (loss: it is
	// 100%). When false the metric has no value for a failed test: it is NaN in samples,
	// excluded from reductions and InfluxDB aggregates, and the cell reads FAIL.
	CountsFailed bool
	// FailedValue is what a failed test stores for the metric (the workshop's
	// convention: avg 0, jitter 0, jitter_pct 100). Only for !CountsFailed metrics.
	FailedValue float64
	// Decimals: values below 10 (but not 0) show this many decimals, others none, as
	// the workshop's dashboards did.
	Decimals int
}

// metricTable is the one definition of every metric, indexed by Metric.
var metricTable = [numMetrics]MetricSpec{
	Latency: {
		Name: "latency", Aliases: []string{"rtt"}, Field: "avg_rtt_ms", Title: "Latency", Unit: "ms",
		Key: "1", Help: "latency", Thresholds: Thresholds{250, 500, 1000}, FailedValue: 0, Decimals: 1,
	},
	JitterPct: {
		Name: "jitter", Aliases: []string{"jitter-pct"}, Field: "jitter_pct", Title: "Jitter %", Unit: "%",
		Key: "2", Help: "jitter %", Thresholds: Thresholds{4, 5, 6}, FailedValue: 100, Decimals: 1,
	},
	// Jitter ms had no panel on the workshop's boards. It is the jitter that health
	// counts, so its defaults say when variation starts to hurt: voice guidance (ITU-T
	// G.1020-era practice, Cisco's 30 ms) tolerates up to 30 ms of jitter, so 30 is red
	// and a third of it already yellow. A 7 ms path with 1 ms of jitter stays green.
	JitterMs: {
		Name: "jitter-ms", Field: "jitter_ms", Title: "Jitter ms", Unit: "ms",
		Key: "3", Help: "jitter ms", Thresholds: Thresholds{10, 20, 30}, FailedValue: 0, Decimals: 1,
	},
	Loss: {
		Name: "loss", Field: "loss_pct", Title: "Loss", Unit: "%",
		Key: "4", Help: "loss", Thresholds: Thresholds{2, 4, 6}, CountsFailed: true, Decimals: 1,
	},
}

// Metrics lists every metric in display order.
var Metrics = func() []Metric {
	out := make([]Metric, numMetrics)
	for i := range out {
		out[i] = Metric(i)
	}
	return out
}()

// MetricsWhere lists the metrics (in display order) whose CountsFailed is countsFailed:
// the two groups that InfluxDB aggregates over all tests or over successful tests only.
func MetricsWhere(countsFailed bool) []Metric {
	var out []Metric
	for _, m := range Metrics {
		if m.CountsFailed() == countsFailed {
			out = append(out, m)
		}
	}
	return out
}

// Spec is the metric's table row.
func (m Metric) Spec() MetricSpec { return metricTable[m] }

// String is the metric's flag name (latency, jitter, jitter-ms, loss).
func (m Metric) String() string {
	if m < 0 || m >= numMetrics {
		return "metric(" + strconv.Itoa(int(m)) + ")"
	}
	return metricTable[m].Name
}

// Field is the InfluxDB field of the ping measurement that holds the metric.
func (m Metric) Field() string { return metricTable[m].Field }

// Title is a human label for headers and legends.
func (m Metric) Title() string { return metricTable[m].Title }

// Unit is "ms" or "%".
func (m Metric) Unit() string { return metricTable[m].Unit }

// CountsFailed reports whether failed tests are part of the metric (see MetricSpec).
func (m Metric) CountsFailed() bool { return metricTable[m].CountsFailed }

// FailedValue is what a failed test stores for the metric.
func (m Metric) FailedValue() float64 { return metricTable[m].FailedValue }

// Value picks the metric out of a ping result.
func (m Metric) Value(r PingResult) float64 { return *m.Ref(&r) }

// Ref is the metric's field in r, to read or set. This and SampleRef are the field
// plumbing of a metric (a switch rather than a function in the table: a call through
// a function value makes every PingResult and Sample it is given escape to the heap).
func (m Metric) Ref(r *PingResult) *float64 {
	switch m {
	case JitterPct:
		return &r.JitterPct
	case JitterMs:
		return &r.JitterMs
	case Loss:
		return &r.LossPct
	}
	return &r.AvgRTT
}

// SampleRef is the metric's field in s, to read or set.
func (m Metric) SampleRef(s *Sample) *float64 {
	switch m {
	case JitterPct:
		return &s.JitterPct
	case JitterMs:
		return &s.JitterMs
	case Loss:
		return &s.LossPct
	}
	return &s.AvgRTT
}

// MetricNames is the flag names for help and error texts: "latency, jitter, jitter-ms or loss".
func MetricNames() string {
	names := make([]string, len(Metrics))
	for i, m := range Metrics {
		names[i] = m.String()
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// MetricValues is every flag name, for completion and validation.
func MetricValues() []string {
	names := make([]string, len(Metrics))
	for i, m := range Metrics {
		names[i] = m.String()
	}
	return names
}

// ParseMetric accepts the flag names, their aliases and the InfluxDB field names.
func ParseMetric(s string) (Metric, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, mi := range metricTable {
		if s == mi.Name || s == mi.Field {
			return Metric(i), nil
		}
		for _, a := range mi.Aliases {
			if s == a {
				return Metric(i), nil
			}
		}
	}
	return 0, fmt.Errorf("unknown metric %q (want %s)", s, MetricNames())
}
