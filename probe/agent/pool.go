package agent

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// pool bounds how many tests run at once across all receipts (--max-procs; upstream's
// process pool). Each slot keeps the counters the status page reports per worker.
//
// Slots are shared fairly between clients (by source address): a freed slot goes to
// the waiting client that runs the fewest tests, first come first served among equals.
// Upstream's single queue let one holder of the secret keep everyone else waiting for
// ~20 minutes behind 64 receipts of slow pings.
type pool struct {
	mu      sync.Mutex
	free    []int
	waiting []*waiter      // in arrival order
	running map[string]int // tests running per client
	slots   []slotStats
	start   time.Time
}

type waiter struct {
	client string
	slot   chan int // receives the slot given; buffered
}

type slotStats struct {
	busy       bool
	client     string
	tests      int64
	failures   int64
	busyTime   time.Duration
	lastReport int64 // tests at the previous status read, for delta_requests
}

func newPool(n int) *pool {
	p := &pool{slots: make([]slotStats, n), running: map[string]int{}, start: time.Now()}
	for i := range n {
		p.free = append(p.free, i)
	}
	return p
}

// acquire waits for a slot for one of client's tests.
func (p *pool) acquire(ctx context.Context, client string) (int, error) {
	p.mu.Lock()
	if len(p.free) > 0 && len(p.waiting) == 0 {
		i := p.free[len(p.free)-1]
		p.free = p.free[:len(p.free)-1]
		p.takeLocked(i, client)
		p.mu.Unlock()
		return i, nil
	}
	w := &waiter{client: client, slot: make(chan int, 1)}
	p.waiting = append(p.waiting, w)
	p.mu.Unlock()
	select {
	case i := <-w.slot:
		return i, nil
	case <-ctx.Done():
		p.mu.Lock()
		if k := slices.Index(p.waiting, w); k >= 0 {
			p.waiting = slices.Delete(p.waiting, k, k+1)
			p.mu.Unlock()
			return 0, ctx.Err()
		}
		p.mu.Unlock()
		// Given a slot as the context ended: hand it on, no test run in it.
		i := <-w.slot
		p.mu.Lock()
		p.vacateLocked(i)
		p.mu.Unlock()
		return 0, ctx.Err()
	}
}

func (p *pool) takeLocked(i int, client string) {
	p.slots[i].busy, p.slots[i].client = true, client
	p.running[client]++
}

func (p *pool) release(i int, took time.Duration, failed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := &p.slots[i]
	s.tests++
	s.busyTime += took
	if failed {
		s.failures++
	}
	p.vacateLocked(i)
}

// vacateLocked frees slot i and gives it to the waiting client with the fewest tests
// running, the earliest among equals.
func (p *pool) vacateLocked(i int) {
	s := &p.slots[i]
	if p.running[s.client]--; p.running[s.client] <= 0 {
		delete(p.running, s.client)
	}
	s.busy, s.client = false, ""
	if len(p.waiting) == 0 {
		p.free = append(p.free, i)
		return
	}
	best := 0
	for k, w := range p.waiting {
		if p.running[w.client] < p.running[p.waiting[best].client] {
			best = k
		}
	}
	w := p.waiting[best]
	p.waiting = slices.Delete(p.waiting, best, best+1)
	p.takeLocked(i, w.client)
	w.slot <- i
}

// status reports the slots as uWSGI workers. All slots live in one process, so rss and
// vsz are the process's (bytes); tx is not tracked (0, as uWSGI without its memory and
// transfer reports); signals and respawn_count are truly 0: slots are never restarted.
func (p *pool) status(pid int) []workerOut {
	rss, vsz := memory()
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]workerOut, len(p.slots))
	for i := range p.slots {
		s := &p.slots[i]
		w := workerOut{
			ID: i + 1, PID: pid, LastSpawn: p.start.Unix(), Requests: s.tests,
			DeltaRequests: s.tests - s.lastReport, Exceptions: s.failures,
			RunningTime: s.busyTime.Microseconds(), Status: "idle", RSS: rss, VSZ: vsz,
		}
		s.lastReport = s.tests
		if s.tests > 0 {
			w.AvgRT = s.busyTime.Microseconds() / s.tests
		}
		if s.busy {
			w.Status = "busy"
		}
		out[i] = w
	}
	return out
}

// memory reads the resident and virtual size of this process in bytes (Linux); 0, 0
// where /proc is missing.
func memory() (rss, vsz int64) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, 0
	}
	size, _ := strconv.ParseInt(f[0], 10, 64)
	res, _ := strconv.ParseInt(f[1], 10, 64)
	page := int64(os.Getpagesize())
	return res * page, size * page
}
