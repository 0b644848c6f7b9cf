package mesh

import "time"

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
	LossProbes int
}

// EventMetrics are the metrics whose colour changes the live store tells: the ones
// health is made of. Jitter % is left out: on a short path it swings past its
// thresholds for a millisecond and would bury the events that matter.
var EventMetrics = HealthMetrics

// judgeState is a pair's judgement after a sample.
type judgeState struct {
	class   [numMetrics]Class
	pending [numMetrics]Class // confirm: the class a metric heads for
	streak  [numMetrics]int
	failed  bool
	since   time.Time // outage: its first failed test
	tests   int       // outage: failed tests so far
	lossK   float64   // loss since its rate last changed: lost and sent probes
	lossN   float64
}

// judge judges the newest sample from the state before it (s.before); fresh says the
// sample is new (not a second agent's result folded into the newest one).
func (s *series) judge(j *Judgement, fresh bool, buf *[]probeCount) {
	if fresh {
		s.before = s.now
	}
	st := s.before
	smp := &s.last
	if smp.Failed {
		if !st.failed {
			st.since, st.tests = smp.Time, 0
		}
		st.failed = true
		st.tests += smp.TestCount()
		s.now = st
		return
	}
	st.failed, st.tests = false, 0
	confirm := max(1, j.Confirm)
	for _, m := range Metrics {
		if m == Loss {
			continue
		}
		raw := j.thresholds(m).Classify(smp.Value(m), false)
		switch {
		case raw == NoData:
		case raw == st.class[m] || st.class[m] == NoData || confirm == 1:
			st.class[m], st.pending[m], st.streak[m] = raw, NoData, 0
		case raw == st.pending[m]:
			st.streak[m]++
		default:
			st.pending[m], st.streak[m] = raw, 1
		}
		if st.pending[m] != NoData && st.streak[m] >= confirm {
			st.class[m], st.pending[m], st.streak[m] = st.pending[m], NoData, 0
		}
	}
	st.lossK, st.lossN = lossRegime(s.answered(buf))
	st.class[Loss] = judgeLoss(st.class[Loss], st.lossK, st.lossN, j.thresholds(Loss), !j.NoLossHysteresis)
	s.now = st
}

// answered collects the probe counts of the newest answered tests (at most
// lossMaxTests), oldest first, into buf.
func (s *series) answered(buf *[]probeCount) []probeCount {
	b := (*buf)[:0]
	for i := s.n - 1; i >= 0 && len(b) < lossMaxTests; i-- {
		sl := s.get(s.pos(i))
		if sl.failed {
			continue
		}
		// Lost probes from the loss (a folded sample's: its agents' mean, over their sum).
		sent := float64(max(1, sl.sent))
		b = append(b, probeCount{sent: sent, lost: sent * float64(sl.v[Loss]) / 100})
	}
	for i, k := 0, len(b)-1; i < k; i, k = i+1, k-1 {
		b[i], b[k] = b[k], b[i]
	}
	*buf = b
	return b
}

// tell compares the judgement with what was told of the pair and returns the events
// of the difference, stamped with the newest test's time.
func (s *series) tell(j *Judgement) []Event {
	now, told := &s.now, &s.told
	at := s.last.Time
	var out []Event
	switch {
	case now.failed && !told.failed:
		out = append(out, Event{Kind: EventOutage, Time: now.since, Src: s.pair.Src, Dst: s.pair.Dst, Tests: now.tests})
	case !now.failed && told.failed:
		out = append(out, Event{Kind: EventOutageEnd, Time: at, Since: told.since, Src: s.pair.Src, Dst: s.pair.Dst, Tests: told.tests})
	}
	for _, m := range EventMetrics {
		from, to := told.class[m], now.class[m]
		if from == to || !from.Colour() || !to.Colour() {
			continue
		}
		v := s.last.Value(m)
		if m == Loss && now.lossN > 0 {
			v = 100 * now.lossK / now.lossN
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
	c.Now = NowState{Class: st.class, Failed: st.failed, LossProbes: int(st.lossN + 0.5)}
	for _, m := range Metrics {
		c.Now.Pending[m] = st.pending[m] != NoData && st.pending[m] != st.class[m]
	}
	if st.lossN > 0 && !st.failed {
		est := 100 * st.lossK / st.lossN
		c.Values[Loss][Last] = est
		c.Now.Pending[Loss] = j.thresholds(Loss).Classify(est, false) != st.class[Loss]
	}
}
