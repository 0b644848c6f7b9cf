package mesh

import "time"

// DefaultEventCapacity is how many events a store keeps (serve's --event-log).
const DefaultEventCapacity = 500

// routeTail is how many of a pair's newest traces are searched for a route change when
// a trace arrives: enough to confirm one (RouteChanges needs a second trace).
const routeTail = 8

// routeKey names one source agent's path to one destination address.
type routeKey struct{ src, dst string }

// SetJudgement sets how pairs are judged (thresholds, --confirm, loss hysteresis). Call
// it before adding results: pairs judged already keep their state.
func (s *Store) SetJudgement(j Judgement) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.judgement = j
}

// SetEventSink has every event handed to fn as it is told, outside the store's lock
// and in order (serve writes them as log lines). nil: none.
func (s *Store) SetEventSink(fn func(Event)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sink = fn
}

// SetEventCapacity bounds the events kept (DefaultEventCapacity when n <= 0).
func (s *Store) SetEventCapacity(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		n = DefaultEventCapacity
	}
	s.evCap = n
	s.trimEvents()
}

// Note tells an event from outside the store (the recorder's drops), so it is listed
// with the others, in the one order every viewer sees. A zero Time is now.
func (s *Store) Note(e Event) {
	s.mu.Lock()
	defer s.unlock()
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	s.tell([]Event{e})
	s.version++
}

// Events returns the events kept, oldest first (a copy).
func (s *Store) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// EventCount is how many events the store has told in all (the newest one's Seq).
func (s *Store) EventCount() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.evSeq
}

// tell numbers events, keeps them and queues them for the sink; s.mu is held.
func (s *Store) tell(evs []Event) {
	for _, e := range evs {
		s.evSeq++
		e.Seq = s.evSeq
		s.events = append(s.events, e)
		if s.sink != nil {
			s.outbox = append(s.outbox, e)
		}
	}
	if len(s.events) >= 2*s.evCap {
		s.trimEvents()
	}
}

// trimEvents keeps the newest evCap events in a new array: matrices handed out share
// the old one, which is never written again.
func (s *Store) trimEvents() {
	if len(s.events) > s.evCap {
		s.events = append(make([]Event, 0, 2*s.evCap), s.events[len(s.events)-s.evCap:]...)
	}
}

// unlock releases s.mu and hands the events told meanwhile to the sink, in order.
func (s *Store) unlock() {
	out, sink := s.outbox, s.sink
	s.outbox = nil
	if len(out) > 0 {
		s.sinkMu.Lock() // taken before mu is released: deliveries keep the events' order
	}
	s.mu.Unlock()
	if len(out) == 0 {
		return
	}
	defer s.sinkMu.Unlock()
	for _, e := range out {
		sink(e)
	}
}

// tellIfWhole tells the newest sample's events once every agent pair's result of its
// sweep is in.
func (s *Store) tellIfWhole(ser *series) {
	if ser.arrived >= s.expected(ser.pair) {
		s.tell(ser.tell(&s.judgement))
	}
}

// expected is how many results make one sweep of a pair whole: every agent of the
// source PoP to every agent of the destination PoP (not to itself).
func (s *Store) expected(p Pair) int {
	ns, nd := max(1, s.popAgents[p.Src]), max(1, s.popAgents[p.Dst])
	if p.Src == p.Dst {
		return max(1, ns*(ns-1))
	}
	return ns * nd
}

func (s *Store) countPopAgents() {
	clear(s.popAgents)
	for _, a := range s.agents {
		s.popAgents[a.Pop]++
	}
}

// agentChanged tells an agent going down (also when first seen down) or coming back.
func (s *Store) agentChanged(old map[string]AgentStatus, a AgentStatus) {
	prev, seen := old[a.Name]
	e := Event{Time: s.now(), Src: a.Pop, Agent: a.Name}
	switch {
	case a.State.Failing() && (!seen || !prev.State.Failing()):
		e.Kind, e.Why = EventAgentDown, a.Error
	case seen && prev.State.Failing() && !a.State.Failing():
		e.Kind = EventAgentUp
	default:
		return
	}
	s.tell([]Event{e})
}

// routeChanged tells the route changes the newest traces of a pair confirm, each once.
func (s *Store) routeChanged(p Pair, rg *ring[TraceResult]) {
	for _, c := range RouteChanges(rg.tail(routeTail)) {
		k := routeKey{c.Src, c.Dst}
		if !c.Time.After(s.routeTold[k]) {
			continue
		}
		s.routeTold[k] = c.Time
		rc := c
		s.tell([]Event{{Kind: EventRoute, Time: c.Time, Src: p.Src, Dst: p.Dst, Agent: c.Src, Route: &rc}})
	}
}

// SetClock replaces the clock that stamps events without a test of their own (agents
// down and up, notes); tests pin it.
func (s *Store) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}
