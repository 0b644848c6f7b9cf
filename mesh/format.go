package mesh

import (
	"math"
	"strconv"
)

// FormatValue renders a metric value for a cell: no decimals from 10 up (as the
// workshop's dashboards did), the metric's Decimals below. failed renders as FAIL for a
// metric that has no value for a failed test, NaN (no data) as "-", and a value no
// measurement can have (infinite, or beyond what Check lets through) as "?" rather
// than as data.
func FormatValue(m Metric, v float64, failed bool) string {
	switch {
	case failed && !m.CountsFailed():
		return "FAIL"
	case math.IsNaN(v):
		return "-"
	case math.IsInf(v, 0) || math.Abs(v) > maxShown:
		return "?"
	case v >= 10 || v == 0:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', metricTable[m].Decimals, 64)
}

// maxShown is the largest magnitude a cell prints: above every plausibility limit of
// validate.go, so only a value that bypassed Check is hidden.
const maxShown = 1e9
