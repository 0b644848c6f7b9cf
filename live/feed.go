package live

import (
	"context"
	"sync"
	"time"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
)

// Feed fans the loop's events out to any number of subscribers (one per UI program:
// `meshtop live` has one, `meshtop serve` one per SSH session). The store is the truth;
// the feed only tells a subscriber that something changed, how far the running sweep
// is, that a sweep finished, and what went wrong. Publishing never blocks: each
// subscriber has one pending Update that new events are merged into, so a subscriber
// that is slow (or stuck) gets the latest state when it next reads, never a backlog,
// and holds back neither the sweeper nor the other subscribers.
type Feed struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
	// The state a new subscriber starts from.
	sweeping    bool
	started     Started
	progress    Progress
	last        *SweepDone
	schedule    Schedule // the last schedule published
	record      *RecordStatus
	lastErr     error
	agents      int    // 0 until re-discovery changes the mesh's size
	published   uint64 // events published, for tests and metrics
	subscribers int
}

// Started marks the start of a sweep of Total tests.
type Started struct{ Total int }

// Progress counts finished tests of the running sweep.
type Progress struct{ Done, Total int }

// SweepDone is a finished sweep, without its results (they are in the store).
type SweepDone struct {
	Time   time.Time
	Agents []mesh.AgentStatus
}

// RecordStatus is the recorder's state (--record).
type RecordStatus struct {
	Backlog int
	Dropped int64
	Err     string
}

// maxPendingErrors bounds the errors a slow subscriber is owed; older ones are dropped.
const maxPendingErrors = 4

// Update is everything that happened since a subscriber's previous Update, coalesced.
// Its pointers may be shared with other subscribers: read, never write, through them.
// A subscriber applies it in this order: Done (when DoneFirst), Started, Progress, Done
// (otherwise), Errors, Record, Changed.
type Update struct {
	// Done is the latest finished sweep. DoneFirst says it finished before Started began
	// (sweep N ended, sweep N+1 started); otherwise it ended after.
	Done      *SweepDone
	DoneFirst bool
	Started   *Started
	Progress  *Progress
	Errors    []error
	Record    *RecordStatus
	// Schedule is the loop's schedule when it changed (the zero value: on time).
	Schedule *Schedule
	// Agents, when not 0, is how many agents the mesh has now (re-discovery changed it).
	Agents int
	// Changed: the store has new results; re-read it.
	Changed bool
}

func (u *Update) empty() bool {
	return u.Done == nil && u.Started == nil && u.Progress == nil && len(u.Errors) == 0 &&
		u.Record == nil && u.Schedule == nil && u.Agents == 0 && !u.Changed
}

// NewFeed returns a feed with no subscribers.
func NewFeed() *Feed { return &Feed{subs: map[*Subscription]struct{}{}} }

// Subscription is one subscriber's end of a feed.
type Subscription struct {
	f       *Feed
	mu      sync.Mutex
	pending Update
	wake    chan struct{} // capacity 1: "pending has something"
	closed  chan struct{}
	once    sync.Once
}

// Subscribe starts delivering updates to fn, one at a time, from a goroutine of the
// subscription's own; fn may block as long as it likes (p.Send to a busy program)
// without delaying anyone else. The first update brings the feed's current state (the
// last finished sweep, the running sweep's progress, the recorder's state). Close the
// subscription to stop; fn is not called after Close returns, except for a call already
// running.
func (f *Feed) Subscribe(fn func(Update)) *Subscription {
	s := &Subscription{f: f, wake: make(chan struct{}, 1), closed: make(chan struct{})}
	f.mu.Lock()
	s.pending = f.snapshotLocked()
	f.subs[s] = struct{}{}
	f.subscribers++
	f.mu.Unlock()
	s.signal()
	go s.run(fn)
	return s
}

func (f *Feed) snapshotLocked() Update {
	u := Update{Changed: true, Record: f.record, Agents: f.agents}
	if f.schedule != (Schedule{}) {
		s := f.schedule
		u.Schedule = &s
	}
	if f.last != nil {
		d := *f.last
		u.Done, u.DoneFirst = &d, true
	}
	if f.sweeping {
		st, pr := f.started, f.progress
		u.Started, u.Progress = &st, &pr
	}
	if f.lastErr != nil {
		u.Errors = []error{f.lastErr}
	}
	return u
}

func (s *Subscription) run(fn func(Update)) {
	for {
		select {
		case <-s.closed:
			return
		case <-s.wake:
		}
		s.mu.Lock()
		u := s.pending
		s.pending = Update{}
		s.mu.Unlock()
		select {
		case <-s.closed:
			return
		default:
		}
		if !u.empty() {
			fn(u)
		}
	}
}

func (s *Subscription) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Close unsubscribes. It never blocks, also not on a subscriber stuck in fn.
func (s *Subscription) Close() {
	s.once.Do(func() {
		close(s.closed)
		s.f.mu.Lock()
		delete(s.f.subs, s)
		s.f.subscribers--
		s.f.mu.Unlock()
	})
}

