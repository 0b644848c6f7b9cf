package live

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/probe/scoutertest"
	"github.com/meshtop/meshtop/tui"
)

// watched wraps a real tui.Model and records what it was told, for the test to read.
type watched struct {
	inner tui.Model
	w     *watch
}

type watch struct {
	mu      sync.Mutex
	frame   string
	dones   []time.Time
	changed int
	gate    chan struct{} // non-nil: the first update blocks until it is closed
	stuck   atomic.Bool
	stuckAt int // sweep ends seen when it got stuck (its first update may hold one)
}

func (m watched) Init() tea.Cmd { return m.inner.Init() }

func (m watched) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if m.w.gate != nil {
		if _, ok := msg.(tui.DataChangedMsg); ok && !m.w.stuck.Load() {
			m.w.mu.Lock()
			m.w.stuckAt = len(m.w.dones)
			m.w.mu.Unlock()
			m.w.stuck.Store(true)
			<-m.w.gate // the program is stuck: the feed's Send to it blocks
		}
	}
	next, cmd := m.inner.Update(msg)
	m.inner = next.(tui.Model)
	m.w.mu.Lock()
	defer m.w.mu.Unlock()
	switch msg := msg.(type) {
	case tui.SweepDoneMsg:
		m.w.dones = append(m.w.dones, msg.Time)
	case tui.DataChangedMsg:
		m.w.changed++
	}
	m.w.frame = ansi.Strip(m.inner.View().Content)
	return m, cmd
}

func (m watched) View() tea.View { return m.inner.View() }

func (w *watch) get() (string, []time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.frame, append([]time.Time(nil), w.dones...)
}

// countSender counts the feed's sends to a program.
type countSender struct {
	p *tea.Program
	n atomic.Int64
}

func (c *countSender) Send(m tea.Msg) { c.n.Add(1); c.p.Send(m) }

