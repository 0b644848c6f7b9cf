package mesh

import (
	"math"
	"slices"
	"time"
)

// TestCount is how many ping tests s stands for: a history bucket's count, a live
// sweep's agent-pair results, or one.
func (s Sample) TestCount() int {
	switch {
	case s.Tests > 0:
		return s.Tests
	case len(s.Results) > 0:
		return len(s.Results)
	}
	return 1
}

// EventKind is what happened to a pair.
type EventKind int

// Kinds of timeline events.
const (
	EventColour    EventKind = iota // a metric changed colour class
	EventRoute                      // the path changed (RouteChanges)
	EventAgentDown                  // a source agent could not be used
	EventAgentUp                    // it could again
	EventOutage                     // consecutive failed tests: nothing came back
	EventOutageEnd                  // the live store's word that an outage ended
	EventNote                       // something else worth telling (Why), e.g. recorder drops
)

var eventNames = [...]string{"colour", "route", "agent down", "agent up", "outage", "outage end", "note"}

func (k EventKind) String() string {
	if int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "event"
}

// AgentEvent is an agent's change of state as a UI saw it happen.
type AgentEvent struct {
	Time  time.Time `json:"time"`
	Agent string    `json:"agent"`
	Down  bool      `json:"down"`
	Why   string    `json:"why,omitempty"`
}

// Event is one line of a pair's timeline, or of the mesh's event list (the live store
// tells them as the tests arrive, see judge.go; Src, Dst and Seq are then set).
type Event struct {
	Kind EventKind `json:"kind"`
	Time time.Time `json:"time"` // when it happened: the test's time (an outage: its first failed test)
	// End of an outage: the first test that got an answer again; zero while it lasts.
	End time.Time `json:"end,omitzero"`
	// Since is when an ended outage began (EventOutageEnd).
	Since time.Time `json:"since,omitzero"`
	Tests int       `json:"tests,omitempty"` // outage: failed tests in it
	// Src and Dst are the pair's PoPs (the mesh's list; an agent event: the agent's PoP).
	Src string `json:"src_pop,omitempty"`
	Dst string `json:"dst_pop,omitempty"`
	// Seq numbers the live store's events in the order it told them (1, 2, ...).
	Seq uint64 `json:"seq,omitempty"`

	// Colour change: metric, classes, the value that brought it, the thresholds crossed
	// (in the direction of travel).
	Metric  Metric    `json:"metric,omitempty"`
	From    Class     `json:"from,omitempty"`
	To      Class     `json:"to,omitempty"`
	Value   float64   `json:"value,omitempty"`
	Crossed []float64 `json:"crossed,omitempty"`

	Route *RouteChange `json:"route,omitempty"`

	Agent string `json:"agent,omitempty"`
	Why   string `json:"why,omitempty"`
}

// Ongoing reports whether an outage has not ended.
func (e Event) Ongoing() bool { return e.Kind == EventOutage && e.End.IsZero() }

// Duration of an outage; an ongoing one lasts until now.
func (e Event) Duration(now time.Time) time.Duration {
	if e.Kind != EventOutage {
		return 0
	}
	if e.End.IsZero() {
		return max(0, now.Sub(e.Time))
	}
	return e.End.Sub(e.Time)
}

// TimelineInput is what a pair's timeline is made of.
type TimelineInput struct {
	Samples    []Sample      // time order
	Changes    []RouteChange // RouteChanges of the pair's traces
	Agents     []AgentEvent  // the source PoP's agents, any order
	Thresholds map[Metric]Thresholds
	// Metrics whose colour changes are told; nil means latency and loss.
	Metrics []Metric
	// Confirm is how many successive answered tests must agree on a new colour before
	// it counts (the grid's --confirm); 0 or 1 tells every change. Loss is judged as
	// the live store judges it (lossjudge.go): over the probes since its rate last
	// changed, on evidence, unless NoLossHysteresis.
	Confirm          int
	NoLossHysteresis bool
}

