package events

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
)

// Watcher turns finished sweeps into events by comparing each with what it saw before.
// It is called from the sweep loop (one sweep at a time); the mutex only guards against
// a recorder report arriving from another goroutine.
type Watcher struct {
	Log        *Log
	Thresholds map[mesh.Metric]mesh.Thresholds // nil: mesh.DefaultThresholds()
	// Confirm is how many successive sweeps must agree on a new colour before it is an
	// event (the UI's --confirm); 0 or 1: at once.
	Confirm int

	mu      sync.Mutex
	colours map[colourKey]*colourState
	routes  map[routeKey]string
	agents  map[string]mesh.AgentState
	dropped int64
}

type colourKey struct {
	pair   mesh.Pair
	metric mesh.Metric
}

type colourState struct {
	shown, pending mesh.Class
	streak         int
}

type routeKey struct{ src, dst string }

// Sweep compares a finished sweep (and the store's matrix after it) with the previous one.
func (w *Watcher) Sweep(sw probe.Sweep, m *mesh.Matrix) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.colours == nil {
		w.colours, w.routes, w.agents = map[colourKey]*colourState{}, map[routeKey]string{}, map[string]mesh.AgentState{}
	}
	th := w.Thresholds
	if th == nil {
		th = mesh.DefaultThresholds()
	}
	for _, a := range sw.Agents {
		prev, seen := w.agents[a.Name]
		w.agents[a.Name] = a.State
		attrs := []slog.Attr{slog.String("agent", a.Name), slog.String("pop", a.Pop), slog.String("state", string(a.State))}
		switch {
		case a.State.Failing() && (!seen || !prev.Failing()):
			w.Log.Add(Event{Time: sw.Time, Kind: KindAgentDown, Attrs: append(attrs, slog.String("error", a.Error)),
				Text: fmt.Sprintf("agent %s (%s) down: %s", a.Name, a.Pop, a.Error)})
		case seen && prev.Failing() && !a.State.Failing():
			w.Log.Add(Event{Time: sw.Time, Kind: KindAgentUp, Attrs: attrs,
				Text: fmt.Sprintf("agent %s (%s) up again", a.Name, a.Pop)})
		}
	}
	for _, t := range sw.Traces {
		if !t.Measured() {
			continue
		}
		k := routeKey{t.Src, t.Dst}
		key := t.PathKey()
		if len(t.Hops) == 0 {
			key = t.ASPath
		}
		prev, seen := w.routes[k]
		w.routes[k] = key
		if seen && prev != key {
			w.Log.Add(Event{Time: sw.Time, Kind: KindRoute, Attrs: []slog.Attr{
				slog.String("src", t.Src), slog.String("src_pop", t.SrcPop), slog.String("dst", t.Dst),
				slog.String("dst_pop", t.DstPop), slog.String("old", prev), slog.String("new", key),
				slog.String("as_path", t.ASPath)},
				Text: fmt.Sprintf("route %s→%s (%s) changed: %s → %s", t.SrcPop, t.DstPop, t.Dst, prev, key)})
		}
	}
	if m == nil {
		return
	}
	confirm := max(1, w.Confirm)
	for _, src := range m.Pops {
		for _, dst := range m.Pops {
			if src == dst || m.Cell(src, dst) == nil {
				continue
			}
			for _, metric := range mesh.Metrics {
				c := m.Class(src, dst, metric, mesh.Last, th[metric])
				k := colourKey{mesh.Pair{Src: src, Dst: dst}, metric}
				st, seen := w.colours[k]
				if !seen {
					w.colours[k] = &colourState{shown: c, pending: c}
					continue
				}
				if c == st.shown {
					st.pending, st.streak = c, 0
					continue
				}
				if c == st.pending {
					st.streak++
				} else {
					st.pending, st.streak = c, 1
				}
				if st.streak < confirm {
					continue
				}
				old := st.shown
				st.shown, st.streak = c, 0
				v, failed := m.Cell(src, dst).Value(metric, mesh.Last)
				val := mesh.FormatValue(metric, v, failed)
				w.Log.Add(Event{Time: sw.Time, Kind: KindColour, Attrs: []slog.Attr{
					slog.String("src_pop", src), slog.String("dst_pop", dst), slog.String("metric", metric.String()),
					slog.String("old", old.String()), slog.String("new", c.String()), slog.String("value", val)},
					Text: fmt.Sprintf("%s→%s %s %s → %s (%s %s)", src, dst, metric, old, c, val, metric.Unit())})
			}
		}
	}
}

// Record notes the recorder's dropped-points count; a rise is an event.
func (w *Watcher) Record(dropped int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if dropped > w.dropped {
		w.Log.Add(Event{Kind: KindRecordDrop, Attrs: []slog.Attr{slog.Int64("dropped", dropped-w.dropped),
			slog.Int64("dropped_total", dropped)},
			Text: fmt.Sprintf("recorder dropped %d points (%d in all): InfluxDB is not keeping up", dropped-w.dropped, dropped)})
	}
	w.dropped = dropped
}
