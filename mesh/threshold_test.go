package mesh

import (
	"math"
	"testing"
)

func TestClassify(t *testing.T) {
	def := DefaultThresholds()
	tests := []struct {
		metric Metric
		v      float64
		failed bool
		want   Class
	}{
		{Latency, 10, false, Green},
		{Latency, 249.9, false, Green},
		{Latency, 250, false, Yellow},
		{Latency, 500, false, Orange},
		{Latency, 999, false, Orange},
		{Latency, 1000, false, Red},
		{Latency, math.NaN(), true, Red}, // latency 0 = the test failed: red
		{Latency, math.NaN(), false, NoData},
		{JitterPct, 3.9, false, Green},
		{JitterPct, 4, false, Yellow},
		{JitterPct, 6, false, Red},
		{Loss, 0, false, Green},
		{Loss, 2, false, Yellow},
		{Loss, 100, false, Red},
	}
	for _, tt := range tests {
		if got := def[tt.metric].Classify(tt.v, tt.failed); got != tt.want {
			t.Errorf("%s %v failed=%v: got %s, want %s", tt.metric, tt.v, tt.failed, got, tt.want)
		}
	}
}

func TestParseThresholds(t *testing.T) {
	for _, tt := range []struct {
		in      string
		wantErr bool
	}{
		{"250,500,1000", false}, {" 1, 2 ,3", false}, {"1,2", true}, {"a,2,3", true}, {"3,2,1", true}, {"1,NaN,3", true},
	} {
		_, err := ParseThresholds(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: err %v", tt.in, err)
		}
	}
}

func TestParseMetricStatClass(t *testing.T) {
	for in, want := range map[string]Metric{"latency": Latency, "avg_rtt_ms": Latency, "jitter": JitterPct, "jitter_pct": JitterPct, "jitter-ms": JitterMs, "loss": Loss, "loss_pct": Loss} {
		if got, err := ParseMetric(in); err != nil || got != want {
			t.Errorf("ParseMetric(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseMetric("bogus"); err == nil {
		t.Error("ParseMetric(bogus) accepted")
	}
	if s, err := ParseStat("current"); err != nil || s != Last {
		t.Errorf("ParseStat(current) = %v, %v", s, err)
	}
	if _, err := ParseClass("nodata"); err == nil {
		t.Error("ParseClass(nodata) accepted for --fail-on")
	}
}

func TestStats(t *testing.T) {
	vals := []float64{5, 1, 4, 2, 3, 10, 6, 7, 8, 9}
	for _, tt := range []struct {
		s    Stat
		want float64
	}{{Last, 9}, {Mean, 5.5}, {Max, 10}, {P95, 10}} {
		if got := tt.s.Reduce(vals); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.s, got, tt.want)
		}
	}
	if !math.IsNaN(Mean.Reduce(nil)) {
		t.Error("mean of nothing must be NaN, not 0")
	}
	// Nearest rank, as InfluxQL: p50 of 1..4 is 2.
	if got := Percentile([]float64{4, 3, 2, 1}, 50); got != 2 {
		t.Errorf("p50 = %v", got)
	}
}
