// Command sweepsim simulates live sweeps of a large mesh: N fake
// Scouter agents (probe/scoutertest) in a child process, with upstream's limits
// (SCOUTER_MAX_TEST_COUNT 10 tests per POST, SCOUTER_MAX_PROCESS_COUNT 10 worker
// processes) and realistic test durations (a ping probe takes 1 s, so a 5-probe ping
// 5 s), swept by meshtop's live loop in this process. It reports the time a full sweep
// takes, whether the loop is behind its interval, the collector's CPU per sweep and
// memory, and the age of every pair's newest sample (p50/p99).
//
// With -dead N, N paths between PoPs are dead both ways, as upstream agents meet them:
// a ping of 5 lost probes takes 10 s (2 s a lost probe) and a traceroute walks 32
// silent TTLs, a second each. With -traces every sweep also traceroutes (a trace of a
// live path takes 3 s). -schedule before,after runs the scheduling of before issue 18
// (pings and traces in shared POSTs, one pass per source at a time: before.go) and the
// current one on the same mesh in one run.
//
// Time is scaled so a run is bounded: with -scale 0.2 a simulated second lasts 200 ms
// of real time (the 60 s interval 12 s, a 5-probe ping 1 s). Durations are printed in
// simulated time. The collector polls at real-time granularity (at least 20 ms between
// polls), so it makes fewer polls per batch than at full speed: CPU per sweep is given
// with the HTTP requests it took. Smaller scales compress the request rate until the
// 2 cores, shared with the agents' process, become the bottleneck. SWEEPSIM_DEBUG=1
// adds result counts; SWEEPSIM_HEAP=FILE writes a heap profile half-way.
//
//	go run ./bench/sweepsim                      # 100 and 300 agents
//	go run ./bench/sweepsim -agents 300 -scale 0.1 -duration 20m
//	go run ./bench/sweepsim -agents 20 -dead 3 -traces -interval 30s -schedule before,after
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/meshtop/meshtop/live"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/probe/scoutertest"
)

const secret = "sweepsim"

func main() {
	serve := flag.Int("serve", 0, "internal: run this many fake agents and print their URLs")
	agentsFlag := flag.String("agents", "100,300", "mesh sizes to simulate, comma-separated")
	scale := flag.Float64("scale", 0.2, "real seconds per simulated second")
	interval := flag.Duration("interval", 60*time.Second, "ping interval (simulated)")
	duration := flag.Duration("duration", 10*time.Minute, "how long to sweep (simulated)")
	count := flag.Int("count", 5, "pings per test")
	procs := flag.Int("procs", 10, "worker processes per agent (SCOUTER_MAX_PROCESS_COUNT)")
	maxTests := flag.Int("max-tests", 10, "tests per POST the agents allow (SCOUTER_MAX_TEST_COUNT)")
	dead := flag.Int("dead", 0, "paths (PoP pairs, both ways) that lose every packet")
	traces := flag.Bool("traces", false, "traceroute every interval too")
	schedules := flag.String("schedule", "after", "schedulers to compare, comma-separated: before (pings and traces in shared POSTs), after")
	flag.Parse()
	if *serve > 0 {
		if err := serveAgents(*serve, *scale, *procs, *maxTests, *dead); err != nil {
			fmt.Fprintln(os.Stderr, "sweepsim:", err)
			os.Exit(1)
		}
		return
	}
	fmt.Printf("sweepsim: %d-probe pings every %s, agents allow %d tests per POST on %d processes; 1 simulated s = %s real\n",
		*count, *interval, *maxTests, *procs, time.Duration(float64(time.Second)**scale))
	if *dead > 0 || *traces {
		fmt.Printf("          %d dead paths; traceroutes every interval: %v\n", *dead, *traces)
	}
	fmt.Printf("%8s %7s %9s %7s %9s %11s %9s %9s %9s %9s %9s %9s %8s\n",
		"schedule", "agents", "pairs", "behind", "sweep", "cpu/sweep", "req/sweep", "heap", "peak-rss", "age-p50", "age-p99", "age-max", "overlap")
	for _, f := range strings.Split(*agentsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 2 {
			fmt.Fprintf(os.Stderr, "sweepsim: bad -agents value %q\n", f)
			os.Exit(2)
		}
		for _, sch := range strings.Split(*schedules, ",") {
			if sch != "before" && sch != "after" {
				fmt.Fprintf(os.Stderr, "sweepsim: bad -schedule value %q\n", sch)
				os.Exit(2)
			}
			c := simConfig{n: n, scale: *scale, interval: *interval, duration: *duration, count: *count, procs: *procs,
				maxTests: *maxTests, dead: *dead, traces: *traces, before: sch == "before"}
			if err := simulate(c); err != nil {
				fmt.Fprintln(os.Stderr, "sweepsim:", err)
				os.Exit(1)
			}
		}
	}
}

