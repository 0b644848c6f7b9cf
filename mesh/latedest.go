package mesh

// LateDestinations tells, per trace, whether the destination answered late: its reply to
// the probe at its true ttl (the lowest ttl at which it ever answered the same source
// agent in traces) was lost, nothing answered between, and the traceroute went on until
// the destination answered a later probe. That is one lost reply, not a longer path, and
// no route change (RouteChanges and HopStats read it the same way).
//
// late[i] is the true ttl for such a trace, 0 for every other one. Traces without hops
// (the workshop's history keeps only the final hop) cannot tell and are never late.
func LateDestinations(traces []TraceResult) []int {
	type key struct{ src, dst string }
	lowest := map[key]int{}
	for _, t := range traces {
		if e := destTTL(t); e > 0 && t.Measured() {
			k := key{t.Src, t.Dst}
			if d, ok := lowest[k]; !ok || e < d {
				lowest[k] = e
			}
		}
	}
	late := make([]int, len(traces))
	for i, t := range traces {
		d, e := lowest[key{t.Src, t.Dst}], destTTL(t)
		if !t.Measured() || d == 0 || e <= d {
			continue
		}
		late[i] = d
		for _, h := range t.Hops {
			if h.TTL >= d && h.TTL < e && !h.NoResponse {
				late[i] = 0 // a router answered there: the path really is longer
				break
			}
		}
	}
	return late
}
