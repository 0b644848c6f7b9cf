package mesh

import "time"

// RouteChange is a change of path between two successive traces of the same source
// agent towards the same destination.
type RouteChange struct {
	Time     time.Time `json:"time"`
	Src      string    `json:"src"` // source agent
	Dst      string    `json:"dst"` // destination address
	Old, New TraceResult
}

// RouteChanges lists path changes in traces (time order), per (source agent,
// destination), comparing hop addresses when both traces have hops and the AS path
// otherwise (history written by the workshop keeps no hops). Traces with Err carry no
// path and are skipped.
func RouteChanges(traces []TraceResult) []RouteChange {
	type key struct{ src, dst string }
	prev := map[key]TraceResult{}
	var out []RouteChange
	for _, t := range traces {
		if !t.Measured() {
			continue
		}
		k := key{t.Src, t.Dst}
		p, seen := prev[k]
		prev[k] = t
		if !seen {
			continue
		}
		var same bool
		if len(p.Hops) > 0 && len(t.Hops) > 0 {
			same = p.PathKey() == t.PathKey()
		} else {
			same = p.ASPath == t.ASPath
		}
		if !same {
			out = append(out, RouteChange{Time: t.Time, Src: t.Src, Dst: t.Dst, Old: p, New: t})
		}
	}
	return out
}
