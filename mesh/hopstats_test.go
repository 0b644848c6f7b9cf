package mesh

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

var hopT0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// trace builds a trace of agent src to dst from hop specs "addr/rtt" or "*".
func htrace(i int, src, dst string, hops ...string) TraceResult {
	t := TraceResult{Time: hopT0.Add(time.Duration(i) * 10 * time.Second), Src: src, Dst: dst, Proto: "ICMP", Failed: true}
	for n, h := range hops {
		hop := Hop{TTL: n + 1}
		if h == "*" {
			hop.NoResponse = true
		} else {
			addr, rtt, _ := strings.Cut(h, "/")
			hop.Addr = addr
			for _, c := range rtt {
				hop.RTT = hop.RTT*10 + float64(c-'0')
			}
			if addr == dst {
				t.Failed = false
			}
		}
		t.Hops = append(t.Hops, hop)
	}
	t.DeriveTrace()
	return t
}

// repeat makes n traces, of which those with lose(i) use the lossy variant.
func repeat(n int, lose func(i int) bool, good, lossy []string) []TraceResult {
	var out []TraceResult
	for i := range n {
		h := good
		if lose(i) {
			h = lossy
		}
		out = append(out, htrace(i, "a1", "198.18.1.2", h...))
	}
	return out
}

// hopSpec is one ttl of a generated path: who answers, its RTT, and the chance (0..1)
// that one probe of it is lost.
type hopSpec struct {
	addr string
	rtt  float64
	loss float64
}

// lossyTraces makes n traces of probes probes per hop along hops, each probe lost at
// random with its hop's chance (seeded: the same run every time). The destination is
// the last hop's address.
func lossyTraces(seed uint64, n, probes int, hops []hopSpec) []TraceResult {
	rng := rand.New(rand.NewPCG(seed, 1))
	dst := hops[len(hops)-1].addr
	var out []TraceResult
	for i := range n {
		t := TraceResult{Time: hopT0.Add(time.Duration(i) * 10 * time.Second), Src: "a1", Dst: dst, Proto: "ICMP", Failed: true}
		for k, h := range hops {
			hop := Hop{TTL: k + 1, NoResponse: true}
			for range probes {
				p := HopProbe{}
				if h.addr != "" && rng.Float64() >= h.loss {
					p = HopProbe{Addr: h.addr, RTT: h.rtt}
				}
				hop.Probes = append(hop.Probes, p)
				if !p.Lost() && hop.NoResponse {
					hop.Addr, hop.RTT, hop.NoResponse = p.Addr, p.RTT, false
				}
			}
			if hop.Addr == dst {
				t.Failed = false
			}
			t.Hops = append(t.Hops, hop)
		}
		t.DeriveTrace()
		out = append(out, t)
	}
	return out
}

const (
	r1, r2, r3, dstAddr = "198.18.2.1", "198.18.2.2", "198.18.2.3", "198.18.1.2"
)

