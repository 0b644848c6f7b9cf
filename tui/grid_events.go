package tui

import (
	"fmt"
	"slices"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// eventKind is what happened to a pair or an agent.
type eventKind int

const (
	evRed       eventKind = iota // a pair turned red
	evRecovered                  // a red pair is better again
	evDown                       // a PoP's agents cannot be used
	evUp                         // they can again
	evRoute                      // a pair's path changed (confirmed)
)

// meshEvent is one line of the panel's event list: newest first, each naming the pair to
// jump to.
type meshEvent struct {
	at       time.Time
	kind     eventKind
	src, dst string
	value    string // the value that crossed, formatted
	why      string // an agent's error
}

func (e meshEvent) text() string {
	at := e.at.Local().Format("15:04:05")
	switch e.kind {
	case evRed:
		return fmt.Sprintf("%s %s→%s turned red %s", at, e.src, e.dst, e.value)
	case evRecovered:
		return fmt.Sprintf("%s %s→%s recovered %s", at, e.src, e.dst, e.value)
	case evRoute:
		return fmt.Sprintf("%s %s→%s route changed %s", at, e.src, e.dst, e.value)
	case evDown:
		return fmt.Sprintf("%s %s agents down %s", at, e.src, e.why)
	default:
		return fmt.Sprintf("%s %s agents up", at, e.src)
	}
}

// eventLog derives mesh-wide events from successive matrices: the classes of the last
// matrix under the grid's view are the baseline the next one is compared with.
type eventLog struct {
	capacity  int
	list      []meshEvent // newest first
	pops      []string
	classes   []mesh.Class // baseline, pops x pops
	down      map[string]bool
	routes    map[routeKey]bool // route changes already listed
	routeNext int               // the pair the next route-change read starts at
}

type routeKey struct {
	at       int64
	src, dst string // agent and address
}

// addRoutes lists the route changes not seen before, in time order among the other
// events; it reports whether any was new.
func (l *eventLog) addRoutes(changes []mesh.RouteChange) bool {
	if l.routes == nil || len(l.routes) > 16*l.capacity {
		// Forget what left the window; what is still in it is in changes.
		l.routes = map[routeKey]bool{}
		for _, e := range l.list {
			if e.kind == evRoute {
				for _, c := range changes {
					if c.Time.Equal(e.at) && c.New.SrcPop == e.src && c.New.DstPop == e.dst {
						l.routes[routeKey{c.Time.UnixNano(), c.Src, c.Dst}] = true
					}
				}
			}
		}
	}
	added := false
	for _, c := range changes {
		k := routeKey{c.Time.UnixNano(), c.Src, c.Dst}
		if l.routes[k] {
			continue
		}
		l.routes[k] = true
		added = true
		hops := ""
		if n := len(c.New.Hops); n > 0 {
			hops = fmt.Sprintf("(%d hops, was %d)", n, len(c.Old.Hops))
		} else if c.New.ASPath != "" {
			hops = "AS " + c.New.ASPath
		}
		l.list = append(l.list, meshEvent{at: c.Time, kind: evRoute, src: c.New.SrcPop, dst: c.New.DstPop, value: hops})
	}
	if added {
		// Newest first; events of one time keep their order.
		slices.SortStableFunc(l.list, func(a, b meshEvent) int { return b.at.Compare(a.at) })
		if len(l.list) > l.capacity {
			l.list = l.list[:l.capacity]
		}
	}
	return added
}

func newEventLog(capacity int) *eventLog { return &eventLog{capacity: capacity} }

// observe compares next with the baseline and records what changed. A first matrix (or
// another PoP set) only sets the baseline: nothing "happened" at start-up.
func (l *eventLog) observe(_, next *mesh.Matrix, metric mesh.Metric, stat mesh.Stat, th mesh.Thresholds) {
	if next == nil {
		return
	}
	if !slices.Equal(l.pops, next.Pops) {
		l.rebase(next, metric, stat, th)
		return
	}
	n := len(next.Pops)
	var found []meshEvent
	for _, s := range next.Pops {
		why, isDown := next.SourceDown(s)
		switch {
		case isDown && !l.down[s]:
			found = append(found, meshEvent{at: next.Time, kind: evDown, src: s, why: why})
		case !isDown && l.down[s]:
			found = append(found, meshEvent{at: next.Time, kind: evUp, src: s})
		}
		l.down[s] = isDown
	}
	for i, s := range next.Pops {
		if l.down[s] {
			continue
		}
		for j, d := range next.Pops {
			if i == j {
				continue
			}
			now := next.Class(s, d, metric, stat, th)
			was := l.classes[i*n+j]
			l.classes[i*n+j] = now
			if now == was || was == mesh.Unreachable || now == mesh.NoData || was == mesh.NoData {
				continue
			}
			var kind eventKind
			switch {
			case now == mesh.Red:
				kind = evRed
			case was == mesh.Red:
				kind = evRecovered
			default:
				continue
			}
			c := next.Cell(s, d)
			v, failed := c.Value(metric, stat)
			found = append(found, meshEvent{at: next.Time, kind: kind, src: s, dst: d,
				value: mesh.FormatValue(metric, v, failed)})
		}
	}
	for i, j := 0, len(found)-1; i < j; i, j = i+1, j-1 {
		found[i], found[j] = found[j], found[i]
	}
	l.list = append(found, l.list...)
	if len(l.list) > l.capacity {
		l.list = l.list[:l.capacity]
	}
}

// rebase takes m as the baseline without recording events (a new view or PoP set).
func (l *eventLog) rebase(m *mesh.Matrix, metric mesh.Metric, stat mesh.Stat, th mesh.Thresholds) {
	if m == nil {
		return
	}
	n := len(m.Pops)
	l.pops = m.Pops
	l.classes = make([]mesh.Class, n*n)
	l.down = make(map[string]bool, n)
	for i, s := range m.Pops {
		_, l.down[s] = m.SourceDown(s)
		for j, d := range m.Pops {
			l.classes[i*n+j] = m.Class(s, d, metric, stat, th)
		}
	}
}
