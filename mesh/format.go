package mesh

import (
	"math"
	"strconv"
)

// FormatValue renders a metric value for a cell: latency and jitter ms without decimals
// above 10 (as the workshop's dashboards did), with one below; percentages with one
// decimal below 10. failed renders as FAIL, NaN (no data) as "-".
func FormatValue(m Metric, v float64, failed bool) string {
	switch {
	case failed && m != Loss:
		return "FAIL"
	case math.IsNaN(v):
		return "-"
	case v >= 10 || v == 0:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}
