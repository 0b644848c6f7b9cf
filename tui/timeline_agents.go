package tui

import (
	"slices"
	"strings"
	"time"

	"github.com/meshtop/meshtop/internal/textsafe"
	"github.com/meshtop/meshtop/mesh"
)

// agentLog remembers when each agent went down and came back, as the UI saw it in
// successive matrices: the sources keep only an agent's latest state, but the drill-down
// says "down since …" and the timeline lists the changes.
type agentLog struct {
	seen   map[string]agentSeen
	events []agentEvent // oldest first, bounded
}

type agentSeen struct {
	pop   string
	down  bool
	since time.Time
	why   string
}

type agentEvent struct {
	pop string
	mesh.AgentEvent
}

// maxAgentEvents bounds the log: a flapping agent must not grow it without end.
const maxAgentEvents = 2000

// observe takes the agents' states at time t and reports whether any changed. The first
// sight of an agent that is down counts as it going down then: meshtop cannot know more.
func (l *agentLog) observe(t time.Time, agents []mesh.AgentStatus) bool {
	if l.seen == nil {
		l.seen = map[string]agentSeen{}
	}
	changed := false
	for _, a := range agents {
		down := a.State.Failing()
		prev, known := l.seen[a.Name]
		if known && prev.down == down {
			continue
		}
		changed = true
		why := textsafe.Message(a.Error)
		l.seen[a.Name] = agentSeen{pop: a.Pop, down: down, since: t, why: why}
		if !known && !down {
			continue // an agent that is fine from the start is no event
		}
		l.events = append(l.events, agentEvent{pop: a.Pop, AgentEvent: mesh.AgentEvent{Time: t, Agent: a.Name, Down: down, Why: why}})
		if len(l.events) > maxAgentEvents {
			l.events = l.events[len(l.events)-maxAgentEvents:]
		}
	}
	return changed
}

// eventsOf lists the changes of a PoP's agents.
func (l *agentLog) eventsOf(pop string) []mesh.AgentEvent {
	var out []mesh.AgentEvent
	for _, e := range l.events {
		if e.pop == pop {
			out = append(out, e.AgentEvent)
		}
	}
	return out
}

// downOf lists the PoP's agents that are down now, by name.
func (l *agentLog) downOf(pop string) []agentDown {
	var out []agentDown
	for name, s := range l.seen {
		if s.pop == pop && s.down {
			out = append(out, agentDown{name: name, since: s.since, why: s.why})
		}
	}
	slices.SortFunc(out, func(a, b agentDown) int { return strings.Compare(a.name, b.name) })
	return out
}

type agentDown struct {
	name  string
	since time.Time
	why   string
}