// counts is what the agents' process reports at the end.
type counts struct {
	Posts, Gets, Deletes, Overlaps, Refused int64
}

// address is agent i's address (the agents' process and the parent agree on it).
func address(i int) string { return fmt.Sprintf("198.18.%d.%d", i/250, i%250+1) }

// deadPaths are the PoP pairs (by agent index) that lose every packet, both ways:
// spread over the mesh, each PoP in one at most.
func deadPaths(n, dead int) map[[2]int]bool {
	out := map[[2]int]bool{}
	for j := range min(dead, n/2) {
		a, b := 2*j, (2*j+n/2+1)%n
		if b == a || out[[2]int{a, b}] {
			b = (b + 1) % n
		}
		out[[2]int{a, b}], out[[2]int{b, a}] = true, true
	}
	return out
}

func serveAgents(n int, scale float64, procs, maxTests, dead int) error {
	sim := func(d time.Duration) time.Duration { return time.Duration(float64(d) * scale) }
	paths := deadPaths(n, dead)
	var servers []*scoutertest.Server
	for i := range n {
		isDead := map[string]bool{}
		for j := range n {
			if paths[[2]int{i, j}] {
				isDead[address(j)] = true
			}
		}
		s, err := scoutertest.Start(scoutertest.Config{
			Secret: secret, MaxTests: maxTests, Procs: procs, DropEmptyState: false,
			TestTime: func(typ, dst string, count int) time.Duration {
				switch {
				case isDead[dst] && typ == "traceroute":
					return sim(32 * time.Second) // every TTL silent, a second each
				case isDead[dst]:
					return sim(time.Duration(count) * 2 * time.Second) // 2 s a lost probe
				}
				// A probe a second, plus the path's RTT (0-150 ms, by destination).
				h := fnv.New32a()
				_, _ = io.WriteString(h, dst)
				rtt := time.Duration(h.Sum32()%150) * time.Millisecond
				if typ == "traceroute" {
					return sim(3*time.Second + rtt) // a few hops, one silent
				}
				return sim(time.Duration(count)*time.Second + rtt)
			},
			RTT: func(dst string, count int) []float64 {
				out := make([]float64, count)
				for k := range out {
					out[k] = 40 + float64(k%3)
					if isDead[dst] {
						out[k] = -1
					}
				}
				return out
			},
			Trace: func(dst string) []scoutertest.Hop {
				if !isDead[dst] {
					return []scoutertest.Hop{{Addr: "198.18.200.1", ASN: 64500, RTT: 0.5}, {}, {Addr: dst, ASN: 64501, RTT: 40}}
				}
				return make([]scoutertest.Hop, 32) // 32 silent hops
			},
		})
		if err != nil {
			return err
		}
		servers = append(servers, s)
		fmt.Println(s.URL)
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes it
	var c counts
	for _, s := range servers {
		c.Posts += s.Posts.Load()
		c.Gets += s.Gets.Load()
		c.Deletes += s.Deletes.Load()
		c.Overlaps += s.Overlaps.Load()
		c.Refused += s.Refused.Load()
		s.Close()
	}
	return json.NewEncoder(os.Stdout).Encode(c)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func peakRSS() string {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return fmt.Sprintf("%dMiB", kb/1024)
		}
	}
	return "?"
}

// simConfig is one simulation: a mesh, its agents and a scheduler.
type simConfig struct {
	n                            int
	scale                        float64
	interval, duration           time.Duration
	count, procs, maxTests, dead int
	traces, before               bool
}

// scheduler is the live loop (after) or the old one (before.go).
type scheduler interface {
	Run(ctx context.Context)
	Stats() live.Stats
}