// Subscribers counts the open subscriptions.
func (f *Feed) Subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.subscribers
}

// Published counts the events published so far.
func (f *Feed) Published() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.published
}

// publish updates the feed's state with apply and merges the event into every
// subscriber's pending update with merge. Neither may block.
func (f *Feed) publish(apply func(), merge func(*Update)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.published++
	if apply != nil {
		apply()
	}
	for s := range f.subs {
		s.mu.Lock()
		merge(&s.pending)
		s.mu.Unlock()
		s.signal()
	}
}

// Event publishes a sweep event (live.Hooks.Event).
func (f *Feed) Event(e probe.Event) {
	switch e := e.(type) {
	case probe.ProgressEvent:
		// One value shared by every subscriber's update (updates are read-only), so a
		// publish allocates nothing per subscriber.
		if e.Done == 0 {
			st := &Started{e.Total}
			f.publish(func() {
				f.sweeping, f.started, f.progress = true, *st, Progress{0, e.Total}
			}, func(u *Update) {
				u.Started, u.Progress = st, nil
				if u.Done != nil {
					u.DoneFirst = true
				}
			})
			return
		}
		pr := &Progress{e.Done, e.Total}
		f.publish(func() { f.progress = *pr }, func(u *Update) { u.Progress = pr })
	case probe.PingEvent, probe.TraceEvent, probe.AgentEvent:
		f.publish(nil, func(u *Update) { u.Changed = true })
	}
}

// Done publishes a finished sweep (live.Hooks.Done). A traceroute sweep, on its own
// clock, only says the store changed: "last sweep" and the sweep's progress are the
// pings'.
func (f *Feed) Done(sw probe.Sweep) {
	if len(sw.Pings) == 0 && len(sw.Traces) > 0 {
		f.publish(nil, func(u *Update) { u.Changed = true })
		return
	}
	d := SweepDone{Time: sw.Time, Agents: append([]mesh.AgentStatus(nil), sw.Agents...)}
	f.publish(func() { f.sweeping, f.last = false, &d }, func(u *Update) {
		u.Done, u.DoneFirst = &d, false
		u.Changed = true
	})
}

// Agents publishes how many agents the mesh has now (live.Hooks.Agents).
func (f *Feed) Agents(n int) {
	f.publish(func() { f.agents = n }, func(u *Update) { u.Agents = n })
}

// Error publishes a failure of the feed itself, e.g. re-discovery (live.Hooks.Error).
func (f *Feed) Error(err error) {
	f.publish(func() { f.lastErr = err }, func(u *Update) {
		if len(u.Errors) >= maxPendingErrors {
			u.Errors = append(u.Errors[:0], u.Errors[1:]...)
		}
		u.Errors = append(u.Errors, err)
	})
}

// Schedule is what the status bar says of the loop's schedule; "" while on time.
type Schedule struct {
	Behind string // Stats.Summary: the pings cannot be measured within the interval
	Traces string // Stats.TraceSummary: how late the (slow) traceroutes are
}

// ScheduleOf is the schedule stats describe.
func ScheduleOf(st Stats) Schedule { return Schedule{Behind: st.Summary(), Traces: st.TraceSummary()} }

// Schedule publishes the loop's schedule when it differs from the last one published.
func (f *Feed) Schedule(sc Schedule) {
	f.mu.Lock()
	same := sc == f.schedule
	f.mu.Unlock()
	if same {
		return
	}
	f.publish(func() { f.schedule = sc }, func(u *Update) { u.Schedule = &sc })
}

// WatchSchedule publishes the schedule of stats() every period until ctx ends, so
// every viewer's status bar says when sweeps cannot keep to the interval, and how
// late traceroutes are.
func (f *Feed) WatchSchedule(ctx context.Context, stats func() Stats, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f.Schedule(ScheduleOf(stats()))
		}
	}
}

// Record publishes the recorder's state.
func (f *Feed) Record(st RecordStatus) {
	f.publish(func() { f.record = &st }, func(u *Update) { u.Record = &st })
}

// Hooks returns loop hooks that publish to the feed. then, when set, is called too
// (before publishing), from the loop's goroutine: serve counts metrics there.
func (f *Feed) Hooks(then Hooks) Hooks {
	return Hooks{
		Event: func(e probe.Event) {
			if then.Event != nil {
				then.Event(e)
			}
			f.Event(e)
		},
		Done: func(sw probe.Sweep) {
			if then.Done != nil {
				then.Done(sw)
			}
			f.Done(sw)
		},
		Error: func(err error) {
			if then.Error != nil {
				then.Error(err)
			}
			f.Error(err)
		},
		Agents: func(n int) {
			if then.Agents != nil {
				then.Agents(n)
			}
			f.Agents(n)
		},
	}
}
