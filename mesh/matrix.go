package mesh

import (
	"slices"
	"time"
)

// Matrix is the PoP-by-PoP grid as every view renders it: rows are source PoPs, columns
// destination PoPs, both in Pops order. It is an immutable snapshot: producers build a
// new one rather than changing a published one, so a view may keep it between frames.
type Matrix struct {
	Time   time.Time     // newest data in it (live: last completed sweep)
	Source string        // "live" or "influx"
	Pops   []string      // sorted PoP codes
	Agents []AgentStatus // live source only; sorted by PoP then name
	cells  map[Pair]*Cell
	// rows is the live store's layout instead of cells: rows[src][dst]. Rows are shared
	// with the store until it changes one (copy-on-write), so a snapshot costs a map of
	// rows, not one of cells.
	rows map[string]map[string]*Cell
	// down holds source PoPs none of whose agents could be used in the last sweep.
	down map[string]string
	// Events are the live store's newest events, oldest first, as told when the matrix
	// was taken (judge.go): every viewer of the matrix lists the same ones. TellsEvents
	// says the source tells them (the live store); a view derives its own otherwise
	// (history). Shared: read, never write.
	Events      []Event
	TellsEvents bool
	// Paths[src][dst] are the transit hops (before the destination) of each pair's
	// newest measured traceroute (live store only; nil from history): what SharedHop
	// reads. Shared: read, never write.
	Paths map[string]map[string][]Hop
}

// NewMatrix builds a matrix from reduced cells. pops may be nil: it is then derived from
// the cells and agents. Cells are shared, not copied: callers hand over ownership.
func NewMatrix(t time.Time, source string, pops []string, agents []AgentStatus, cells map[Pair]*Cell) *Matrix {
	m := &Matrix{Time: t, Source: source, Agents: agents, cells: cells, down: map[string]string{}}
	if pops == nil {
		set := map[string]bool{}
		for p := range cells {
			set[p.Src], set[p.Dst] = true, true
		}
		for _, a := range agents {
			set[a.Pop] = true
		}
		for p := range set {
			pops = append(pops, p)
		}
	}
	slices.Sort(pops)
	m.Pops = pops
	m.setDown(agents)
	return m
}

// newRowMatrix is NewMatrix for the store's row layout; pops must be complete.
func newRowMatrix(t time.Time, source string, pops []string, agents []AgentStatus, rows map[string]map[string]*Cell) *Matrix {
	m := &Matrix{Time: t, Source: source, Agents: agents, rows: rows, down: map[string]string{}}
	slices.Sort(pops)
	m.Pops = pops
	m.setDown(agents)
	return m
}

func (m *Matrix) setDown(agents []AgentStatus) {
	// A PoP's row is unreachable only when every one of its agents failed: one dead agent
	// of two still leaves the other's measurements.
	byPop := map[string][]AgentStatus{}
	for _, a := range agents {
		byPop[a.Pop] = append(byPop[a.Pop], a)
	}
	for pop, as := range byPop {
		failing := 0
		for _, a := range as {
			if a.State.Failing() {
				failing++
			}
		}
		if failing == len(as) {
			m.down[pop] = as[0].Error
		}
	}
}

// Cell returns the cell of a pair, or nil when the pair has no data at all.
func (m *Matrix) Cell(src, dst string) *Cell {
	if m == nil {
		return nil
	}
	if m.rows != nil {
		return m.rows[src][dst]
	}
	return m.cells[Pair{src, dst}]
}

// SourceDown reports whether every agent of a source PoP failed in the last sweep, and why.
func (m *Matrix) SourceDown(pop string) (string, bool) {
	if m == nil {
		return "", false
	}
	why, ok := m.down[pop]
	return why, ok
}

// Class is the colour class of a cell under metric, stat and thresholds (its Verdict's).
func (m *Matrix) Class(src, dst string, metric Metric, stat Stat, th Thresholds) Class {
	return m.Verdict(src, dst, MetricView(metric), stat, map[Metric]Thresholds{metric: th}).Class
}

// Len is the number of PoPs.
func (m *Matrix) Len() int {
	if m == nil {
		return 0
	}
	return len(m.Pops)
}