// TestHopStatsVerdicts is issue 19 item 3's rules on random loss: "~" only where the
// destination loses clearly less, "!" at the first hop whose loss carries on to the
// destination, and neither below MinVerdictProbes probes.
func TestHopStatsVerdicts(t *testing.T) {
	// Loss on the way into r1 at rate q: r1 loses q (it makes its answer itself), the
	// hops after it 1-(1-q)^2 (probe and answer both cross r1).
	twice := func(q float64) float64 { return 1 - (1-q)*(1-q) }
	for _, tt := range []struct {
		name         string
		traces       []TraceResult
		rate, path   []bool // per row
		lossTTL      int
		judged       bool
		wantLossNear []float64 // per row, within 10 points; nil: not checked
	}{
		{
			name:   "clean path",
			traces: lossyTraces(1, 8, 5, []hopSpec{{r1, 1, 0}, {r2, 20, 0}, {dstAddr, 22, 0}}),
			rate:   []bool{false, false, false}, path: []bool{false, false, false}, judged: true,
		},
		{
			name:   "ICMP limiting 50% at ttl 1",
			traces: lossyTraces(2, 40, 5, []hopSpec{{r1, 1, 0.5}, {r2, 20, 0}, {dstAddr, 22, 0}}),
			rate:   []bool{true, false, false}, path: []bool{false, false, false}, judged: true,
			wantLossNear: []float64{50, 0, 0},
		},
		{
			name:   "30% real loss into r1: carries on, twice after it",
			traces: lossyTraces(3, 40, 5, []hopSpec{{r1, 1, 0.3}, {r2, 20, twice(0.3)}, {dstAddr, 22, twice(0.3)}}),
			rate:   []bool{false, false, false}, path: []bool{true, true, true}, lossTTL: 1, judged: true,
			wantLossNear: []float64{30, 51, 51},
		},
		{
			name:   "ICMP limiting at ttl 1 before real loss into r2",
			traces: lossyTraces(4, 40, 5, []hopSpec{{r1, 1, 0.9}, {r2, 20, 0.3}, {dstAddr, 22, twice(0.3)}}),
			rate:   []bool{true, false, false}, path: []bool{false, true, true}, lossTTL: 2, judged: true,
		},
		{
			name:   "loss at the destination only",
			traces: lossyTraces(5, 40, 5, []hopSpec{{r1, 1, 0}, {r2, 20, 0}, {dstAddr, 22, 0.2}}),
			rate:   []bool{false, false, false}, path: []bool{false, false, true}, lossTTL: 3, judged: true,
		},
		{
			name: "a stray loss before real loss is not where it starts",
			traces: lossyTraces(6, 40, 5, []hopSpec{{r1, 1, 0.005}, {r2, 20, 0}, {r3, 21, 0.2},
				{dstAddr, 22, twice(0.2)}}),
			lossTTL: 3, judged: true,
		},
		{
			name:   "too few probes: numbers, no verdict",
			traces: lossyTraces(7, 3, 1, []hopSpec{{r1, 1, 0.5}, {r2, 20, 0}, {dstAddr, 22, 0.5}}),
			rate:   []bool{false, false, false}, path: []bool{false, false, false}, judged: false,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tbs := HopStats(tt.traces)
			if len(tbs) != 1 {
				t.Fatalf("%d tables, want 1", len(tbs))
			}
			tb := tbs[0]
			for i, h := range tb.Hops {
				if h.Judged != tt.judged {
					t.Errorf("ttl %d: judged %v with %d probes", h.TTL, h.Judged, h.Sent)
				}
				if tt.rate != nil && (h.RateLimited != tt.rate[i] || h.PathLoss != tt.path[i]) {
					t.Errorf("ttl %d: loss %.1f rate %v path %v, want rate %v path %v", h.TTL, h.LossPct, h.RateLimited, h.PathLoss, tt.rate[i], tt.path[i])
				}
				if tt.wantLossNear != nil && math.Abs(h.LossPct-tt.wantLossNear[i]) > 10 {
					t.Errorf("ttl %d: loss %.1f, want about %.0f", h.TTL, h.LossPct, tt.wantLossNear[i])
				}
			}
			if tb.LossTTL != tt.lossTTL {
				t.Errorf("loss ttl %d, want %d", tb.LossTTL, tt.lossTTL)
			}
			if !tb.Hops[len(tb.Hops)-1].Dest {
				t.Error("last row is not marked as the destination")
			}
		})
	}
}

// TestHopStatsOneProbePerTrace: upstream's traces (one probe per hop) count one probe
// each; a late destination is loss at the destination's ttl, not a longer path.
func TestHopStatsOneProbePerTrace(t *testing.T) {
	good := []string{"198.18.2.1/1", "198.18.2.2/20", "198.18.1.2/22"}
	every := func(k int) func(int) bool { return func(i int) bool { return i%k == 0 } }
	traces := append(repeat(40, every(5), good, []string{"198.18.2.1/1", "*", "*", "*"}),
		// a late destination: lost at ttl 3, answered at ttl 4
		htrace(40, "a1", "198.18.1.2", "198.18.2.1/1", "198.18.2.2/20", "*", "198.18.1.2/23"))
	tb := HopStats(traces)[0]
	if len(tb.Hops) != 3 || tb.Reached != 33 {
		t.Fatalf("rows %d reached %d: %+v", len(tb.Hops), tb.Reached, tb.Hops)
	}
	want := []float64{0, 8.0 / 41 * 100, 9.0 / 41 * 100}
	for i, h := range tb.Hops {
		if h.Sent != 41 || math.Abs(h.LossPct-want[i]) > 1e-9 {
			t.Errorf("ttl %d: %d sent, loss %.2f, want 41 and %.2f", h.TTL, h.Sent, h.LossPct, want[i])
		}
	}
	if d := tb.Hops[2]; d.Worst != 23 || d.Answered != 32 {
		t.Errorf("destination row %+v: the late answer's RTT counts, not as an answer at ttl 3", d)
	}
	if tb.LossTTL != 2 || !tb.Hops[1].PathLoss || tb.Hops[1].RateLimited {
		t.Errorf("loss ttl %d, row 2 %+v: want path loss from ttl 2", tb.LossTTL, tb.Hops[1])
	}
}

