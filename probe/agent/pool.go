package agent

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// pool bounds how many tests run at once across all receipts (--max-procs; upstream's
// process pool). Each slot keeps the counters the status page reports per worker.
type pool struct {
	free  chan int
	mu    sync.Mutex
	slots []slotStats
	start time.Time
}

type slotStats struct {
	busy       bool
	tests      int64
	failures   int64
	busyTime   time.Duration
	lastReport int64 // tests at the previous status read, for delta_requests
}

func newPool(n int) *pool {
	p := &pool{free: make(chan int, n), slots: make([]slotStats, n), start: time.Now()}
	for i := range n {
		p.free <- i
	}
	return p
}

func (p *pool) acquire(ctx context.Context) (int, error) {
	select {
	case i := <-p.free:
		p.mu.Lock()
		p.slots[i].busy = true
		p.mu.Unlock()
		return i, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (p *pool) release(i int, took time.Duration, failed bool) {
	p.mu.Lock()
	s := &p.slots[i]
	s.busy = false
	s.tests++
	s.busyTime += took
	if failed {
		s.failures++
	}
	p.mu.Unlock()
	p.free <- i
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
