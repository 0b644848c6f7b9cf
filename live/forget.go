package live

import "github.com/meshtop/meshtop/mesh"

// forgetGone drops from the store the PoPs that no agent of the mesh has any more
// (re-discovery removed their agents), so they leave the grid within a sweep. Results
// of a retired agent's last pass that land after it are dropped at the next sweep's
// end.
func (l *Loop) forgetGone() {
	l.mu.Lock()
	keep := make(map[string]bool, len(l.agents))
	for _, a := range l.agents {
		keep[a.Pop] = true
	}
	l.mu.Unlock()
	if len(keep) > 0 {
		l.Store.RetainPops(keep)
	}
}

// joins says whether as has an agent the mesh has not; l.mu is held.
func (l *Loop) joins(as []mesh.Agent) bool {
	have := make(map[string]bool, len(l.agents))
	for _, a := range l.agents {
		have[a.Name] = true
	}
	for _, a := range as {
		if !have[a.Name] {
			return true
		}
	}
	return false
}