func TestHopStatsFigures(t *testing.T) {
	// ECMP inside traces: at ttl 2 the probes of a trace reach two routers, 3:1; RTTs
	// 10, 20, 30, 40 at the destination.
	var trs []TraceResult
	for i, v := range []float64{10, 20, 30, 40} {
		tr := htrace(i, "a1", "198.18.1.2", "198.18.2.1/1", "198.18.2.2/5", "198.18.1.2/1")
		tr.Hops[1].Probes = []HopProbe{{Addr: "198.18.2.2", RTT: 5}, {Addr: "198.18.2.2", RTT: 5}, {Addr: "198.18.2.2", RTT: 5}, {Addr: "198.18.2.7", RTT: 6}}
		tr.Hops[2].RTT = v
		trs = append(trs, tr)
	}
	// Another agent of the same PoP, and an error that carries nothing.
	trs = append(trs, htrace(0, "a2", "198.18.1.2", "198.18.3.1/2", "198.18.1.2/9"), TraceResult{Src: "a1", Dst: "198.18.1.2", Err: "agent down"})
	tbs := HopStats(trs)
	if len(tbs) != 2 || tbs[0].Src != "a1" || tbs[1].Src != "a2" {
		t.Fatalf("tables: %+v", tbs)
	}
	tb := tbs[0]
	if tb.Traces != 4 || !tb.From.Equal(hopT0) || !tb.To.Equal(hopT0.Add(30*time.Second)) {
		t.Errorf("traces %d from %v to %v", tb.Traces, tb.From, tb.To)
	}
	h2 := tb.Hops[1]
	if len(h2.Addrs) != 2 || h2.Addrs[0].Addr != "198.18.2.2" || h2.Addrs[0].Share != 0.75 || h2.Addrs[1].Share != 0.25 ||
		h2.Addrs[0].Avg != 5 || h2.Addrs[1].Avg != 6 || h2.Sent != 16 || h2.Answered != 16 {
		t.Errorf("hop 2: %+v", h2)
	}
	d := tb.Hops[2]
	sd := math.Sqrt((15*15 + 5*5 + 5*5 + 15*15) / 4.0)
	if d.Avg != 25 || d.Best != 10 || d.Worst != 40 || d.Last != 40 || math.Abs(d.StdDev-sd) > 1e-9 || d.Sent != 4 || d.Answered != 4 {
		t.Errorf("destination row: %+v", d)
	}
	if tb.StepTTL != 3 {
		t.Errorf("step at ttl %d, want 3 (5 -> 25 ms)", tb.StepTTL)
	}
	if len(tbs[1].Hops) != 2 {
		t.Errorf("agent a2: %+v", tbs[1].Hops)
	}
}

// TestHopStatsPaths: a route change splits the table by path (never one line averaging
// two routers); the current path comes first and a path taken again folds into its
// table with both spans; silent hops and late destinations never split.
func TestHopStatsPaths(t *testing.T) {
	var trs []TraceResult
	add := func(hops ...string) { trs = append(trs, htrace(len(trs), "a1", "198.18.1.2", hops...)) }
	for range 3 {
		add("198.18.2.1/1", "198.18.2.2/20", "198.18.1.2/22")
	}
	add("198.18.2.1/1", "*", "198.18.1.2/22")                  // loss: same path
	add("198.18.2.1/1", "198.18.2.2/20", "*", "198.18.1.2/23") // late destination: same path
	for range 2 {
		add("198.18.2.9/2", "198.18.2.8/30", "198.18.1.2/32") // another route
	}
	for range 2 {
		add("198.18.2.1/1", "198.18.2.2/20", "198.18.1.2/22") // back
	}
	tbs := HopStats(trs)
	if len(tbs) != 2 {
		t.Fatalf("%d tables, want 2 paths: %+v", len(tbs), tbs)
	}
	cur, old := tbs[0], tbs[1]
	if cur.Path != 0 || cur.Traces != 7 || len(cur.Spans) != 2 || cur.Spans[0].Traces != 5 || cur.Spans[1].Traces != 2 ||
		!cur.Spans[1].To.Equal(trs[8].Time) {
		t.Errorf("current path: %d traces, spans %+v", cur.Traces, cur.Spans)
	}
	if old.Path != 1 || old.Traces != 2 || len(old.Spans) != 1 || !old.Spans[0].From.Equal(trs[5].Time) {
		t.Errorf("older path: %d traces, spans %+v", old.Traces, old.Spans)
	}
	for _, tb := range tbs {
		for _, h := range tb.Hops {
			if len(h.Addrs) > 1 {
				t.Errorf("path %d ttl %d averages %d routers: %+v", tb.Path, h.TTL, len(h.Addrs), h.Addrs)
			}
		}
	}
	if len(cur.Hops) != 3 || cur.Hops[1].Sent != 7 || cur.Hops[1].Answered != 6 || cur.Hops[2].Answered != 6 {
		t.Errorf("current path rows: %+v", cur.Hops)
	}
}

