//go:build linux

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshtop/meshtop/inventory"
	"github.com/meshtop/meshtop/lab"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
)

// mtrHop is one hop as mtr measured it.
type mtrHop struct {
	host            string
	sent            int
	rtts            []float64 // ms, one per answered probe
	loss, avg, best float64
	median          float64
}

// runMtr runs mtr inside network namespace ns in raw mode (-l: every probe sent and
// every reply with its RTT, so the median can be had too) and reduces it per hop as its
// report does: loss = unanswered probes of the hop, avg and best of its replies. Hops
// end at the first that is dst (mtr probes a few TTLs past it at first).
func runMtr(ctx context.Context, ns, dst string, count int, interval time.Duration) ([]mtrHop, error) {
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "mtr", "-n", "-l", "-c", strconv.Itoa(count),
		"-i", strconv.FormatFloat(interval.Seconds(), 'f', -1, 64), dst)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("mtr: %w: %s", err, errb.String())
	}
	byPos := map[int]*mtrHop{}
	pos := func(s string) *mtrHop {
		n, _ := strconv.Atoi(s)
		if byPos[n] == nil {
			byPos[n] = &mtrHop{}
		}
		return byPos[n]
	}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 3 && f[0] == "x": // x POS SEQ: a probe sent
			pos(f[1]).sent++
		case len(f) == 3 && f[0] == "h": // h POS HOST
			if h := pos(f[1]); h.host == "" {
				h.host = f[2]
			}
		case len(f) == 4 && f[0] == "p": // p POS RTT_US SEQ: a reply
			us, _ := strconv.ParseFloat(f[2], 64)
			h := pos(f[1])
			h.rtts = append(h.rtts, us/1000)
		}
	}
	var hops []mtrHop
	for i := 0; byPos[i] != nil; i++ {
		h := *byPos[i]
		if h.sent > 0 {
			h.loss = 100 * float64(h.sent-min(len(h.rtts), h.sent)) / float64(h.sent)
		}
		if len(h.rtts) > 0 {
			h.avg = mean(h.rtts)
			h.best = slices.Min(h.rtts)
			h.median = median(h.rtts)
		}
		hops = append(hops, h)
		if h.host == dst {
			break
		}
	}
	return hops, nil
}

func mean(vs []float64) float64 {
	s := 0.0
	for _, v := range vs {
		s += v
	}
	return s / float64(len(vs))
}

func median(vs []float64) float64 {
	s := slices.Sorted(slices.Values(vs))
	if len(s) == 0 {
		return math.NaN()
	}
	return s[len(s)/2]
}

// probeRTTs are the RTTs of every answered probe at ttl in meshtop's traces (its
// agent's per-probe answers), for the median.
func probeRTTs(traces []mesh.TraceResult, ttl int) []float64 {
	var out []float64
	for _, t := range traces {
		for _, h := range t.Hops {
			if h.TTL != ttl {
				continue
			}
			for _, p := range h.Probes {
				if !p.Lost() {
					out = append(out, p.RTT)
				}
			}
		}
	}
	return out
}

