package tui

import (
	"cmp"
	"math"
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
// separated): a term is a substring of the PoP code ("sjc jfk ams" shows that sub-mesh)
// or label=value, matching a PoP whose agents carry that label ("region=eu").
func filterPops(pops []string, filter string, labels map[string]map[string]string) []string {
	terms := strings.FieldsFunc(strings.ToLower(filter), func(r rune) bool { return r == ' ' || r == ',' })
	if len(terms) == 0 {
		return slices.Clone(pops)
	}
	var out []string
	for _, p := range pops {
		for _, t := range terms {
			if matchTerm(p, t, labels[p]) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

func matchTerm(pop, term string, labels map[string]string) bool {
	k, v, isLabel := strings.Cut(term, "=")
	if !isLabel {
		return strings.Contains(pop, term)
	}
	for lk, lv := range labels {
		if strings.EqualFold(lk, k) && strings.EqualFold(lv, v) {
			return true
		}
	}
	return false
}

// score ranks a line of cells for sort-by-worst.
type score struct {
	bad   int     // cells at orange or worse
	worst int     // the worst severity in the line
	value float64 // the worst value within the worst class
}

// badness scores a line of cells: how many cells are orange or worse, then the worst
// class, then the worst value within that class (of two lines with one red cell each,
// the redder leads; colour alone left them in name order).
func badness(classes []mesh.Class, values []float64) score {
	s := score{value: math.Inf(-1)}
	for i, c := range classes {
		sev := c.Severity()
		if sev >= mesh.Orange.Severity() {
			s.bad++
		}
		v := values[i]
		if math.IsNaN(v) {
			v = math.Inf(-1)
		}
		switch {
		case sev > s.worst:
			s.worst, s.value = sev, v
		case sev == s.worst:
			s.value = math.Max(s.value, v)
		}
	}
	return s
}

// sortByBadness orders names by descending score, then by name.
func sortByBadness(names []string, scores map[string]score) {
	slices.SortStableFunc(names, func(a, b string) int {
		sa, sb := scores[a], scores[b]
		if c := cmp.Compare(sb.bad, sa.bad); c != 0 {
			return c
		}
		if c := cmp.Compare(sb.worst, sa.worst); c != 0 {
			return c
		}
		if c := cmp.Compare(sb.value, sa.value); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
}
