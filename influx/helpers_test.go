package influx

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/influx/influxtest"
	"github.com/meshtop/meshtop/mesh"
)

// testDB starts influxd (with or without auth) and creates metricsdb.
func testDB(t *testing.T, auth bool) (*influxtest.Server, Config) {
	t.Helper()
	s := influxtest.Start(t, influxtest.Options{Auth: auth})
	if err := s.CreateDatabase(context.Background(), DefaultDatabase); err != nil {
		t.Fatal(err)
	}
	cfg := Config{URL: s.URL, Database: DefaultDatabase, Timeout: 10 * time.Second}
	if auth {
		cfg.Username, cfg.Password = influxtest.AdminUser, influxtest.AdminPassword
	}
	return s, cfg
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fixture is a small mesh over time: one agent per PoP, a ping per pair per minute.
type fixture struct {
	end   time.Time
	pings []mesh.PingResult // time order
}

var fixturePops = []string{"ams", "fra", "sin"}

// newFixture builds n sweeps ending one minute before end. Pair ams→fra fails at sweeps
// 3 and n-1 (its newest test failed), fra→sin fails always, the rest jitters around a
// per-pair base latency with some probe loss. Every sweep also pings an unknown address.
func newFixture(end time.Time, n int) fixture {
	f := fixture{end: end}
	for i := range n {
		at := end.Add(-time.Duration(n-i) * time.Minute)
		for si, src := range fixturePops {
			for di, dst := range fixturePops {
				if src == dst {
					continue
				}
				r := mesh.PingResult{Time: at, Src: src + "-1", SrcPop: src, Dst: fmt.Sprintf("198.18.0.%d", di+1),
					DstName: dst + "-1", DstPop: dst}
				base := 10 + float64(si*30+di*7)
				rtts := make([]float64, 5)
				for k := range rtts {
					rtts[k] = base + float64((i*3+k*5)%7)*0.37
				}
				if (i+si+di)%4 == 0 {
					rtts[2] = mesh.Lost
				}
				failed := (src == "ams" && dst == "fra" && (i == 3 || i == n-1)) || (src == "fra" && dst == "sin")
				if failed {
					for k := range rtts {
						rtts[k] = mesh.Lost
					}
				}
				r.DerivePing(5, rtts, -1)
				f.pings = append(f.pings, r)
			}
			unk := mesh.PingResult{Time: at, Src: src + "-1", SrcPop: src, Dst: "203.0.113.77", DstPop: mesh.UnknownPop}
			unk.DerivePing(5, []float64{1, 1, 1, 1, 1}, -1)
			f.pings = append(f.pings, unk)
		}
	}
	return f
}

// expectedCells reduces the fixture as the live store would (one agent per PoP, so a
// test is a sample).
func (f fixture) expectedCells() map[mesh.Pair]mesh.Cell {
	by := map[mesh.Pair][]mesh.Sample{}
	for _, r := range f.pings {
		if r.DstPop == mesh.UnknownPop {
			continue
		}
		s, _ := mesh.FoldResults(r.Time, []mesh.PingResult{r})
		p := mesh.Pair{Src: r.SrcPop, Dst: r.DstPop}
		by[p] = append(by[p], s)
	}
	out := map[mesh.Pair]mesh.Cell{}
	for p, ss := range by {
		out[p] = mesh.ReduceSamples(ss)
	}
	return out
}

// workshopPingLine is a ping as the workshop's Python script printed it and Telegraf's
// converter passed it on: RTT, jitter and loss fields as floats, failed as the string
// "0"/"1", tags sorted, nanosecond timestamp. Written by hand (not with our encoder) so
// the test checks our reading against the real thing.
func workshopPingLine(r mesh.PingResult, publicIP string) string {
	failed := "0"
	if r.Failed {
		failed = "1"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ping,dst=%s,dst_pop=%s,public_ip=%s,src_pop=%s,src_slug=%s avg_rtt_ms=%s,failed=%q,jitter_ms=%s,jitter_pct=%s,loss_pct=%s",
		r.Dst, r.DstPop, publicIP, r.SrcPop, r.Src, ff(r.AvgRTT), failed, ff(r.JitterMs), ff(r.JitterPct), ff(r.LossPct))
	for i := range 5 {
		v := 0.0
		if i < len(r.Probes) {
			v = r.Probes[i]
		}
		fmt.Fprintf(&b, ",probe_%d_rtt_ms=%s", i, ff(v))
	}
	fmt.Fprintf(&b, " %d\n", r.Time.UnixNano())
	return b.String()
}

// workshopTraceLine is a traceroute as Telegraf+converter wrote it (final_hop_ttl an
// integer, failed and as_path strings).
func workshopTraceLine(r mesh.TraceResult, publicIP string) string {
	failed := "0"
	if r.Failed {
		failed = "1"
	}
	return fmt.Sprintf("traceroute,dport=%d,dst=%s,dst_pop=%s,proto=%s,public_ip=%s,src_pop=%s,src_slug=%s as_path=%q,failed=%q,final_hop_rtt_ms=%s,final_hop_ttl=%di %d\n",
		r.DPort, r.Dst, r.DstPop, r.Proto, publicIP, r.SrcPop, r.Src, r.ASPath, failed, ff(r.FinalHopRTT), r.FinalHopTTL, r.Time.UnixNano())
}

// ff formats a float as Python's str() would for the values we use (always a decimal
// point, so line protocol reads a float).
func ff(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

func writeWorkshop(t *testing.T, s *influxtest.Server, f fixture, traces []mesh.TraceResult) {
	t.Helper()
	var b strings.Builder
	for _, r := range f.pings {
		b.WriteString(workshopPingLine(r, "203.0.113.9"))
	}
	for _, r := range traces {
		b.WriteString(workshopTraceLine(r, "203.0.113.9"))
	}
	if err := s.WriteLines(context.Background(), DefaultDatabase, b.String()); err != nil {
		t.Fatal(err)
	}
}

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b))
}

