package mesh

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Class is the colour class of a cell (one byte: the live store keeps several a pair).
type Class int8

// Classes, ordered by badness among the colours. NoData, Unreachable and Stale are
// states, not colours: NoData means nothing was measured, Unreachable means the source
// agent itself could not be used (distinct from a pair with 100% loss, which is Red),
// Stale means the pair's newest test is too old to say anything about it now (its
// colour is dropped rather than shown as if it were current).
const (
	NoData Class = iota
	Green
	Yellow
	Orange
	Red
	Unreachable
	Stale
)

var classNames = [...]string{"nodata", "green", "yellow", "orange", "red", "unreachable", "stale"}

func (c Class) String() string {
	if c >= 0 && int(c) < len(classNames) {
		return classNames[c]
	}
	return "class(" + strconv.Itoa(int(c)) + ")"
}

// ParseClass accepts green, yellow, orange and red (for --fail-on).
func ParseClass(s string) (Class, error) {
	for i, n := range classNames {
		if strings.EqualFold(s, n) && Class(i) >= Green && Class(i) <= Red {
			return Class(i), nil
		}
	}
	return 0, fmt.Errorf("unknown class %q (want green, yellow, orange or red)", s)
}

// Severity orders classes for "sort by worst" and --fail-on: unreachable counts as red,
// no data and stale as better than green (nothing measured to alarm about now).
func (c Class) Severity() int {
	switch c {
	case Unreachable:
		return int(Red)
	case NoData, Stale:
		return 0
	}
	return int(c)
}

// Colour reports whether c is one of the four colours (green to red), not a state.
func (c Class) Colour() bool { return c >= Green && c <= Red }

// Thresholds are the three limits t1 < t2 < t3 of one metric: value < t1 green, < t2
// yellow, < t3 orange, else red.
type Thresholds [3]float64

// DefaultThresholds are the metric table's defaults (SPEC 2, the workshop dashboards').
func DefaultThresholds() map[Metric]Thresholds {
	out := make(map[Metric]Thresholds, len(Metrics))
	for _, m := range Metrics {
		out[m] = metricTable[m].Thresholds
	}
	return out
}

// ParseThresholds reads "t1,t2,t3" (the Grafana Boom Table notation).
func ParseThresholds(s string) (Thresholds, error) {
	var t Thresholds
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return t, fmt.Errorf("thresholds %q: want three comma-separated numbers t1,t2,t3", s)
	}
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return t, fmt.Errorf("thresholds %q: %q is not a number", s, p)
		}
		t[i] = v
	}
	if !(t[0] <= t[1] && t[1] <= t[2]) {
		return t, fmt.Errorf("thresholds %q: want t1 <= t2 <= t3", s)
	}
	return t, nil
}

func (t Thresholds) String() string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return f(t[0]) + "," + f(t[1]) + "," + f(t[2])
}

// Classify colours v. failed marks a failed test: for latency the workshop stored 0 and
// its dashboard painted 0 red, so a failed pair is red whatever the metric.
func (t Thresholds) Classify(v float64, failed bool) Class {
	switch {
	case failed:
		return Red
	case math.IsNaN(v):
		return NoData
	case v < t[0]:
		return Green
	case v < t[1]:
		return Yellow
	case v < t[2]:
		return Orange
	}
	return Red
}

// Deadband is how far below a threshold latency and jitter must come before they leave
// the worse colour they had, as a share of the threshold (10 %: a red 20 ms jitter
// threshold is left below 18 ms). A path that sits on a threshold otherwise changes
// colour test by test with its noise: the default lab's jittery ams-sjc path (~23 ms
// of jitter on the 20 ms red threshold) told an event every few tests. Worse colours
// are taken at once, as before (or after --confirm tests).
const Deadband = 0.10

// Hold colours v for a pair whose colour is cur: a worse class at once, a better one
// only as far as v lies below its thresholds by band (a share of each threshold).
// Without a colour (cur not green..red) it is Classify.
func (t Thresholds) Hold(v float64, cur Class, band float64) Class {
	raw := t.Classify(v, false)
	if !cur.Colour() || !raw.Colour() || raw >= cur || band <= 0 {
		return raw
	}
	var low Thresholds
	for i, x := range t {
		low[i] = x - math.Abs(x)*band
	}
	return min(cur, low.Classify(v, false))
}
