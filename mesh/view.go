package mesh

import (
	"fmt"
	"strconv"
	"strings"
)

// View is what a grid cell shows: Health (the default: the worst of the health metrics)
// or one metric alone. The zero value is Health.
type View int

// Health is the view whose class is the worst of latency, jitter (ms) and loss, and
// whose text is the value that decided it.
const Health View = 0

// HealthMetrics are the metrics a cell's health is made of, in the order a tie between
// equal classes is broken: loss first (it is what hides behind a latency figure), then
// latency, then jitter. Jitter counts in milliseconds: the jitter % of a short path
// swings past its thresholds for a millisecond (7 ms with 1 ms of jitter is 14 %).
var HealthMetrics = []Metric{Loss, Latency, JitterMs}

// MetricView is the view of metric m alone.
func MetricView(m Metric) View { return View(m + 1) }

// Views lists every view in the order the TUI cycles through them: health, then the
// metrics in their table order.
var Views = func() []View {
	out := []View{Health}
	for _, m := range Metrics {
		out = append(out, MetricView(m))
	}
	return out
}()

// Metric is the view's metric, and false for Health.
func (v View) Metric() (Metric, bool) {
	if v <= Health || int(v) > int(numMetrics) {
		return 0, false
	}
	return Metric(v - 1), true
}

// IsHealth reports whether v is the health view.
func (v View) IsHealth() bool {
	_, ok := v.Metric()
	return !ok
}

// String is the view's flag name: health, or the metric's.
func (v View) String() string {
	if m, ok := v.Metric(); ok {
		return m.String()
	}
	if v == Health {
		return "health"
	}
	return "view(" + strconv.Itoa(int(v)) + ")"
}

// Title labels the view in headers and legends.
func (v View) Title() string {
	if m, ok := v.Metric(); ok {
		return m.Title()
	}
	return "Health"
}

// ViewNames is the flag names for help and error texts: "health, latency, ... or loss".
func ViewNames() string { return "health, " + MetricNames() }

// ViewValues is every view's flag name, for completion and validation.
func ViewValues() []string { return append([]string{"health"}, MetricValues()...) }

// ParseView accepts "health" and everything ParseMetric does.
func ParseView(s string) (View, error) {
	if strings.EqualFold(strings.TrimSpace(s), "health") {
		return Health, nil
	}
	m, err := ParseMetric(s)
	if err != nil {
		return Health, fmt.Errorf("unknown view %q (want %s)", s, ViewNames())
	}
	return MetricView(m), nil
}
