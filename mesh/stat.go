package mesh

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Stat reduces a pair's samples over the window to one value.
type Stat int

// Stats of SPEC 2 in the order the TUI cycles through them.
const (
	Last Stat = iota
	Mean
	Max
	P95
	numStats
)

// Stats lists every stat in display order.
var Stats = []Stat{Last, Mean, Max, P95}

var statNames = [numStats]string{"last", "mean", "max", "p95"}

func (s Stat) String() string { return statNames[s] }

// ParseStat accepts last (or current), mean, max and p95.
func ParseStat(s string) (Stat, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "current" {
		return Last, nil
	}
	for i, n := range statNames {
		if s == n {
			return Stat(i), nil
		}
	}
	return 0, fmt.Errorf("unknown stat %q (want last, mean, max or p95)", s)
}

// Reduce applies the stat to values in time order. It returns NaN for no values.
func (s Stat) Reduce(values []float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	switch s {
	case Last:
		return values[len(values)-1]
	case Mean:
		var sum float64
		for _, v := range values {
			sum += v
		}
		return sum / float64(len(values))
	case Max:
		return slices.Max(values)
	case P95:
		return Percentile(values, 95)
	}
	return math.NaN()
}

// Percentile is the nearest-rank percentile (as InfluxQL's percentile()), so a p95 read
// from history and one computed live agree. values is not modified.
func Percentile(values []float64, p float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	return sorted[rankIndex(len(sorted), p)]
}

// rankIndex is the index into n sorted values of their nearest-rank percentile p.
func rankIndex(n int, p float64) int {
	i := int(math.Floor(float64(n)*p/100+0.5)) - 1
	return max(0, min(i, n-1))
}