// meshtopTraces sweeps the lab as live mode does (meshtop's agents asked for their
// probes per hop) until ctx ends, with pingLanes sweeps of pings (count 10) and
// traceLanes of traceroutes at once: more samples in the same time than one live loop,
// which paces them by its interval. It returns src's traces and pings towards dst.
func (l *testLab) meshtopTraces(ctx context.Context, pingLanes, traceLanes int, src, dst string) ([]mesh.TraceResult, []mesh.Sample) {
	agents, err := inventory.Load(l.inventory, 8000)
	if err != nil {
		l.t.Fatal(err)
	}
	var mu sync.Mutex
	var traces []mesh.TraceResult
	var samples []mesh.Sample
	var wg sync.WaitGroup
	for lane := range pingLanes + traceLanes {
		kind := probe.KindTraceroute
		if lane < pingLanes {
			kind = probe.KindPing
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				sw := probe.Run(sctx, agents, probe.Options{Kinds: kind, Count: 10}, nil)
				cancel()
				mu.Lock()
				for _, tr := range sw.Traces {
					if tr.SrcPop == src && tr.DstPop == dst && tr.Measured() {
						traces = append(traces, tr)
					}
				}
				for _, p := range sw.Pings {
					if p.SrcPop == src && p.DstPop == dst {
						if s, ok := mesh.FoldResults(p.Time, []mesh.PingResult{p}); ok {
							samples = append(samples, s)
						}
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return traces, samples
}

// TestHopTableAgreesWithMtr is issue 19's "Done means" in the lab: mtr (Debian's
// mtr-tiny, in a's namespace) and meshtop trace the same path at the same time, first
// with router r1 limiting 50% of its ICMP answers, then with r1 losing 30% of the
// packets that enter it. The hop table meshtop shows (mesh.HopStatsOf over the traces
// and pings it collected: what the drill-down renders) agrees with mtr hop by hop within
// 15 points of loss, and puts "~" and "!" where they belong: "~" on r1 and no "!" in the
// first case, "!" on r1 and no "~" in the second. RTTs agree within 1 ms: the best and
// the median of each hop (the averages are logged: on a busy 2-core machine one
// process's scheduling delay of tens of ms in a few samples moves either tool's mean,
// which is noise of the machine, not of the measurement).
//
// Losses are random per packet, so each tool sees a sample: 300 mtr cycles and some 150
// of meshtop's probes per hop (trace probes; ping probes at the destination) keep the
// two loss figures within 15 points of each other by about three standard deviations. mtr runs in raw mode (-l) so its median is known;
// its loss and mean are reduced as its report does.
func TestHopTableAgreesWithMtr(t *testing.T) {
	if _, err := exec.LookPath("mtr"); err != nil {
		t.Fatalf("mtr is not installed (Debian mtr-tiny; scripts/test.sh installs it): %v", err)
	}
	l := upLab(t, routedLab)
	addr := l.addrs()
	ns := lab.NetnsPrefix(l.name) + "a"
	for _, sc := range []struct {
		name     string
		set      []string
		lossTTL  int // where "!" belongs (0: nowhere)
		rateTTL  int // where "~" belongs (0: nowhere)
		wantLoss []float64
	}{
		{"r1 limits 50% of its ICMP answers", []string{"--icmp-loss", "50%"}, 0, 1, []float64{50, 0, 0}},
		// Loss on the way into r1: once at r1 (it makes its own answer), twice after it
		// (probe and answer both cross r1): 1-0.7^2 = 51%.
		{"r1 loses 30% of what enters it", []string{"--icmp-loss", "0%", "--loss", "30%"}, 1, 0, []float64{30, 51, 51}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			meshtop(t, append([]string{"lab", "router", "r1", "--name", l.name}, sc.set...)...)
			ctx, cancel := context.WithCancel(context.Background())
			var (
				mtr     []mtrHop
				mtrErr  error
				traces  []mesh.TraceResult
				samples []mesh.Sample
				wg      sync.WaitGroup
			)
			wg.Add(2)
			go func() {
				defer wg.Done()
				defer cancel() // meshtop sweeps as long as mtr runs
				mctx, mcancel := context.WithTimeout(context.Background(), 3*time.Minute)
				defer mcancel()
				mtr, mtrErr = runMtr(mctx, ns, addr["b"], 300, 100*time.Millisecond)
			}()
			go func() {
				defer wg.Done()
				traces, samples = l.meshtopTraces(ctx, 4, 2, "a", "b")
			}()
			wg.Wait()
			if mtrErr != nil {
				t.Fatal(mtrErr)
			}
			tbs := mesh.HopStatsOf(mesh.HopInput{Traces: traces, Samples: samples})
			if len(tbs) != 1 {
				t.Fatalf("%d hop tables (paths) from %d traces, want 1", len(tbs), len(traces))
			}
			tb := tbs[0]
			var b strings.Builder
			fmt.Fprintf(&b, "ttl host         | mtr loss  snt   avg  best median | meshtop loss ans/snt   avg  best median | verdicts\n")
			for i, h := range tb.Hops {
				a := "*"
				if len(h.Addrs) > 0 {
					a = h.Addrs[0].Addr
				}
				m := mtrHop{}
				if i < len(mtr) {
					m = mtr[i]
				}
				fmt.Fprintf(&b, "%3d %-12s | %7.1f%% %4d %5.2f %5.2f %6.2f | %11.1f%% %3d/%-3d %5.2f %5.2f %6.2f | rate %v path %v judged %v pings %d\n",
					h.TTL, a, m.loss, m.sent, m.avg, m.best, m.median, h.LossPct, h.Answered, h.Sent, h.Avg, h.Best,
					median(probeRTTs(traces, h.TTL)), h.RateLimited, h.PathLoss, h.Judged, h.Pings)
			}
			t.Logf("mtr and meshtop, %d traces and %d ping tests, ! at ttl %d:\n%s", tb.Traces, len(samples), tb.LossTTL, b.String())

			want := []string{addr["r1"], addr["r2"], addr["b"]}
			if len(mtr) != 3 || len(tb.Hops) != 3 {
				t.Fatalf("mtr %d hops, meshtop %d; want 3 (r1, r2, b)", len(mtr), len(tb.Hops))
			}
			for i, h := range tb.Hops {
				m := mtr[i]
				if m.host != want[i] || len(h.Addrs) == 0 || h.Addrs[0].Addr != want[i] {
					t.Errorf("ttl %d: mtr %s, meshtop %+v; want %s", i+1, m.host, h.Addrs, want[i])
				}
				if d := math.Abs(h.LossPct - m.loss); d > 15 {
					t.Errorf("ttl %d: meshtop loss %.1f%%, mtr %.1f%%: %.1f points apart, want at most 15", i+1, h.LossPct, m.loss, d)
				}
				// Both against what the lab does, so a lab that stopped losing fails too.
				if d := math.Abs(m.loss - sc.wantLoss[i]); d > 15 {
					t.Errorf("ttl %d: mtr loss %.1f%%, the lab loses %.0f%%", i+1, m.loss, sc.wantLoss[i])
				}
				if d := math.Abs(h.Best - m.best); d > 1 {
					t.Errorf("ttl %d: meshtop best RTT %.2f ms, mtr %.2f ms: %.2f ms apart, want at most 1", i+1, h.Best, m.best, d)
				}
				if d := math.Abs(median(probeRTTs(traces, h.TTL)) - m.median); d > 1 {
					t.Errorf("ttl %d: meshtop median RTT %.2f ms, mtr %.2f ms: %.2f ms apart, want at most 1", i+1, median(probeRTTs(traces, h.TTL)), m.median, d)
				}
				if !h.Judged {
					t.Errorf("ttl %d: %d probes and no verdict (one is due at %d)", i+1, h.Sent, mesh.MinVerdictProbes)
				}
				if rate := h.TTL == sc.rateTTL; h.RateLimited != rate {
					t.Errorf("ttl %d: ~ (rate limit) %v, want %v", i+1, h.RateLimited, rate)
				}
			}
			if tb.LossTTL != sc.lossTTL {
				t.Errorf("! (path loss) at ttl %d, want %d", tb.LossTTL, sc.lossTTL)
			}
		})
	}
}