// compareCells fails on any metric x stat that differs.
func compareCells(t *testing.T, p mesh.Pair, got *mesh.Cell, want mesh.Cell) {
	t.Helper()
	if got == nil {
		t.Errorf("%v: no cell", p)
		return
	}
	for _, m := range mesh.Metrics {
		for _, s := range mesh.Stats {
			if !near(got.Values[m][s], want.Values[m][s]) {
				t.Errorf("%v %v/%v = %v, want %v", p, m, s, got.Values[m][s], want.Values[m][s])
			}
		}
	}
	if got.Failed != want.Failed {
		t.Errorf("%v Failed = %v, want %v", p, got.Failed, want.Failed)
	}
	if got.Samples != want.Samples {
		t.Errorf("%v Samples = %d, want %d", p, got.Samples, want.Samples)
	}
	if !got.Last.Time.Equal(want.Last.Time) || got.Last.Failed != want.Last.Failed {
		t.Errorf("%v Last = %v failed=%v, want %v failed=%v", p, got.Last.Time, got.Last.Failed, want.Last.Time, want.Last.Failed)
	}
}

func strconvI(n int64) string { return strconv.FormatInt(n, 10) }

// checkP95 fails unless a cell's p95 of metric m (from histograms) is within their
// error of the raw tests' p95 (percentile()), a loss exactly, and inside the cell's
// [min, max]: never a p95 above the max shown beside it.
func checkP95(t *testing.T, what string, m mesh.Metric, c *mesh.Cell, raw float64) {
	t.Helper()
	got := c.Values[m][mesh.P95]
	if math.IsNaN(raw) || math.IsNaN(got) {
		if math.IsNaN(raw) != math.IsNaN(got) {
			t.Errorf("%s %s p95 = %v, raw %v", what, m, got, raw)
		}
		return
	}
	tol := HistAlpha * raw * (1 + 1e-9)
	if m == mesh.Loss {
		tol = 1e-9
	}
	if math.Abs(got-raw) > tol {
		t.Errorf("%s %s p95 = %v, raw %v: %.2f %% off", what, m, got, raw, 100*math.Abs(got-raw)/raw)
	}
	if mx := c.Values[m][mesh.Max]; got > mx {
		t.Errorf("%s %s p95 = %v above the max %v", what, m, got, mx)
	}
	if mn := c.Min[m]; !math.IsNaN(mn) && got < mn {
		t.Errorf("%s %s p95 = %v below the min %v", what, m, got, mn)
	}
}