// TestHopStatsDestinationFromPings is issue 19 item 3: the destination's row counts
// the pings of the table's agent over the path's time, so it agrees with the pair's ping
// summary; pings taken on another path go to that path's table; history buckets (no
// per-agent results) count for every agent.
func TestHopStatsDestinationFromPings(t *testing.T) {
	traces := lossyTraces(8, 10, 5, []hopSpec{{r1, 1, 0}, {r2, 20, 0}, {dstAddr, 22, 0}})
	var samples []Sample
	for i := range 10 {
		at := hopT0.Add(time.Duration(i)*10*time.Second + time.Second)
		loss := 0.0
		probes := []float64{21, 22, 23, 22, 22}
		if i%2 == 0 {
			loss, probes = 40, []float64{21, 0, 23, 0, 22}
		}
		mine := PingResult{Time: at, Src: "a1", Sent: 5, Recv: 5 - int(loss/20), LossPct: loss, Probes: probes}
		other := PingResult{Time: at, Src: "a9", Sent: 5, LossPct: 100, Failed: true, Probes: make([]float64, 5)}
		samples = append(samples, Sample{Time: at, LossPct: loss, Results: []PingResult{mine, other}})
	}
	tb := HopStatsOf(HopInput{Traces: traces, Samples: samples})[0]
	d := tb.Hops[2]
	if d.Pings != 10 || d.LossPct != 20 || d.Sent != 50 || d.Answered != 40 || d.Best != 21 || d.Worst != 23 {
		t.Errorf("destination row %+v, want the 10 pings of a1: loss 20%%, 40/50, 21-23 ms", d)
	}
	// The summary's loss: the mean of the tests' loss.
	if sum := 0.0; true {
		for _, s := range samples {
			sum += s.Results[0].LossPct
		}
		if sum/10 != d.LossPct {
			t.Errorf("summary loss %.1f, destination row %.1f", sum/10, d.LossPct)
		}
	}
	if !d.Judged || tb.LossTTL != 3 || !d.PathLoss {
		t.Errorf("destination row of pings: judged %v, loss ttl %d: want path loss at the destination", d.Judged, tb.LossTTL)
	}
	// History: buckets without per-agent results.
	hist := []Sample{{Time: hopT0, LossPct: 10, AvgRTT: 22, MinRTT: 20, MaxRTT: 30, Tests: 30}}
	d = HopStatsOf(HopInput{Traces: traces, Samples: hist})[0].Hops[2]
	if d.Pings != 30 || d.LossPct != 10 || d.Avg != 22 || d.Best != 20 || d.Worst != 30 || d.Sent != 30 || d.Answered != 27 {
		t.Errorf("destination row of a history bucket: %+v", d)
	}
}

// TestHopStatsSince: a reset ("from now") drops the traces and pings before it.
func TestHopStatsSince(t *testing.T) {
	traces := lossyTraces(9, 10, 5, []hopSpec{{r1, 1, 0.5}, {r2, 20, 0}, {dstAddr, 22, 0}})
	since := traces[6].Time
	samples := []Sample{{Time: traces[1].Time, LossPct: 100, Failed: true, Tests: 1}, {Time: since, LossPct: 0, AvgRTT: 22, MinRTT: 22, MaxRTT: 22, Tests: 1}}
	tb := HopStatsOf(HopInput{Traces: traces, Samples: samples, Since: since})[0]
	if tb.Traces != 4 || !tb.Since.Equal(since) || tb.Hops[0].Sent != 20 || tb.Hops[2].Pings != 1 || tb.Hops[2].LossPct != 0 {
		t.Errorf("since trace 6: %d traces, %+v", tb.Traces, tb.Hops)
	}
	if got := HopStatsOf(HopInput{Traces: traces, Since: traces[9].Time.Add(time.Second)}); len(got) != 0 {
		t.Errorf("nothing since: %+v", got)
	}
}

