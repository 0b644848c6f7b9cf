package mesh

import "slices"

// RetainPops drops every PoP not in keep: its row and column, its pairs' history and
// traces, and its agents. live's loop calls it when re-discovery removed agents (an
// inventory edit, a DNS record gone), so that they leave the grid rather than stay as
// stale rows; a PoP that comes back starts afresh. Nothing is done, and the version
// stays, when every PoP is kept.
func (s *Store) RetainPops(keep map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gone := map[string]bool{}
	for p := range s.pops {
		if !keep[p] {
			gone[p] = true
		}
	}
	if len(gone) == 0 {
		return
	}
	for p := range gone {
		delete(s.pops, p)
	}
	s.rows.drop(gone)
	s.paths.drop(gone)
	drop := func(p Pair) bool { return gone[p.Src] || gone[p.Dst] }
	for p := range s.pings {
		if drop(p) {
			delete(s.pings, p)
		}
	}
	for p := range s.traces {
		if drop(p) {
			delete(s.traces, p)
		}
	}
	s.dirty = slices.DeleteFunc(s.dirty, func(ser *series) bool { return drop(ser.pair) })
	for name, a := range s.agents {
		if gone[a.Pop] {
			delete(s.agents, name)
		}
	}
	s.version++
}
