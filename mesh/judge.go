package mesh

import (
	"math"
	"slices"
	"time"
)

// Judgement is how the live store judges what each pair says now, as its tests arrive:
// one judgement per store, so every viewer of it (live, each serve session, the
// daemon's log) sees the same colours and the same events at the same moment.
type Judgement struct {
	// Thresholds per metric; nil (or a missing metric): DefaultThresholds.
	Thresholds map[Metric]Thresholds
	// Confirm is how many successive tests must agree on a new colour of latency or
	// jitter before it is shown and told (the UI's --confirm); 0 or 1: at once.
	Confirm int
	// NoLossHysteresis turns off the evidence rule of loss (lossjudge.go): the loss
	// class is then the class of the loss since its rate last changed, test by test.
	NoLossHysteresis bool
	// NoDeadband has latency and jitter leave a colour as soon as they are below its
	// threshold (Thresholds.Hold); by default they must come Deadband below it.
	NoDeadband bool
}

func (j *Judgement) deadband() float64 {
	if j.NoDeadband {
		return 0
	}
	return Deadband
}

func (j *Judgement) thresholds(m Metric) Thresholds {
	if t, ok := j.Thresholds[m]; ok {
		return t
	}
	return metricTable[m].Thresholds
}

// NowState is what the live store judged of a pair under the last stat: per metric the
// class after hysteresis (NoData before any value), which of them wait for evidence of
// a change the newest value suggests, and whether the newest test got nothing back.
type NowState struct {
	Class   [numMetrics]Class
	Pending [numMetrics]bool
	Failed  bool
	// LossProbes is how many probes the loss under the last stat stands for: those
	// since the loss rate last changed.
	LossProbes int32
}

// EventMetrics are the metrics whose colour changes the live store tells: the ones
// health is made of. Jitter % is left out: on a short path it swings past its
// thresholds for a millisecond and would bury the events that matter.
var EventMetrics = HealthMetrics

// judgeState is a pair's judgement after a sample, compact: a store keeps three a pair.
type judgeState struct {
	class   [numMetrics]Class
	pending [numMetrics]Class // confirm: the class a metric heads for
	streak  [numMetrics]uint16
	failed  bool
	tests   int32 // outage: failed tests so far
	since   int64 // outage: its first failed test, unix ns
	lossK   int32 // loss since its rate last changed: lost and sent probes
	lossN   int32
	jitter  float32 // jitter now (ms): the median of the newest answered tests'
}

// jitterTests is how many of the newest answered tests jitter now is the median of: a
// single late probe (a 5-probe test's jitter jumps by half its delay) does not change
// the colour, jitter in three tests of five does.
const jitterTests = 5