// Timeline lists what happened to a pair, newest first: colour changes, route changes,
// agents going down and up, and outages with their start, end and length. Colour changes
// are among answered tests only; a run of failed tests is one outage, not a flurry of
// reds and recoveries.
func Timeline(in TimelineInput) []Event {
	var out []Event
	metrics := in.Metrics
	if metrics == nil {
		metrics = []Metric{Latency, Loss}
	}
	th := in.Thresholds
	if th == nil {
		th = DefaultThresholds()
	}
	confirm := max(1, in.Confirm)
	for _, m := range metrics {
		if m == Loss {
			out = append(out, lossTimeline(in.Samples, th[m], !in.NoLossHysteresis)...)
			continue
		}
		prev := NoData
		var cand Event // a change waiting for confirmation
		seen := 0
		var recent []float64 // jitter ms: the newest answered tests', as the live store judges it
		for _, s := range in.Samples {
			if s.Failed {
				continue
			}
			v := s.Value(m)
			if m == JitterMs {
				recent = append(recent, v)
				if len(recent) > jitterTests {
					recent = recent[1:]
				}
				v = median(recent)
			}
			c := th[m].Hold(v, prev, Deadband) // as the live store judges by default
			switch {
			case c == NoData:
				continue
			case prev == NoData:
				prev = c
			case c == prev:
				seen = 0
			case seen > 0 && c == cand.To:
				seen++
			default:
				cand = Event{Kind: EventColour, Time: s.Time, Metric: m, From: prev, To: c, Value: v, Crossed: crossed(th[m], prev, c)}
				seen = 1
			}
			if seen >= confirm {
				out = append(out, cand)
				prev, seen = cand.To, 0
			}
		}
	}
	var cur *Event
	for _, s := range in.Samples {
		switch {
		case s.Failed && cur == nil:
			cur = &Event{Kind: EventOutage, Time: s.Time, Tests: s.TestCount()}
		case s.Failed:
			cur.Tests += s.TestCount()
		case cur != nil:
			cur.End = s.Time
			out = append(out, *cur)
			cur = nil
		}
	}
	if cur != nil {
		out = append(out, *cur)
	}
	for _, rc := range in.Changes {
		out = append(out, Event{Kind: EventRoute, Time: rc.Time, Agent: rc.Src, Route: &rc})
	}
	for _, a := range in.Agents {
		k := EventAgentUp
		if a.Down {
			k = EventAgentDown
		}
		out = append(out, Event{Kind: k, Time: a.Time, Agent: a.Agent, Why: a.Why})
	}
	// Newest first; at the same instant the cause (agent, route, outage) before the colour.
	rank := [...]int{EventAgentDown: 0, EventAgentUp: 0, EventRoute: 1, EventOutage: 2, EventColour: 3}
	slices.SortStableFunc(out, func(a, b Event) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return rank[a.Kind] - rank[b.Kind]
	})
	return out
}

// median of values (NaN without any); values is not modified.
func median(values []float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	v := slices.Clone(values)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// lossTimeline lists the loss colour changes of samples as the live store tells them.
func lossTimeline(samples []Sample, t Thresholds, hysteresis bool) []Event {
	var out []Event
	var j lossJudge
	prev := NoData
	for i := range samples {
		s := &samples[i]
		c := j.add(s, t, hysteresis)
		if s.Failed || c == prev {
			continue
		}
		if prev != NoData {
			out = append(out, Event{Kind: EventColour, Time: s.Time, Metric: Loss, From: prev, To: c,
				Value: 100 * j.lost / j.sent, Crossed: crossed(t, prev, c)})
		}
		prev = c
	}
	return out
}

// crossed lists the thresholds between classes from and to, in the direction of travel.
// The limit between class c and c+1 is t[c-1] (Green is 1).
func crossed(t Thresholds, from, to Class) []float64 {
	var out []float64
	if to > from {
		for c := from; c < to; c++ {
			out = append(out, t[c-1])
		}
		return out
	}
	for c := from; c > to; c-- {
		out = append(out, t[c-2])
	}
	return out
}
