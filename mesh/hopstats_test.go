package mesh

import (
	"math"
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

func TestHopStatsVerdicts(t *testing.T) {
	good := []string{"198.18.2.1/1", "198.18.2.2/20", "198.18.1.2/22"}
	every := func(k int) func(int) bool { return func(i int) bool { return i%k == 0 } }
	for _, tt := range []struct {
		name     string
		traces   []TraceResult
		loss     []float64 // per row
		rate     []bool
		path     []bool
		lossTTL  int
		stepTTL  int
		rows     int
		reachedN int
	}{
		{
			name:   "clean path",
			traces: repeat(10, func(int) bool { return false }, good, nil),
			loss:   []float64{0, 0, 0}, rate: []bool{false, false, false}, path: []bool{false, false, false},
			stepTTL: 2, rows: 3, reachedN: 10,
		},
		{
			name:   "rate limiting at hop 2 only",
			traces: repeat(10, every(2), good, []string{"198.18.2.1/1", "*", "198.18.1.2/22"}),
			loss:   []float64{0, 50, 0}, rate: []bool{false, true, false}, path: []bool{false, false, false},
			stepTTL: 2, rows: 3, reachedN: 10,
		},
		{
			name: "path loss from hop 2 on",
			traces: append(repeat(10, every(5), good, []string{"198.18.2.1/1", "*", "*", "*"}),
				// a late destination: lost at ttl 3, answered at ttl 4
				htrace(20, "a1", "198.18.1.2", "198.18.2.1/1", "198.18.2.2/20", "*", "198.18.1.2/23")),
			loss: []float64{0, 2.0 / 11 * 100, 3.0 / 11 * 100}, rate: []bool{false, false, false}, path: []bool{false, true, true},
			lossTTL: 2, stepTTL: 2, rows: 3, reachedN: 9,
		},
		{
			name:   "loss at the destination only",
			traces: repeat(10, every(4), good, []string{"198.18.2.1/1", "198.18.2.2/20", "*", "*", "*"}),
			loss:   []float64{0, 0, 30}, rate: []bool{false, false, false}, path: []bool{false, false, true},
			lossTTL: 3, stepTTL: 2, rows: 3, reachedN: 7,
		},
		{
			name: "rate limit on a lossy path",
			// hop 2 answers 2 of 10 (its own limit), hop 3 and the destination lose 2 of 10 (path)
			traces: func() []TraceResult {
				var out []TraceResult
				for i := range 10 {
					h := []string{"198.18.2.1/1", "*", "198.18.2.3/30", "198.18.1.2/31"}
					if i < 2 {
						h[1] = "198.18.2.2/20"
					}
					if i >= 8 {
						h = []string{"198.18.2.1/1", "*", "*", "*", "*"}
					}
					out = append(out, htrace(i, "a1", "198.18.1.2", h...))
				}
				return out
			}(),
			loss: []float64{0, 80, 20, 20}, rate: []bool{false, true, false, false}, path: []bool{false, false, true, true},
			lossTTL: 3, stepTTL: 2, rows: 4, reachedN: 8,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tbs := HopStats(tt.traces)
			if len(tbs) != 1 {
				t.Fatalf("%d tables, want 1", len(tbs))
			}
			tb := tbs[0]
			if len(tb.Hops) != tt.rows {
				t.Fatalf("%d rows, want %d: %+v", len(tb.Hops), tt.rows, tb.Hops)
			}
			for i, h := range tb.Hops {
				if math.Abs(h.LossPct-tt.loss[i]) > 1e-9 || h.RateLimited != tt.rate[i] || h.PathLoss != tt.path[i] {
					t.Errorf("ttl %d: loss %.1f rate %v path %v, want %.1f %v %v", h.TTL, h.LossPct, h.RateLimited, h.PathLoss, tt.loss[i], tt.rate[i], tt.path[i])
				}
			}
			if tb.LossTTL != tt.lossTTL || tb.StepTTL != tt.stepTTL || tb.Reached != tt.reachedN {
				t.Errorf("loss ttl %d step ttl %d reached %d, want %d %d %d", tb.LossTTL, tb.StepTTL, tb.Reached, tt.lossTTL, tt.stepTTL, tt.reachedN)
			}
			if !tb.Hops[len(tb.Hops)-1].Dest {
				t.Error("last row is not marked as the destination")
			}
		})
	}
}

func TestHopStatsFigures(t *testing.T) {
	// ECMP at hop 2: two addresses, 3:1; RTTs 10, 20, 30, 40 at the destination.
	var trs []TraceResult
	for i, v := range []string{"10", "20", "30", "40"} {
		mid := "198.18.2.2/5"
		if i == 1 {
			mid = "198.18.2.7/6"
		}
		trs = append(trs, htrace(i, "a1", "198.18.1.2", "198.18.2.1/1", mid, "198.18.1.2/"+v))
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
	if len(h2.Addrs) != 2 || h2.Addrs[0].Addr != "198.18.2.2" || h2.Addrs[0].Share != 0.75 || h2.Addrs[1].Share != 0.25 {
		t.Errorf("hop 2 addresses: %+v", h2.Addrs)
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

func TestHopStatsEdges(t *testing.T) {
	// No trace ever reached: rows stop one past the last answer, not at ttl 32.
	var trs []TraceResult
	for i := range 3 {
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
