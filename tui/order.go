package tui

import (
	"slices"
	"strings"

	"github.com/meshtop/meshtop/mesh"
)

// sortMode orders the grid's rows and columns.
type sortMode int

const (
	sortName  sortMode = iota // alphabetical
	sortWorst                 // most bad cells first
)

func (s sortMode) String() string {
	if s == sortWorst {
		return "worst"
	}
	return "name"
}

// filterPops keeps the PoPs matching any of the filter's terms (space or comma
// separated, substring match): "sjc jfk ams" shows that sub-mesh.
func filterPops(pops []string, filter string) []string {
	terms := strings.FieldsFunc(strings.ToLower(filter), func(r rune) bool { return r == ' ' || r == ',' })
	if len(terms) == 0 {
		return slices.Clone(pops)
	}
	var out []string
	for _, p := range pops {
		for _, t := range terms {
			if strings.Contains(p, t) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// badness scores a line of cells for sort-by-worst: the count of cells at orange or
// worse dominates, then the worst severity.
func badness(classes []mesh.Class) int {
	bad, worst := 0, 0
	for _, c := range classes {
		s := c.Severity()
		if s >= mesh.Orange.Severity() {
			bad++
		}
		worst = max(worst, s)
	}
	return bad*16 + worst
}

// sortByBadness orders names by descending score, then by name.
func sortByBadness(names []string, score map[string]int) {
	slices.SortStableFunc(names, func(a, b string) int {
		if score[a] != score[b] {
			return score[b] - score[a]
		}
		return strings.Compare(a, b)
	})
}
