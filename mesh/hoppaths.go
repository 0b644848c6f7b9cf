package mesh

import "time"

// pathTraces is the traces of one path of one agent towards one destination.
type pathTraces struct {
	traces []TraceResult
	spans  []Span
	// starts are when each of its spans began for the pings: the span's first trace,
	// or the beginning of time for the window's first span (pings before the first
	// trace are of the path it found); ends are when the next span of another path
	// began (zero: still taken).
	starts, ends []time.Time
}

// owns reports whether a ping taken at t was taken while this path was.
func (p pathTraces) owns(t time.Time) bool {
	for i := range p.starts {
		if !t.Before(p.starts[i]) && (p.ends[i].IsZero() || t.Before(p.ends[i])) {
			return true
		}
	}
	return false
}

// splitPaths splits one agent's traces to one destination (time order) by path, like
// trippy's flows: a trace belongs to the path it does not contradict (no other address
// at a ttl where both have one; silent hops and late destinations contradict nothing),
// the current path first, else the most recent other path it fits, else it starts a new
// one. So loss never splits a path, a route change always does, and a return to an old
// route folds into that path again. The newest trace's path comes first; the others
// follow, most recently taken first.
func splitPaths(traces []TraceResult) []pathTraces {
	type path struct {
		route route
		pt    pathTraces
		last  int // index of its newest trace
	}
	var paths []*path
	var cur *path
	for i, t := range traces {
		r := routeOf(t)
		p := cur
		if p == nil || p.route.differs(r) {
			p = nil
			best := -1
			for _, q := range paths {
				if !q.route.differs(r) && q.last > best {
					p, best = q, q.last
				}
			}
		}
		if p == nil {
			p = &path{route: r}
			paths = append(paths, p)
		} else {
			p.route.learn(r)
		}
		if p != cur {
			// A new span of p; the span of the path it leaves ends here.
			if cur != nil {
				cur.pt.ends[len(cur.pt.ends)-1] = t.Time
			}
			start := t.Time
			if cur == nil {
				start = time.Time{}
			}
			p.pt.spans = append(p.pt.spans, Span{From: t.Time, To: t.Time})
			p.pt.starts = append(p.pt.starts, start)
			p.pt.ends = append(p.pt.ends, time.Time{})
		}
		sp := &p.pt.spans[len(p.pt.spans)-1]
		sp.To = t.Time
		sp.Traces++
		p.pt.traces = append(p.pt.traces, t)
		p.last = i
		cur = p
	}
	// Newest first: the current path, then by when each was last taken.
	out := make([]pathTraces, 0, len(paths))
	for len(paths) > 0 {
		best := 0
		for i, p := range paths {
			if p.last > paths[best].last {
				best = i
			}
		}
		out = append(out, paths[best].pt)
		paths = append(paths[:best], paths[best+1:]...)
	}
	return out
}
