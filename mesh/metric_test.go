package mesh

import (
	"math"
	"testing"
)

// TestMetricTable checks that every row is complete and that the table's accessors
// reach distinct fields, so a new row cannot silently alias another metric.
func TestMetricTable(t *testing.T) {
	seen := map[string]Metric{}
	for _, m := range Metrics {
		sp := m.Spec()
		if sp.Name == "" || sp.Field == "" || sp.Title == "" || sp.Unit == "" || sp.Key == "" || sp.Help == "" ||
			sp.result == nil || sp.sample == nil {
			t.Errorf("metric %d: incomplete row %+v", m, sp)
		}
		if !(sp.Thresholds[0] <= sp.Thresholds[1] && sp.Thresholds[1] <= sp.Thresholds[2]) {
			t.Errorf("%s: thresholds %v not ordered", m, sp.Thresholds)
		}
		for _, n := range append([]string{sp.Name, sp.Field, sp.Key}, sp.Aliases...) {
			if o, dup := seen[n]; dup && o != m {
				t.Errorf("%q names both %s and %s", n, o, m)
			}
			seen[n] = m
		}
		for _, n := range append([]string{sp.Name, sp.Field}, sp.Aliases...) {
			if got, err := ParseMetric(n); err != nil || got != m {
				t.Errorf("ParseMetric(%q) = %v, %v; want %s", n, got, err, m)
			}
		}
		var r PingResult
		*m.Ref(&r) = 42
		for _, o := range Metrics {
			if want := map[bool]float64{true: 42, false: 0}[o == m]; o.Value(r) != want {
				t.Errorf("setting %s changed %s", m, o)
			}
		}
		var s Sample
		*m.SampleRef(&s) = 7
		if s.Value(m) != 7 {
			t.Errorf("%s: sample ref and value disagree", m)
		}
		s.Failed = true
		if got := s.Value(m); m.CountsFailed() != !math.IsNaN(got) {
			t.Errorf("%s of a failed sample = %v with CountsFailed %v", m, got, m.CountsFailed())
		}
	}
	if got := MetricNames(); got != "latency, jitter, jitter-ms or loss" {
		t.Errorf("MetricNames() = %q", got)
	}
}

func TestFormatValueNeverPrintsInf(t *testing.T) {
	for _, v := range []float64{math.Inf(1), math.Inf(-1), 1e307} {
		if got := FormatValue(Latency, v, false); got != "?" {
			t.Errorf("FormatValue(%v) = %q", v, got)
		}
	}
	if got := FormatValue(Latency, 5.25, false); got != "5.2" && got != "5.3" {
		t.Errorf("5.25 -> %q", got)
	}
}
