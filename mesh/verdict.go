package mesh

import "math"

// Verdict is what a cell says under a view and a stat: the one rule every view (grid,
// panel, snapshot, --fail-on, events of history) applies.
type Verdict struct {
	Class Class
	// Metric is whose value the cell shows: the view's, or under health the metric
	// that decided (the worst; ties go to loss, then latency, then jitter).
	Metric Metric
	Value  float64 // NaN: none
	// Failed: FAIL. The newest test got nothing back, shown at once whatever the stat,
	// or under the stat every test of the window failed.
	Failed bool
	// Pending: the colour waits for evidence of the change the value suggests (loss's
	// confidence rule, --confirm).
	Pending bool
}

// Verdict judges the cell under view v and stat s; th may lack metrics (defaults). A nil
// or empty cell has no data.
func (c *Cell) Verdict(v View, s Stat, th map[Metric]Thresholds) Verdict {
	m, single := v.Metric()
	if !single {
		m = Latency
	}
	if c == nil || c.Samples == 0 {
		return Verdict{Class: NoData, Metric: m, Value: math.NaN()}
	}
	if c.failedNow() || (s != Last && c.Failed[s]) {
		return Verdict{Class: Red, Metric: m, Value: c.Values[m][s], Failed: true}
	}
	if single {
		vd, _ := c.metricVerdict(m, s, th)
		return vd
	}
	best := Verdict{Class: NoData, Metric: Latency, Value: c.Values[Latency][s]}
	var raws [numMetrics]Class
	var each [numMetrics]Verdict
	for _, hm := range HealthMetrics {
		vd, raw := c.metricVerdict(hm, s, th)
		raws[hm], each[hm] = raw, vd
		if vd.Class.Colour() && (!best.Class.Colour() || vd.Class.Severity() > best.Class.Severity()) {
			best = vd
		}
	}
	if best.Class == Green && each[Latency].Class == Green {
		best = each[Latency] // all is well: the latency says most
	}
	// A metric whose own value is worse than the class shown but waits for evidence (a
	// 3 % loss not yet surely above 2 %) is what the cell shows, marked pending: the
	// colour is the judgement's, the text what may be coming.
	worst := -1
	for _, hm := range HealthMetrics {
		if c.Judged && s == Last && c.Now.Pending[hm] && raws[hm].Severity() > best.Class.Severity() &&
			(worst < 0 || raws[hm].Severity() > raws[worst].Severity()) {
			worst = int(hm)
		}
	}
	if worst >= 0 {
		best.Metric, best.Value, best.Pending = Metric(worst), each[worst].Value, true
	}
	return best
}

// metricVerdict is metric m's verdict under stat s, and the class of its value alone.
func (c *Cell) metricVerdict(m Metric, s Stat, th map[Metric]Thresholds) (Verdict, Class) {
	t, ok := th[m]
	if !ok {
		t = metricTable[m].Thresholds
	}
	vd := Verdict{Metric: m, Value: c.Values[m][s]}
	raw := t.Classify(vd.Value, false)
	vd.Class = raw
	if s == Last && c.Judged && c.Now.Class[m] != NoData {
		vd.Class, vd.Pending = c.Now.Class[m], c.Now.Pending[m]
	}
	return vd, raw
}

// failedNow reports whether the newest test got nothing back (the live store: as told,
// once every agent pair of the sweep is in).
func (c *Cell) failedNow() bool {
	if c.Judged {
		return c.Now.Failed
	}
	return c.Last.Failed
}

// Verdict is the cell src→dst's verdict; a source PoP whose agents all failed is
// Unreachable.
func (m *Matrix) Verdict(src, dst string, v View, s Stat, th map[Metric]Thresholds) Verdict {
	if _, down := m.SourceDown(src); down {
		mt, _ := v.Metric()
		return Verdict{Class: Unreachable, Metric: mt, Value: math.NaN()}
	}
	return m.Cell(src, dst).Verdict(v, s, th)
}

// FormatVerdict renders a verdict as a cell's text: FAIL, DOWN, "-" without a value,
// else the value; under health marked with its metric (12% loss, ±12 jitter ms; a bare
// number is latency in ms).
func FormatVerdict(vd Verdict, v View) string {
	switch {
	case vd.Class == Unreachable:
		return "DOWN"
	case vd.Failed:
		return "FAIL"
	case math.IsNaN(vd.Value):
		return "-"
	}
	t := FormatValue(vd.Metric, vd.Value, false)
	if v.IsHealth() && t != "?" {
		switch vd.Metric {
		case Loss:
			t += "%"
		case JitterMs:
			t = "±" + t
		}
	}
	return t
}
