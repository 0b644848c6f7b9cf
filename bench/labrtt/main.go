//go:build linux

// Command labrtt measures how closely a meshtop lab's measured RTTs match the RTTs it
// emulates: it builds a lab (root), runs full-mesh sweeps through the lab's agents with
// the probe package (as `meshtop live` and `snapshot` do), and reports the error of every
// probe's RTT against the configured RTT (median, p90, p99, max), and of each pair's
// average.
//
//	go build -o /tmp/meshtop ./cmd/meshtop
//	sudo go run ./bench/labrtt --meshtop /tmp/meshtop
//	sudo go run ./bench/labrtt --meshtop /tmp/meshtop --busy 2
//
// --busy N runs N busy loops (one OS thread each) beside the lab while it sweeps, as a
// busy host or CI machine would: the agents' readers then wake late, which is what
// kernel receive times keep out of the RTT.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/meshtop/meshtop/inventory"
	"github.com/meshtop/meshtop/lab"
	"github.com/meshtop/meshtop/probe"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "labrtt:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		bin    = flag.String("meshtop", "meshtop", "meshtop `BINARY` that runs the lab's agents and forwarder")
		pops   = flag.Int("pops", 4, "number of PoPs")
		rtts   = flag.String("rtts", "20,40,80,160", "emulated RTTs in ms, assigned to the pairs in turn")
		count  = flag.Int("count", 5, "pings per test (1-20)")
		sweeps = flag.Int("sweeps", 3, "full-mesh sweeps")
		busy   = flag.Int("busy", 0, "busy loops (one thread each) running beside the lab while it sweeps (0-16)")
	)
	flag.Parse()
	if *busy < 0 || *busy > 16 {
		return fmt.Errorf("--busy %d: want 0 to 16", *busy)
	}
	if *pops < 2 || *pops > 20 {
		return fmt.Errorf("--pops %d: want 2 to 20", *pops)
	}
	var rttList []float64
	for _, s := range strings.Split(*rtts, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || v <= 0 {
			return fmt.Errorf("--rtts: %q is not a positive number of ms", s)
		}
		rttList = append(rttList, v)
	}

	cfg := lab.Config{Name: fmt.Sprintf("rtt%d", os.Getpid()%100000)}
	truth := map[[2]string]float64{}
	for i := range *pops {
		cfg.Pops = append(cfg.Pops, lab.PopConfig{Name: fmt.Sprintf("p%d", i+1)})
	}
	k := 0
	for i := range *pops {
		for j := i + 1; j < *pops; j++ {
			a, b := cfg.Pops[i].Name, cfg.Pops[j].Name
			rtt := rttList[k%len(rttList)]
			k++
			cfg.Links = append(cfg.Links, lab.LinkSpec{Pops: []string{a, b},
				RTT: lab.Duration(time.Duration(rtt * float64(time.Millisecond)))})
			truth[[2]string{a, b}], truth[[2]string{b, a}] = rtt, rtt
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := lab.Up(ctx, cfg, lab.UpOptions{Exe: *bin})
	if err != nil {
		return err
	}
	defer func() {
		if err := lab.Down(context.WithoutCancel(ctx), "", cfg.Name, nil); err != nil {
			fmt.Fprintln(os.Stderr, "labrtt: lab down:", err)
		}
	}()
	agents, err := inventory.Load(st.Inventory(), 8000)
	if err != nil {
		return err
	}

	if *busy > 0 {
		stopBusy := spin(ctx, *busy)
		defer stopBusy()
	}

	type outlier struct {
		src, dst   string
		sweep, seq int
		err        float64
	}
	var probeErr, pairErr []float64
	var outliers []outlier
	lost := 0
	for s := range *sweeps {
		sw := probe.Run(ctx, agents, probe.Options{Kinds: probe.KindPing, Count: *count}, nil)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		for _, r := range sw.Pings {
			want, ok := truth[[2]string{r.SrcPop, r.DstPop}]
			if !ok || r.Err != "" || r.Failed {
				return fmt.Errorf("sweep %d: %s->%s not measured: %s", s+1, r.SrcPop, r.DstPop, r.Err)
			}
			for i, p := range r.Probes {
				if p == 0 {
					lost++
					continue
				}
				probeErr = append(probeErr, p-want)
				outliers = append(outliers, outlier{r.SrcPop, r.DstPop, s + 1, i, p - want})
			}
			pairErr = append(pairErr, r.AvgRTT-want)
		}
	}
	_, late, err := lab.CurrentPaths(ctx, st)
	if err != nil {
		return err
	}

	fmt.Printf("lab: %d pops, %d pairs, RTTs %s ms, no jitter, no loss; %d sweeps x %d pings; %d busy loops beside\n",
		*pops, len(truth), *rtts, *sweeps, *count, *busy)
	fmt.Printf("error = measured - emulated RTT, ms\n")
	report := func(name string, v []float64) {
		abs := make([]float64, len(v))
		for i, x := range v {
			abs[i] = math.Abs(x)
		}
		slices.Sort(abs)
		sorted := slices.Clone(v)
		slices.Sort(sorted)
		fmt.Printf("%-14s n=%-4d median %+.3f  |err| median %.3f  p90 %.3f  p99 %.3f  max %.3f\n",
			name, len(v), quantile(sorted, 0.5), quantile(abs, 0.5), quantile(abs, 0.9), quantile(abs, 0.99), abs[len(abs)-1])
	}
	report("per probe", probeErr)
	report("per pair avg", pairErr)
	fmt.Printf("lost probes: %d\n", lost)
	slices.SortFunc(outliers, func(a, b outlier) int { return cmpAbs(b.err, a.err) })
	fmt.Printf("largest probe errors:")
	for _, o := range outliers[:min(5, len(outliers))] {
		fmt.Printf("  %s->%s sweep %d probe %d: %+.3f", o.src, o.dst, o.sweep, o.seq, o.err)
	}
	fmt.Println()
	fmt.Printf("forwarder: %d packets released, lateness mean %s, max %s\n", late.Packets, late.Mean, late.Max)
	return nil
}

// spin runs n busy loops, each on a thread of its own, until the returned function is
// called, ctx ends, or 10 minutes have passed (a bound if the program is stuck).
func spin(ctx context.Context, n int) (stop func()) {
	runtime.GOMAXPROCS(max(runtime.GOMAXPROCS(0), n+1)) // the rest of the program keeps a thread
	var halt atomic.Bool
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	go func() {
		<-ctx.Done()
		halt.Store(true)
	}()
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			for x := uint64(1); !halt.Load(); x = x*6364136223846793005 + 1 {
			}
		}()
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

func cmpAbs(a, b float64) int {
	switch {
	case math.Abs(a) < math.Abs(b):
		return -1
	case math.Abs(a) > math.Abs(b):
		return 1
	}
	return 0
}

// quantile of sorted values, nearest rank.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