func TestHopStatsEdges(t *testing.T) {
	// No trace ever reached: rows stop one past the last answer, not at ttl 32.
	var trs []TraceResult
	for i := range 20 {
		h := []string{"198.18.2.1/1"}
		for range 31 {
			h = append(h, "*")
		}
		trs = append(trs, htrace(i, "a1", "198.18.1.2", h...))
	}
	tb := HopStats(trs)[0]
	if len(tb.Hops) != 2 || tb.Reached != 0 || tb.Hops[1].LossPct != 100 || !tb.Hops[1].PathLoss || tb.LossTTL != 2 {
		t.Errorf("unreached: %+v", tb)
	}
	// Workshop history: AS path only.
	tb = HopStats([]TraceResult{{Src: "a1", Dst: "x", ASPath: "64500 *"}})[0]
	if !tb.ASPathOnly || len(tb.Hops) != 0 || tb.Reached != 1 {
		t.Errorf("AS path only: %+v", tb)
	}
	if HopStats(nil) == nil || len(HopStats(nil)) != 0 {
		t.Error("no traces: want an empty list")
	}
	// Duplicate and out-of-range ttls from a broken agent are ignored, never a panic.
	bad := htrace(0, "a1", "198.18.1.2", "198.18.2.1/1", "198.18.1.2/2")
	bad.Hops = append(bad.Hops, Hop{TTL: 1, Addr: "198.18.9.9"}, Hop{TTL: 99, Addr: "198.18.9.8"}, Hop{TTL: -1})
	tb = HopStats([]TraceResult{bad})[0]
	if len(tb.Hops) != 2 || tb.Hops[0].Addrs[0].Addr != "198.18.2.1" {
		t.Errorf("broken hops: %+v", tb.Hops)
	}
}

// FuzzHopStats builds traces from bytes (silent hops, ECMP, late and missing
// destinations, duplicate and absurd ttls) and checks the table's invariants.
func FuzzHopStats(f *testing.F) {
	f.Add([]byte{1, 2, 3, 0xff, 1, 0, 3, 0xff, 1, 2, 0, 0, 3})
	f.Add([]byte{0, 0, 0, 0, 0xff, 0xfe, 7, 7, 7})
	f.Add([]byte{3, 0xff, 3, 0xff, 200, 1, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		var trs []TraceResult
		cur := TraceResult{Src: "a1", Dst: "198.18.1.3", Failed: true}
		ttl := 0
		flush := func() {
			cur.Time = hopT0.Add(time.Duration(len(trs)) * time.Second)
			trs = append(trs, cur)
			cur = TraceResult{Src: "a1", Dst: "198.18.1.3", Failed: true}
			ttl = 0
		}
		for _, b := range data {
			switch {
			case b == 0xff:
				flush()
				continue
			case b == 0xfe:
				cur.Src = "a2"
				continue
			}
			ttl++
			h := Hop{TTL: ttl, RTT: float64(b)}
			if b%8 == 5 { // meshtop's agent: several probes, some lost, one from elsewhere
				h.Probes = []HopProbe{{Addr: "198.18.1.1", RTT: float64(b)}, {}, {Addr: "198.18.1.7", RTT: 1}}
			}
			switch {
			case b >= 200:
				h.TTL = int(b) - 210 // duplicates, zero, negative, beyond MaxTTL
				h.Addr = "198.18.9.9"
			case b%4 == 0:
				h.NoResponse = true
			default:
				h.Addr = "198.18.1." + string(rune('0'+b%4))
				if h.Addr == cur.Dst {
					cur.Failed = false
				}
			}
			cur.Hops = append(cur.Hops, h)
		}
		flush()
		for _, tb := range HopStats(trs) {
			prev := 0
			for _, h := range tb.Hops {
				if h.TTL <= prev || h.TTL > MaxTTL {
					t.Fatalf("ttl %d after %d", h.TTL, prev)
				}
				prev = h.TTL
				if h.Answered > h.Sent || h.LossPct < 0 || h.LossPct > 100 {
					t.Fatalf("hop %+v", h)
				}
				share := 0.0
				for _, a := range h.Addrs {
					share += a.Share
				}
				if share > 1+1e-9 {
					t.Fatalf("shares add to %v", share)
				}
				if !math.IsNaN(h.Avg) && (h.Best > h.Avg+1e-9 || h.Avg > h.Worst+1e-9) {
					t.Fatalf("best %v avg %v worst %v", h.Best, h.Avg, h.Worst)
				}
			}
		}
	})
}