// jitterNow is the median jitter (ms) of the newest answered tests, NaN without one.
func (s *series) jitterNow() float32 {
	var vals [jitterTests]float32
	n, rec := 0, s.rec()
	for i := s.n - 1; i >= 0 && n < jitterTests; i-- {
		w := s.buf[s.pos(i)*rec:]
		if w[4+numMetrics]>>24 != 0 {
			continue // failed: no jitter
		}
		vals[n] = math.Float32frombits(w[1+int(JitterMs)])
		n++
	}
	if n == 0 {
		return float32(math.NaN())
	}
	v := vals[:n]
	slices.Sort(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// judge judges the newest sample from the state before it (s.before); fresh says the
// sample is new (not a second agent's result folded into the newest one).
func (s *series) judge(j *Judgement, fresh bool, buf *[]intCount) {
	if fresh {
		s.before = s.now
	}
	st := s.before
	smp := &s.last
	s.lossAdd(fresh)
	if smp.Failed {
		if !st.failed {
			st.since, st.tests = smp.Time.UnixNano(), 0
		}
		st.failed = true
		st.tests += int32(min(smp.TestCount(), 1<<20))
		s.now = st
		return
	}
	st.failed, st.tests = false, 0
	confirm := max(1, j.Confirm)
	st.jitter = s.jitterNow()
	for _, m := range Metrics {
		if m == Loss {
			continue
		}
		v := smp.Value(m)
		if m == JitterMs {
			v = float64(st.jitter)
		}
		raw := j.thresholds(m).Hold(v, st.class[m], j.deadband())
		switch {
		case raw == NoData:
		case raw == st.class[m] || st.class[m] == NoData || confirm == 1:
			st.class[m], st.pending[m], st.streak[m] = raw, NoData, 0
		case raw == st.pending[m]:
			st.streak[m] = min(st.streak[m]+1, 1<<15)
		default:
			st.pending[m], st.streak[m] = raw, 1
		}
		if st.pending[m] != NoData && int(st.streak[m]) >= confirm {
			st.class[m], st.pending[m], st.streak[m] = st.pending[m], NoData, 0
		}
	}
	k, n := lossRegimeInt(s.loss.oldestFirst(buf))
	st.lossK, st.lossN = int32(min(k, 1<<30)), int32(min(n, 1<<30))
	st.class[Loss] = judgeLoss(st.class[Loss], float64(k), float64(n), j.thresholds(Loss), !j.NoLossHysteresis)
	s.now = st
}

// lossRing keeps the probe counts of a pair's newest answered tests (at most
// min(keep, lossMaxTests)) for the loss judgement: 2 bytes a test in one small ring,
// so judging does not walk the pair's whole ring on every result.
type lossRing struct {
	ring[lossTest]
	newest bool // the newest entry is the newest sample's (replaced when it is)
}

// lossTest is one answered test's probes; a PoP pair of several agents whose sweep sent
// more than 255 is scaled down to keep its share.
type lossTest struct{ sent, lost uint8 }

func (r *lossRing) add(t lossTest, capacity int) {
	if r.buf == nil {
		r.buf = make([]lossTest, capacity)
	}
	r.push(t)
}

// dropNewest removes the newest entry (the newest sample is being replaced).
func (r *lossRing) dropNewest() {
	if r.n > 0 {
		r.n--
	}
}

// keepNewest drops the oldest entries beyond n (tests that left the pair's window).
func (r *lossRing) keepNewest(n int) {
	for r.n > max(0, n) {
		r.start = (r.start + 1) % len(r.buf)
		r.n--
	}
}

// oldestFirst copies the tests out into buf.
func (r *lossRing) oldestFirst(buf *[]intCount) []intCount {
	b := (*buf)[:0]
	for i := range r.n {
		t := r.buf[(r.start+i)%len(r.buf)]
		b = append(b, intCount{sent: int32(t.sent), lost: int32(t.lost)})
	}
	*buf = b
	return b
}

// lossAdd files the newest sample's probe counts when it got answers: fresh, as a new
// test; otherwise in place of what the sample gave before (another agent's result).
func (s *series) lossAdd(fresh bool) {
	if !fresh && s.loss.newest {
		s.loss.dropNewest()
	}
	s.loss.newest = false
	defer func() { s.loss.keepNewest(s.n - s.failed) }() // only the answered tests kept
	if s.last.Failed {
		return
	}
	c := countOf(&s.last)
	if c.sent > math.MaxUint8 {
		c.lost, c.sent = c.lost*math.MaxUint8/c.sent, math.MaxUint8
	}
	sent := max(1, int(math.Round(c.sent)))
	lost := max(0, min(sent, int(math.Round(c.lost))))
	s.loss.add(lossTest{uint8(sent), uint8(lost)}, min(s.keep, lossMaxTests))
	s.loss.newest = true
}

// tell compares the judgement with what was told of the pair and returns the events
// of the difference, stamped with the newest test's time.
func (s *series) tell(j *Judgement) []Event {
	now, told := &s.now, &s.told
	at := s.last.Time
	var out []Event
	switch {
	case now.failed && !told.failed:
		out = append(out, Event{Kind: EventOutage, Time: time.Unix(0, now.since).UTC(), Src: s.pair.Src, Dst: s.pair.Dst, Tests: int(now.tests)})
	case !now.failed && told.failed:
		out = append(out, Event{Kind: EventOutageEnd, Time: at, Since: time.Unix(0, told.since).UTC(), Src: s.pair.Src, Dst: s.pair.Dst, Tests: int(told.tests)})
	}
	for _, m := range EventMetrics {
		from, to := told.class[m], now.class[m]
		if from == to || !from.Colour() || !to.Colour() {
			continue
		}
		v := s.last.Value(m)
		if m == JitterMs {
			v = float64(now.jitter)
		}
		if m == Loss && now.lossN > 0 {
			v = 100 * float64(now.lossK) / float64(now.lossN)
		}
		out = append(out, Event{Kind: EventColour, Time: at, Src: s.pair.Src, Dst: s.pair.Dst, Metric: m,
			From: from, To: to, Value: v, Crossed: crossed(j.thresholds(m), from, to)})
	}
	*told = *now
	s.toldNs = s.lastNs
	return out
}

// nowInto puts the judgement into a cell being built: what was told (a sample that
// waits for its other agents' results shows the judgement before it, as the events do).
func (s *series) nowInto(c *Cell, j *Judgement) {
	c.Judged = true
	st := &s.told
	c.Now = NowState{Class: st.class, Failed: st.failed, LossProbes: st.lossN}
	for _, m := range Metrics {
		c.Now.Pending[m] = st.pending[m] != NoData && st.pending[m] != st.class[m]
	}
	if !st.failed && st.jitter == st.jitter { // not NaN
		// Jitter now is the median of the newest tests' (jitterNow); its % is of the
		// newest test's RTT, as the workshop computed it.
		c.Values[JitterMs][Last] = float64(st.jitter)
	}
	if st.lossN > 0 && !st.failed {
		est := 100 * float64(st.lossK) / float64(st.lossN)
		c.Values[Loss][Last] = est
		c.Now.Pending[Loss] = j.thresholds(Loss).Classify(est, false) != st.class[Loss]
	}
}
