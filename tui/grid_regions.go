package tui

import (
	"cmp"
	"slices"

	"github.com/meshtop/meshtop/mesh"
)

// regionLabel is the inventory label that groups PoPs.
const regionLabel = "region"

// regionLayout is the grid's display lines: with regions, rows and columns are grouped by
// region and each group starts with a summary row (and column) holding the worst cell of
// the group; without, display lines are the rows and columns themselves.
type regionLayout struct {
	drows, dcols   []int    // display line → index into rows/cols, or -(k+1) for region k's summary
	rowPos, colPos []int    // index into rows/cols → display line
	names          []string // region k's name
	rowsOf, colsOf [][]int  // region k's members (indexes into rows/cols)
}

// popLabels collects each PoP's labels from its agents (the first agent that has a
// label wins). History has no agents, so no labels.
func popLabels(m *mesh.Matrix) map[string]map[string]string {
	if m == nil {
		return nil
	}
	var out map[string]map[string]string
	for _, a := range m.Agents {
		if len(a.Labels) == 0 {
			continue
		}
		if out == nil {
			out = map[string]map[string]string{}
		}
		l := out[a.Pop]
		if l == nil {
			l = map[string]string{}
			out[a.Pop] = l
		}
		for k, v := range a.Labels {
			if _, ok := l[k]; !ok {
				l[k] = v
			}
		}
	}
	return out
}

// regionOf is a PoP's region, "" when it has none.
func (g *gridModel) regionOf(pop string) string { return g.labels[pop][regionLabel] }

// groupByRegion orders names by region (regions by name, PoPs without one last), keeping
// the order within a region.
func groupByRegion(names []string, regionOf func(string) string) {
	slices.SortStableFunc(names, func(a, b string) int {
		ra, rb := regionOf(a), regionOf(b)
		switch {
		case ra == rb:
			return 0
		case ra == "":
			return 1
		case rb == "":
			return -1
		}
		return cmp.Compare(ra, rb)
	})
}

// newRegionLayout groups rows and cols (in place) when on and at least one PoP has a
// region, and builds the display lines.
func newRegionLayout(rows, cols []string, regionOf func(string) string, on bool) regionLayout {
	var l regionLayout
	grouped := false
	if on {
		for _, p := range rows {
			if regionOf(p) != "" {
				grouped = true
				break
			}
		}
	}
	if !grouped {
		l.drows, l.rowPos = identity(len(rows)), identity(len(rows))
		l.dcols, l.colPos = identity(len(cols)), identity(len(cols))
		return l
	}
	groupByRegion(rows, regionOf)
	groupByRegion(cols, regionOf)
	index := map[string]int{}
	region := func(p string) int {
		r := regionOf(p)
		if r == "" {
			r = "-"
		}
		k, ok := index[r]
		if !ok {
			k = len(l.names)
			index[r] = k
			l.names = append(l.names, r)
			l.rowsOf, l.colsOf = append(l.rowsOf, nil), append(l.colsOf, nil)
		}
		return k
	}
	build := func(names []string, isRow bool) (disp, pos []int) {
		pos = make([]int, len(names))
		last := -1
		for i, p := range names {
			k := region(p)
			if k != last {
				disp = append(disp, -(k + 1))
				last = k
			}
			if isRow {
				l.rowsOf[k] = append(l.rowsOf[k], i)
			} else {
				l.colsOf[k] = append(l.colsOf[k], i)
			}
			pos[i] = len(disp)
			disp = append(disp, i)
		}
		return disp, pos
	}
	l.drows, l.rowPos = build(rows, true)
	l.dcols, l.colPos = build(cols, false)
	return l
}

func identity(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
