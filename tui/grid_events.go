package tui

import (
	"slices"
	"time"

	"github.com/meshtop/meshtop/internal/textsafe"
	"github.com/meshtop/meshtop/mesh"
)

// EventLine is one event as the panel lists it (and serve's bottom line tells it): its
// test's time and its text.
func EventLine(e mesh.Event) string {
	return e.Time.Local().Format("15:04:05") + " " + textsafe.String(e.Text(), 300)
}

// eventLog is the panel's list of mesh-wide events, newest first, each naming the pair
// to jump to. A source that tells its events (the live store: Matrix.TellsEvents) hands
// the whole list over with every matrix, so every viewer of it lists the same events
// with their tests' times. For one that does not (history) the list is derived from
// successive matrices: colour changes of every health metric under the stat (whatever
// the view), FAILs and answers, agents down and up.
type eventLog struct {
	capacity int
	list     []mesh.Event // newest first
	// The derivation's baseline: per pair and event metric the class, per pair since
	// when it fails (zero: it does not), per PoP whether its agents were down.
	pops    []string
	classes []mesh.Class
	failing []time.Time
	down    map[string]bool
}

func newEventLog(capacity int) *eventLog { return &eventLog{capacity: capacity} }

// observe takes the events of the next matrix. A derived list only sets its baseline
// from a first matrix (or another PoP set): nothing "happened" at start-up.
func (l *eventLog) observe(next *mesh.Matrix, stat mesh.Stat, th map[mesh.Metric]mesh.Thresholds) {
	switch {
	case next == nil:
		return
	case next.TellsEvents:
		l.list = l.list[:0]
		for i := len(next.Events) - 1; i >= 0 && len(l.list) < l.capacity; i-- {
			l.list = append(l.list, next.Events[i])
		}
		return
	case !slices.Equal(l.pops, next.Pops):
		l.rebase(next, stat, th)
		return
	}
	var found []mesh.Event
	at := next.Time
	for _, s := range next.Pops {
		why, isDown := next.SourceDown(s)
		switch {
		case isDown && !l.down[s]:
			found = append(found, mesh.Event{Kind: mesh.EventAgentDown, Time: at, Src: s, Why: why})
		case !isDown && l.down[s]:
			found = append(found, mesh.Event{Kind: mesh.EventAgentUp, Time: at, Src: s})
		}
		l.down[s] = isDown
	}
	n, k := len(next.Pops), len(mesh.EventMetrics)
	for i, s := range next.Pops {
		if l.down[s] {
			continue
		}
		for j, d := range next.Pops {
			c := next.Cell(s, d)
			if i == j || c == nil || c.Samples == 0 {
				continue
			}
			fail := c.Verdict(mesh.Health, stat, th).Failed
			switch since := l.failing[i*n+j]; {
			case fail && since.IsZero():
				l.failing[i*n+j] = at
				found = append(found, mesh.Event{Kind: mesh.EventOutage, Time: at, Src: s, Dst: d})
			case !fail && !since.IsZero():
				l.failing[i*n+j] = time.Time{}
				found = append(found, mesh.Event{Kind: mesh.EventOutageEnd, Time: at, Since: since, Src: s, Dst: d})
			}
			if fail {
				continue // an outage, not a flurry of colours
			}
			for x, m := range mesh.EventMetrics {
				vd := c.Verdict(mesh.MetricView(m), stat, th)
				was := l.classes[(i*n+j)*k+x]
				l.classes[(i*n+j)*k+x] = vd.Class
				if vd.Class == was || !vd.Class.Colour() || !was.Colour() {
					continue
				}
				found = append(found, mesh.Event{Kind: mesh.EventColour, Time: at, Src: s, Dst: d, Metric: m,
					From: was, To: vd.Class, Value: vd.Value})
			}
		}
	}
	slices.Reverse(found)
	l.list = append(found, l.list...)
	if len(l.list) > l.capacity {
		l.list = l.list[:l.capacity]
	}
}

// rebase takes m as the derivation's baseline without telling events (a new stat or
// PoP set).
func (l *eventLog) rebase(m *mesh.Matrix, stat mesh.Stat, th map[mesh.Metric]mesh.Thresholds) {
	if m == nil || m.TellsEvents {
		return
	}
	n, k := len(m.Pops), len(mesh.EventMetrics)
	l.pops = m.Pops
	l.classes = make([]mesh.Class, n*n*k)
	l.failing = make([]time.Time, n*n)
	l.down = make(map[string]bool, n)
	for i, s := range m.Pops {
		_, l.down[s] = m.SourceDown(s)
		for j, d := range m.Pops {
			c := m.Cell(s, d)
			if c.Verdict(mesh.Health, stat, th).Failed {
				l.failing[i*n+j] = m.Time
			}
			for x, mt := range mesh.EventMetrics {
				l.classes[(i*n+j)*k+x] = c.Verdict(mesh.MetricView(mt), stat, th).Class
			}
		}
	}
}
