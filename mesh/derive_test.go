package mesh

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestDerivePing(t *testing.T) {
	tests := []struct {
		name                 string
		sent                 int
		rtts                 []float64
		loss                 float64
		wantAvg, wantJit     float64
		wantJitPct, wantLoss float64
		wantMin, wantMax     float64
		wantRecv             int
		wantFailed           bool
		wantProbes           []float64
	}{
		{"all answered", 5, []float64{10, 12, 11, 15, 12}, -1, 12, 2.5, 2.5 / 12 * 100, 0, 10, 15, 5, false, []float64{10, 12, 11, 15, 12}},
		{"lost probes keep their slot as 0", 5, []float64{10, Lost, 14, Lost, 12}, -1, 12, 3, 25, 40, 10, 14, 3, false, []float64{10, 0, 14, 0, 12}},
		{"agent's loss figure wins", 3, []float64{10, 10, 10}, 33.333333333333336, 10, 0, 0, 33.333333333333336, 10, 10, 3, false, []float64{10, 10, 10}},
		{"nothing came back", 5, []float64{Lost, Lost, Lost, Lost, Lost}, -1, 0, 0, 100, 100, 0, 0, 0, true, []float64{0, 0, 0, 0, 0}},
		{"agent listed only replies", 5, []float64{10, 20}, -1, 15, 10, 100.0 / 1.5, 60, 10, 20, 2, false, []float64{10, 20, 0, 0, 0}},
		{"single reply has no jitter", 1, []float64{7}, -1, 7, 0, 0, 0, 7, 7, 1, false, []float64{7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r PingResult
			r.DerivePing(tt.sent, tt.rtts, tt.loss)
			if !near(r.AvgRTT, tt.wantAvg) || !near(r.JitterMs, tt.wantJit) || !near(r.JitterPct, tt.wantJitPct) ||
				!near(r.LossPct, tt.wantLoss) || r.Recv != tt.wantRecv || r.Failed != tt.wantFailed ||
				!near(r.MinRTT, tt.wantMin) || !near(r.MaxRTT, tt.wantMax) {
				t.Fatalf("got avg %v jit %v jit%% %v loss %v min %v max %v recv %d failed %v",
					r.AvgRTT, r.JitterMs, r.JitterPct, r.LossPct, r.MinRTT, r.MaxRTT, r.Recv, r.Failed)
			}
			if len(r.Probes) != len(tt.wantProbes) {
				t.Fatalf("probes %v", r.Probes)
			}
			for i := range r.Probes {
				if !near(r.Probes[i], tt.wantProbes[i]) {
					t.Fatalf("probes %v, want %v", r.Probes, tt.wantProbes)
				}
			}
		})
	}
}

func TestDeriveTrace(t *testing.T) {
	tr := TraceResult{Hops: []Hop{
		{TTL: 1, Addr: "198.18.2.1", ASN: 64500, RTT: 1},
		{TTL: 2, NoResponse: true},
		{TTL: 3, Addr: "198.18.2.9", RTT: 9},
		{TTL: 4, Addr: "198.18.1.2", ASN: 64501, RTT: 20},
		{TTL: 5, NoResponse: true},
	}}
	tr.DeriveTrace()
	if tr.ASPath != "64500 * * 64501 *" || tr.FinalHopTTL != 4 || tr.FinalHopRTT != 20 {
		t.Fatalf("got %q ttl %d rtt %v", tr.ASPath, tr.FinalHopTTL, tr.FinalHopRTT)
	}
	silent := TraceResult{Hops: []Hop{{TTL: 1, NoResponse: true}}}
	silent.DeriveTrace()
	if silent.FinalHopTTL != 32 || silent.FinalHopRTT != 0 || silent.ASPath != "*" {
		t.Fatalf("silent trace: %+v", silent)
	}
}

// TestDerivePingOutsideCounts: sent comes from an agent; nothing may be sized by it.
func TestDerivePingOutsideCounts(t *testing.T) {
	for _, sent := range []int{1e15, 1e10, MaxProbes + 1} {
		var r PingResult
		r.DerivePing(sent, []float64{5, Lost}, -1)
		if len(r.Probes) > MaxProbes || r.Sent != sent {
			t.Fatalf("sent %d: %d probes, Sent %d", sent, len(r.Probes), r.Sent)
		}
		if err := r.Check(); err == nil {
			t.Fatalf("sent %d passed Check", sent)
		}
	}
}
