// Command storerss fills the live store (mesh.Store) the way `meshtop live` does on a
// large mesh: PoPs x (PoPs-1) ping results of 5 probes per sweep, --keep sweeps, and
// reports the resident set size of the whole process (VmRSS and its peak VmHWM from
// /proc/self/status), the Go heap, bytes per kept sample, the time per AddPing, and the
// time of a full Matrix read (the grid's read) after a sweep and when nothing changed.
//
//	go run ./bench/storerss                   # 300 PoPs x 360 sweeps
//	go run ./bench/storerss -pops 100 -keep 360
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

func main() {
	pops := flag.Int("pops", 300, "PoPs (one agent each)")
	keep := flag.Int("keep", 360, "sweeps kept per pair (--keep); the store is filled with this many")
	gogc := flag.Int("gogc", 20, "GC percent when GOGC is unset: 20 is what `meshtop live` sets (cmd/meshtop/gc.go)")
	flag.Parse()
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(*gogc)
		os.Setenv("GOGC", fmt.Sprint(*gogc)) // for the report line
	}
	if err := run(*pops, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "storerss:", err)
		os.Exit(1)
	}
}

func run(n, keep int) error {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("p%03d", i)
	}
	rss0, _, err := procStatus()
	if err != nil {
		return err
	}
	s := mesh.NewStore(keep)
	t0 := time.Now().UTC().Truncate(time.Minute)
	var add time.Duration
	var adds int
	rs := make([]mesh.PingResult, 0, n)
	for k := range keep {
		at := t0.Add(time.Duration(k) * time.Minute)
		for i, src := range names {
			// One source's results are built first, as a sweep delivers them; only the
			// adds are timed.
			rs = rs[:0]
			for j, dst := range names {
				if i != j {
					rs = append(rs, ping(at, src, dst, i, j, k))
				}
			}
			start := time.Now()
			for _, r := range rs {
				s.AddPing(r)
			}
			add += time.Since(start)
			adds += len(rs)
		}
		if k%60 == 59 {
			fmt.Fprintf(os.Stderr, "sweep %d/%d\n", k+1, keep)
		}
	}
	start := time.Now()
	m := s.Matrix()
	full := time.Since(start)
	start = time.Now()
	s.Matrix()
	unchanged := time.Since(start)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, hwm, err := procStatus()
	if err != nil {
		return err
	}
	samples := n * (n - 1) * keep
	fmt.Printf("store %d PoPs x %d sweeps = %d samples (5 probes each), Go %s, GOGC %s\n", n, keep, samples, runtime.Version(), orDefault(os.Getenv("GOGC"), "100"))
	fmt.Printf("  RSS whole process: %.2f GB (peak %.2f GB; %.0f MB before filling)\n", gb(rss), gb(hwm), float64(rss0)/1e6)
	fmt.Printf("  Go heap in use after GC: %.2f GB = %.1f bytes per kept sample\n", gb(ms.HeapAlloc), float64(ms.HeapAlloc)/float64(samples))
	fmt.Printf("  AddPing: %.2f us each (%d adds)\n", float64(add.Nanoseconds())/float64(adds)/1e3, adds)
	fmt.Printf("  Matrix (the grid's read): %.1f ms after the last sweep, %.3f ms unchanged; %d PoPs\n",
		float64(full.Microseconds())/1e3, float64(unchanged.Microseconds())/1e3, m.Len())
	runtime.KeepAlive(s)
	return nil
}

// ping is a realistic result of 5 probes: RTTs that vary a little, now and then a lost
// probe, once in a while a failed test.
func ping(at time.Time, src, dst string, i, j, k int) mesh.PingResult {
	r := mesh.PingResult{Time: at, Src: "scouter-" + src + "-0", SrcPop: src, Dst: "198.18.0.1", DstName: "scouter-" + dst + "-0", DstPop: dst}
	base := 5 + float64((i*31+j*17+k)%250)
	rtts := []float64{base + 0.113, base + 0.571, base + 0.25, base + 1.5, base + 0.031}
	if (i+j+k)%7 == 0 {
		rtts[2] = mesh.Lost
	}
	if (i+j+k)%97 == 0 {
		rtts = []float64{mesh.Lost, mesh.Lost, mesh.Lost, mesh.Lost, mesh.Lost}
	}
	r.DerivePing(5, rtts, -1)
	return r
}

// procStatus reads VmRSS and VmHWM (bytes) of this process.
func procStatus() (rss, hwm uint64, err error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0, fmt.Errorf("read RSS: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var kb uint64
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "VmRSS:"):
			if _, err := fmt.Sscanf(strings.TrimPrefix(line, "VmRSS:"), "%d", &kb); err == nil {
				rss = kb * 1024
			}
		case strings.HasPrefix(line, "VmHWM:"):
			if _, err := fmt.Sscanf(strings.TrimPrefix(line, "VmHWM:"), "%d", &kb); err == nil {
				hwm = kb * 1024
			}
		}
	}
	if rss == 0 {
		return 0, 0, fmt.Errorf("no VmRSS in /proc/self/status")
	}
	return rss, hwm, sc.Err()
}

func gb(b uint64) float64 { return float64(b) / 1e9 }

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
