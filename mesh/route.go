package mesh

import (
	"slices"
	"strings"
	"time"
)

// RouteChange is a confirmed change of path of one source agent towards one
// destination.
type RouteChange struct {
	Time     time.Time `json:"time"` // when the new path was first seen
	Src      string    `json:"src"`  // source agent
	Dst      string    `json:"dst"`  // destination address
	Old, New TraceResult
}

// RouteChanges lists the route changes in traces (time order), per (source agent,
// destination).
//
// Loss must not read as a route change: under loss a hop goes silent ("*") and the
// destination answers at a later TTL than before (its reply to the right TTL was lost),
// but no other router ever answers at a TTL where the path has a known one. So a change
// is a different answering address at the same TTL (the AS at the same position for
// history written by the workshop, which keeps no hops), and only once a second trace
// confirms it: the next trace that tells the two paths apart must side with the new one
// (a trace that is silent where they differ tells nothing and leaves the change pending).
// A silent hop, a missing hop or a late destination never differs from anything. Silent
// hops of the current path are learnt from later traces, so a change behind a hop that
// was silent at first is still seen. Traces with Err carry no path and are skipped; a
// new path seen only in the last trace of the window is not reported yet.
func RouteChanges(traces []TraceResult) []RouteChange {
	type key struct{ src, dst string }
	type state struct {
		cur     route       // what is known of the current path
		curT    TraceResult // a trace of it, shown as Old
		cand    *route      // a new path seen once, awaiting confirmation
		candT   TraceResult
		hasCand bool
	}
	states := map[key]*state{}
	var out []RouteChange
	for _, t := range traces {
		if !t.Measured() {
			continue
		}
		k := key{t.Src, t.Dst}
		r := routeOf(t)
		s := states[k]
		if s == nil {
			states[k] = &state{cur: r, curT: t}
			continue
		}
		if !s.cur.differs(r) {
			if s.hasCand && s.cand.differs(r) {
				s.cand, s.hasCand = nil, false // the new path did not hold
			}
			s.cur.learn(r)
			continue
		}
		if s.hasCand && !s.cand.differs(r) {
			out = append(out, RouteChange{Time: s.candT.Time, Src: t.Src, Dst: t.Dst, Old: s.curT, New: s.candT})
			s.cand.learn(r)
			s.cur, s.curT = *s.cand, t
			s.cand, s.hasCand = nil, false
			continue
		}
		s.cand, s.candT, s.hasCand = &r, t, true
	}
	return out
}

// route is a path as comparable per TTL: hops[i] is the address answering at TTL i+1
// ("" when silent or unknown), ases[i] the AS at position i+1 of the AS path ("" for
// "*"), which is all a trace from the workshop's history has.
type route struct {
	hops []string
	ases []string
}

func routeOf(t TraceResult) route {
	var r route
	for _, h := range t.Hops {
		if h.TTL < 1 || h.TTL > MaxTTL {
			continue
		}
		for len(r.hops) < h.TTL {
			r.hops = append(r.hops, "")
		}
		if !h.NoResponse && h.Addr != "" && !slices.Contains(r.hops, h.Addr) {
			r.hops[h.TTL-1] = h.Addr
		}
	}
	for i, a := range strings.Fields(t.ASPath) {
		if i >= MaxTTL {
			break
		}
		if a == "*" {
			a = ""
		}
		r.ases = append(r.ases, a)
	}
	return r
}

// differs reports whether o has an answer that contradicts r: a different address at a
// TTL where both have one (AS paths when either side has no hops).
func (r route) differs(o route) bool {
	a, b := r.hops, o.hops
	if len(a) == 0 || len(b) == 0 {
		a, b = r.ases, o.ases
	}
	for i := range min(len(a), len(b)) {
		if a[i] != "" && b[i] != "" && a[i] != b[i] {
			return true
		}
	}
	return false
}

// learn fills what r does not know (silent TTLs, TTLs beyond its end) from o, which
// does not differ from it. An address answers at one TTL only: when o has one of r's
// addresses at an earlier, unknown TTL, that is where it belongs (the destination's
// reply to its true TTL was lost in r's trace and it answered later); when o has it
// later, o's is the late answer and is not learnt.
func (r *route) learn(o route) {
	if len(o.hops) > 0 {
		at := map[string]int{}
		for i, a := range r.hops {
			if a != "" {
				at[a] = i
			}
		}
		for i, a := range o.hops {
			if a == "" {
				continue
			}
			for len(r.hops) <= i {
				r.hops = append(r.hops, "")
			}
			if r.hops[i] != "" {
				continue
			}
			if j, seen := at[a]; seen {
				if j < i {
					continue
				}
				r.hops[j] = ""
			}
			r.hops[i], at[a] = a, i
		}
	}
	// ASes repeat along a path (several routers of one AS), so they are learnt by
	// position only.
	for i, a := range o.ases {
		for len(r.ases) <= i {
			r.ases = append(r.ases, "")
		}
		if r.ases[i] == "" {
			r.ases[i] = a
		}
	}
}
