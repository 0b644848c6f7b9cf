//go:build linux

package lab

import (
	"container/heap"
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// scheduler releases packets to TUN devices at their due time, in due-time order.
//
// Why a timerfd and not a Go timer: Go's timers wake through epoll_wait, whose timeout
// has millisecond granularity, so a timer can fire up to ~1 ms late per leg; an RTT has
// two legs and the lab promises RTTs within 1 ms + 2%. Busy-waiting the last stretch
// fixes that only on an idle machine: on a loaded one the spinning thread loses its CPU
// share. A blocking read of a timerfd sleeps in the kernel on an hrtimer (microsecond
// precision) and releases its P while it sleeps; re-arming the timerfd from add() moves
// the wake-up earlier when a packet with an earlier due time arrives. The wake-up is set
// a little early (lead) and the last stretch spun, see lead.
type scheduler struct {
	tuns []io.ReadWriteCloser
	tfd  int

	mu    sync.Mutex
	queue packetHeap
	seq   uint64
	armed time.Time // due time the timerfd is armed for; zero when disarmed
	fire  time.Time // when the timerfd fires: armed minus lead

	// lead is how much earlier than a packet's due time the timerfd fires: a moving
	// average of how late the thread actually wakes (an idle CPU, a VM's halted vCPU,
	// take tens to hundreds of microseconds to get going). The remaining wait after an
	// early wake-up is spun away, so packets leave on time instead of consistently
	// late. Only the scheduler goroutine writes it; add reads it under mu.
	lead time.Duration

	late lateness
}

type scheduled struct {
	at  time.Time
	seq uint64 // keeps FIFO order among packets due at the same instant
	dst int
	pkt []byte
}

type packetHeap []scheduled

func (h packetHeap) Len() int { return len(h) }
func (h packetHeap) Less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].seq < h[j].seq
	}
	return h[i].at.Before(h[j].at)
}
func (h packetHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *packetHeap) Push(x any)   { *h = append(*h, x.(scheduled)) }
func (h *packetHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = scheduled{}
	*h = old[:len(old)-1]
	return x
}

// maxQueued bounds memory when a sender floods a long path: beyond it packets are
// dropped, as a router's full buffer would.
const maxQueued = 100_000

func newScheduler(tuns []io.ReadWriteCloser) (*scheduler, error) {
	// Blocking on purpose (no TFD_NONBLOCK): the read must sleep in the kernel, not in
	// Go's poller.
	tfd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("create timerfd: %w", err)
	}
	return &scheduler{tuns: tuns, tfd: tfd}, nil
}

// maxLead bounds the early wake-up (and so the spin after it).
const maxLead = 500 * time.Microsecond

// arm sets the timerfd to fire lead before at (at once if that has passed); the caller
// holds mu.
func (s *scheduler) arm(at time.Time) {
	fire := at.Add(-s.lead)
	d := time.Until(fire)
	if d < time.Microsecond {
		d = time.Microsecond // zero would disarm it
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	_ = unix.TimerfdSettime(s.tfd, 0, &spec, nil)
	s.armed, s.fire = at, fire
}

// learn updates lead from one wake-up that came late after the timer's firing time.
func (s *scheduler) learn(late time.Duration) {
	s.mu.Lock()
	s.lead = min(maxLead, max(0, s.lead+(late-s.lead)/8))
	s.mu.Unlock()
}

// next is the due time of the earliest queued packet.
func (s *scheduler) next() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return time.Time{}, false
	}
	return s.queue[0].at, true
}

// add queues pkt for TUN dst at time at.
func (s *scheduler) add(at time.Time, dst int, pkt []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) >= maxQueued {
		return
	}
	s.seq++
	heap.Push(&s.queue, scheduled{at: at, seq: s.seq, dst: dst, pkt: pkt})
	if s.armed.IsZero() || at.Before(s.armed) {
		s.arm(at)
	}
}

// due pops every packet that is due now and arms the timer for the next one.
func (s *scheduler) due(now time.Time, out []scheduled) []scheduled {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.queue) > 0 && !s.queue[0].at.After(now) {
		out = append(out, heap.Pop(&s.queue).(scheduled))
	}
	s.armed = time.Time{}
	if len(s.queue) > 0 {
		s.arm(s.queue[0].at)
	}
	return out
}

func (s *scheduler) run(ctx context.Context) {
	stop := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.arm(time.Now())
		s.mu.Unlock()
	})
	defer stop()
	defer unix.Close(s.tfd)
	var buf [8]byte
	var batch []scheduled
	for {
		// Sleeps until the earliest packet is due (or forever while none is queued;
		// add arms the timer).
		slept := time.Now()
		if _, err := unix.Read(s.tfd, buf[:]); err != nil && err != unix.EINTR {
			return
		}
		woke := time.Now()
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		fire, lead := s.fire, s.lead
		s.mu.Unlock()
		// Learn only from a real sleep: a timer that fired while we were busy says
		// nothing about wake-up latency.
		if fire.After(slept) && woke.After(fire) {
			s.learn(woke.Sub(fire))
		}
		for {
			// Woken early on purpose (lead): wait out the rest of the earliest
			// packet's time on the CPU.
			if at, ok := s.next(); ok {
				if wait := time.Until(at); wait > 0 && wait <= lead+20*time.Microsecond {
					for time.Now().Before(at) {
					}
				}
			}
			batch = s.due(time.Now(), batch[:0])
			if len(batch) == 0 {
				break
			}
			for _, it := range batch {
				// A write error means the PoP's device is gone (lab torn down): the
				// packet is lost, as on a dead link.
				s.late.add(time.Since(it.at))
				_, _ = s.tuns[it.dst].Write(it.pkt)
			}
		}
	}
}

// lateness accumulates how late packets were released (start of the write to the
// destination's TUN device minus due time), for
// lab status and the labrtt benchmark: it shows how much of an RTT error is the
// emulator's own.
type lateness struct {
	mu    sync.Mutex
	count uint64
	sum   time.Duration
	max   time.Duration
}

func (l *lateness) add(d time.Duration) {
	l.mu.Lock()
	l.count++
	l.sum += d
	l.max = max(l.max, d)
	l.mu.Unlock()
}

// Lateness summarises how late the forwarder released packets.
type Lateness struct {
	Packets uint64        `json:"packets"`
	Mean    time.Duration `json:"mean"`
	Max     time.Duration `json:"max"`
}

func (l *lateness) summary() Lateness {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := Lateness{Packets: l.count, Max: l.max}
	if l.count > 0 {
		out.Mean = l.sum / time.Duration(l.count)
	}
	return out
}