func simulate(cfg simConfig) error {
	n, scale, interval, duration, count := cfg.n, cfg.scale, cfg.interval, cfg.duration, cfg.count
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "-serve", strconv.Itoa(n), "-scale", strconv.FormatFloat(scale, 'g', -1, 64),
		"-procs", strconv.Itoa(cfg.procs), "-max-tests", strconv.Itoa(cfg.maxTests), "-dead", strconv.Itoa(cfg.dead))
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	rd := bufio.NewReader(stdout)
	var agents []mesh.Agent
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			return fmt.Errorf("agents' process: %w", err)
		}
		line = strings.TrimSpace(line)
		if line == "ready" {
			break
		}
		i := len(agents)
		agents = append(agents, mesh.Agent{Name: fmt.Sprintf("scouter-p%03d-0", i), Pop: fmt.Sprintf("p%03d", i),
			Address: address(i), URL: line})
	}

	real := func(d time.Duration) time.Duration { return time.Duration(float64(d) * scale) }
	simulated := func(d time.Duration) time.Duration { return time.Duration(float64(d) / scale) }
	store := mesh.NewStore(360)
	var errs, oks int64
	var emu sync.Mutex
	errSample := ""
	opts := probe.Options{Secret: secret, Count: count, MaxTests: cfg.maxTests,
		// Deadlines in simulated time: a real-time one would never fire.
		Timeout: real(time.Duration(count)*2*time.Second+30*time.Second) * 8}
	var traceInterval time.Duration
	if cfg.traces {
		traceInterval = real(interval)
	}
	var l scheduler
	if cfg.before {
		bo := opts
		bo.HTTPClient = probe.DefaultHTTPClient()
		l = &beforeLoop{agents: agents, opts: bo, interval: real(interval), traceInterval: traceInterval, store: store}
	} else {
		l = &live.Loop{Agents: agents, Store: store, Interval: real(interval), TraceInterval: traceInterval,
			Hooks: live.Hooks{Event: func(e probe.Event) {
				if p, ok := e.(probe.PingEvent); ok {
					emu.Lock()
					if p.Result.Err != "" {
						errs++
						errSample = p.Result.Err
					} else {
						oks++
					}
					emu.Unlock()
				}
			}},
			Options: opts}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	runtime.GC()
	cpu0 := cpuTime()
	start := time.Now()
	go func() { l.Run(ctx); close(done) }()
	if f := os.Getenv("SWEEPSIM_HEAP"); f != "" {
		time.AfterFunc(real(duration)/2, func() {
			if out, err := os.Create(f); err == nil {
				_ = pprof.WriteHeapProfile(out)
				out.Close()
			}
		})
	}

	// Sample every pair's age a few times per interval, once every source finished a
	// first pass (before that, ages only say how long the first pass takes).
	var ages []time.Duration
	tick := time.NewTicker(real(interval) / 4)
	end := time.After(real(duration))
	var st live.Stats
loop:
	for {
		select {
		case <-end:
			break loop
		case now := <-tick.C:
			st = l.Stats()
			if st.Passes < uint64(len(agents)) {
				continue
			}

			m := store.Matrix()
			for _, s := range m.Pops {
				for _, d := range m.Pops {
					if s == d {
						continue
					}
					age := now.Sub(start) // never measured: as old as the run
					if c := m.Cell(s, d); c != nil && c.Samples > 0 {
						age = now.Sub(c.Last.Time)
					}
					ages = append(ages, age)
				}
			}
		}
	}
	tick.Stop()
	st = l.Stats()
	cpu := cpuTime() - cpu0
	var ms runtime.MemStats
	runtime.GC() // live heap while the store holds the run's samples
	runtime.ReadMemStats(&ms)
	cancel()
	<-done
	runtime.KeepAlive(store)
	_ = stdin.Close()
	var c counts
	if line, err := rd.ReadString('\n'); err == nil {
		_ = json.Unmarshal([]byte(line), &c)
	}
	if os.Getenv("SWEEPSIM_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, "results ok %d, errors %d (%s); stats %+v; counts %+v\n", oks, errs, errSample, st, c)
	}
	sweeps := float64(st.Passes) / float64(len(agents)) // full-mesh equivalents
	slices.Sort(ages)
	pct := func(p float64) string {
		if len(ages) == 0 {
			return "-"
		}
		return simulated(ages[int(p*float64(len(ages)-1))]).Round(time.Second).String()
	}
	name := "after"
	if cfg.before {
		name = "before"
	}
	fmt.Printf("%8s %7d %9d %7v %9s %11s %9.0f %9s %9s %9s %9s %9s %8d\n",
		name, n, n*(n-1), st.IsBehind(), simulated(st.SweepDuration).Round(time.Second),
		(time.Duration(float64(cpu) / max(sweeps, 1))).Round(time.Millisecond),
		float64(c.Posts+c.Gets+c.Deletes)/max(sweeps, 1),
		fmt.Sprintf("%dMiB", ms.HeapInuse>>20), peakRSS(), pct(0.5), pct(0.99), pct(1), c.Overlaps)
	return nil
}
