package mesh

import (
	"math"
	"strings"
	"testing"
)

func TestPingCheck(t *testing.T) {
	ok := PingResult{Sent: 5, Recv: 5, LossPct: 0, MinRTT: 9.9, AvgRTT: 10, MaxRTT: 10.2, JitterMs: 0.1, JitterPct: 1, Probes: []float64{10, 10, 9.9, 10.2, 9.9}}
	tests := []struct {
		name string
		mod  func(*PingResult)
		want string // "" = fine
	}{
		{"fine", func(*PingResult) {}, ""},
		{"error results are not checked", func(r *PingResult) { r.Err = "down"; r.LossPct = 1e9 }, ""},
		{"failed", func(r *PingResult) {
			*r = PingResult{Sent: 5, LossPct: 100, JitterPct: 100, Failed: true, Probes: make([]float64, 5)}
		}, ""},
		{"loss 1e9", func(r *PingResult) { r.LossPct = 1e9 }, "implausible value: loss 1e+09 %"},
		{"negative loss", func(r *PingResult) { r.LossPct = -5 }, "loss -5 %"},
		{"nan loss", func(r *PingResult) { r.LossPct = math.NaN() }, "loss NaN"},
		{"min 1e300", func(r *PingResult) { r.MinRTT = 1e300 }, "min rtt 1e+300 ms"},
		{"min > avg", func(r *PingResult) { r.MinRTT = 20 }, "min > avg"},
		{"avg > max", func(r *PingResult) { r.MaxRTT = 5 }, "avg > max"},
		{"inf rtt", func(r *PingResult) { r.AvgRTT = math.Inf(1) }, "avg rtt +Inf"},
		{"huge sent", func(r *PingResult) { r.Sent = 1e15 }, "sent 1e+15"},
		{"recv > sent", func(r *PingResult) { r.Recv = 6 }, "more replies than probes"},
		{"probe 1e307", func(r *PingResult) { r.Probes[2] = 1e307 }, "probe 2 rtt"},
		{"negative jitter pct", func(r *PingResult) { r.JitterPct = -1 }, "jitter -1 %"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			r.Probes = append([]float64(nil), ok.Probes...)
			tt.mod(&r)
			err := r.Check()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Check() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Check() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestTraceCheck(t *testing.T) {
	ok := TraceResult{Hops: []Hop{{TTL: 1, Addr: "198.18.0.1", RTT: 1}, {TTL: 2, NoResponse: true}, {TTL: 3, Addr: "198.18.0.3", RTT: 3}}}
	ok.DeriveTrace()
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	bad := ok
	bad.Hops = []Hop{{TTL: 0}}
	if err := bad.Check(); err == nil || !strings.Contains(err.Error(), "hop ttl") {
		t.Fatalf("ttl 0: %v", err)
	}
	bad.Hops = []Hop{{TTL: 1, RTT: -3}}
	if err := bad.Check(); err == nil || !strings.Contains(err.Error(), "rtt") {
		t.Fatalf("negative rtt: %v", err)
	}
}