// TestFeedManySubscribersOneBlocked runs the real loop over real HTTP agents into one
// store, with three UI programs subscribed to one feed and a fourth that is stuck. Every
// sweep must reach the three (each sees every sweep's end and the sweep's values in its
// grid) while the stuck one holds back nobody; released, it gets the latest state at
// once, not a backlog.
func TestFeedManySubscribersOneBlocked(t *testing.T) {
	var sweepVal atomic.Int64 // the RTT every agent answers with in the current sweep
	var agents []mesh.Agent
	for i := range 3 {
		s := scoutertest.New(scoutertest.Config{Secret: "x", RTT: func(_ string, count int) []float64 {
			out := make([]float64, count)
			for j := range out {
				out[j] = float64(sweepVal.Load())
			}
			return out
		}})
		t.Cleanup(s.Close)
		agents = append(agents, mesh.Agent{Name: fmt.Sprintf("a%d", i), Pop: fmt.Sprintf("p%d", i),
			Address: fmt.Sprintf("198.18.0.%d", i+1), URL: s.URL})
	}
	store := mesh.NewStore(10)
	rec := &recorded{}
	feed := NewFeed()
	l := &Loop{Agents: agents, Options: probe.Options{Secret: "x", Count: 1}, Interval: time.Hour,
		Store: store, Recorder: rec, Hooks: feed.Hooks(Hooks{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	start := func(w *watch) *countSender {
		m := watched{inner: tui.New(tui.StoreSource{Store: store}, tui.Config{NoColor: true}), w: w}
		p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(nil), tea.WithoutRenderer(), tea.WithWindowSize(100, 30),
			tea.WithoutSignalHandler())
		go func() { _, _ = p.Run() }()
		cs := &countSender{p: p}
		t.Cleanup(feed.SubscribeProgram(cs).Close)
		return cs
	}
	var viewers []*watch
	for range 3 {
		w := &watch{}
		viewers = append(viewers, w)
		start(w)
	}
	stuck := &watch{gate: make(chan struct{})}
	stuckSender := start(stuck)
	if got := feed.Subscribers(); got != 4 {
		t.Fatalf("%d subscribers, want 4", got)
	}

	waitInfo = func() string { f, d := viewers[0].get(); return fmt.Sprintf("\n%v recs=%d\n%s", d, len(rec.get()), f) }
	loopDone := make(chan struct{})
	const sweeps = 4
	for k := 1; k <= sweeps; k++ {
		sweepVal.Store(int64(111 * k))
		if k == 1 {
			go func() { l.Run(ctx); close(loopDone) }()
		} else {
			l.SweepNow()
		}
		want := fmt.Sprintf(" %d", 111*k)
		waitFor(t, fmt.Sprintf("sweep %d in every viewer", k), func() bool {
			if len(rec.get()) < k {
				return false
			}
			swTime := rec.get()[k-1].Time
			for _, w := range viewers {
				f, dones := w.get()
				if len(dones) == 0 || !dones[len(dones)-1].Equal(swTime) || !strings.Contains(f, want) {
					return false
				}
			}
			return true
		})
	}
	if !stuck.stuck.Load() {
		t.Fatal("the stuck program never got an update")
	}
	for i, w := range viewers {
		_, dones := w.get()
		if len(dones) != sweeps {
			t.Errorf("viewer %d saw %d sweep ends, want %d", i, len(dones), sweeps)
		}
	}
	// The stuck program is owed one pending update, however much happened meanwhile.
	sentWhileStuck := stuckSender.n.Load()
	published := feed.Published()
	close(stuck.gate)
	last := rec.get()[sweeps-1].Time
	waitFor(t, "the released program catching up", func() bool {
		f, dones := stuck.get()
		return len(dones) > 0 && dones[len(dones)-1].Equal(last) && strings.Contains(f, fmt.Sprintf(" %d", 111*sweeps))
	})
	_, dones := stuck.get()
	if n := len(dones) - stuck.stuckAt; n > 1 {
		t.Errorf("released program saw %d sweep ends (a backlog), want only the latest", n)
	}
	if sent := stuckSender.n.Load(); sent > sentWhileStuck+8 || uint64(sent) >= published {
		t.Errorf("released program got %d messages (%d before release) for %d events: not coalesced", sent, sentWhileStuck, published)
	}
	cancel()
	<-loopDone
}

// TestFeedCoalescesAndCloses checks the merge rules without programs: order of a sweep
// end against the next start, the error bound, a late subscriber's first update, and
// that Close stops delivery without waiting for a stuck subscriber.
func TestFeedCoalescesAndCloses(t *testing.T) {
	f := NewFeed()
	gate := make(chan struct{})
	var mu sync.Mutex
	var got []Update
	first := true
	entered := make(chan struct{})
	s := f.Subscribe(func(u Update) {
		if first {
			first = false
			close(entered)
			<-gate
		}
		mu.Lock()
		got = append(got, u)
		mu.Unlock()
	})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// The subscriber is now stuck in its first (snapshot) update; everything else merges.
	<-entered
	f.Event(probe.ProgressEvent{Done: 0, Total: 6})
	f.Event(probe.PingEvent{})
	f.Event(probe.ProgressEvent{Done: 6, Total: 6})
	f.Done(probe.Sweep{Time: t0})
	f.Event(probe.ProgressEvent{Done: 0, Total: 6})
	f.Event(probe.ProgressEvent{Done: 2, Total: 6})
	for i := range 10 {
		f.Error(fmt.Errorf("discovery %d", i))
	}
	f.Record(RecordStatus{Backlog: 3})
	close(gate)
	waitFor(t, "the merged update", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 2 })
	mu.Lock()
	u := got[1]
	mu.Unlock()
	if u.Done == nil || !u.Done.Time.Equal(t0) || !u.DoneFirst {
		t.Errorf("sweep end: %+v, want t0 and before the next start", u.Done)
	}
	if u.Started == nil || u.Progress == nil || u.Progress.Done != 2 || !u.Changed {
		t.Errorf("merged update: %+v", u)
	}
	if len(u.Errors) != maxPendingErrors || u.Errors[len(u.Errors)-1].Error() != "discovery 9" {
		t.Errorf("errors: %v", u.Errors)
	}
	if u.Record == nil || u.Record.Backlog != 3 {
		t.Errorf("record: %+v", u.Record)
	}
	msgs := Msgs(u)
	if _, ok := msgs[0].(tui.SweepDoneMsg); !ok {
		t.Errorf("first message %T, want the sweep end before the next start", msgs[0])
	}
	if _, ok := msgs[len(msgs)-1].(tui.DataChangedMsg); !ok {
		t.Errorf("last message %T, want DataChangedMsg", msgs[len(msgs)-1])
	}

	// A late subscriber starts from the feed's state.
	late := make(chan Update, 1)
	s2 := f.Subscribe(func(u Update) {
		select {
		case late <- u:
		default:
		}
	})
	lu := <-late
	if lu.Done == nil || lu.Started == nil || lu.Progress.Done != 2 || lu.Record == nil || len(lu.Errors) != 1 {
		t.Errorf("late subscriber's first update: %+v", lu)
	}

	// Close never waits for a stuck subscriber and stops delivery.
	stuckGate := make(chan struct{})
	defer close(stuckGate)
	var calls atomic.Int64
	s3 := f.Subscribe(func(Update) { calls.Add(1); <-stuckGate })
	waitFor(t, "stuck subscriber entered", func() bool { return calls.Load() == 1 })
	closed := make(chan struct{})
	go func() { s3.Close(); s.Close(); s2.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close blocked on a stuck subscriber")
	}
	if n := f.Subscribers(); n != 0 {
		t.Errorf("%d subscribers after Close", n)
	}
	f.Error(errors.New("after close"))
	mu.Lock()
	n := len(got)
	mu.Unlock()
	if n != 2 {
		t.Errorf("closed subscriber got %d updates, want 2", n)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what+waitInfo())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitInfo adds the state of a test to a wait that timed out.
var waitInfo = func() string { return "" }

// The mesh's agent count reaches subscribers as it changes and a late subscriber (a
// new serve session) starts from the count now, as a UI message.
func TestFeedTellsTheAgentCount(t *testing.T) {
	f := NewFeed()
	var mu sync.Mutex
	var early []Update
	s := f.Subscribe(func(u Update) { mu.Lock(); early = append(early, u); mu.Unlock() })
	defer s.Close()
	f.Agents(7)
	waitFor(t, "the count", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.ContainsFunc(early, func(u Update) bool { return u.Agents == 7 })
	})
	late := make(chan Update, 1)
	s2 := f.Subscribe(func(u Update) {
		select {
		case late <- u:
		default:
		}
	})
	defer s2.Close()
	u := <-late
	if u.Agents != 7 {
		t.Fatalf("a late subscriber starts from %d agents, want 7", u.Agents)
	}
	if !slices.Contains(Msgs(u), tea.Msg(tui.AgentsMsg{N: 7})) {
		t.Errorf("messages %v lack AgentsMsg{7}", Msgs(u))
	}
}
