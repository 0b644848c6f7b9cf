package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/meshtop/meshtop/tui"

	"github.com/meshtop/meshtop/mesh"
)

// snapshotJSON is the JSON schema of `snapshot --format json` (docs/snapshot.md).
type snapshotJSON struct {
	Time   string      `json:"time"`
	Source string      `json:"source"`
	Metric string      `json:"metric"`
	Stat   string      `json:"stat"`
	Window *windowJSON `json:"window,omitempty"` // --source influx
	Notes  []string    `json:"notes,omitempty"`  // what the values lack, and why
	Pops   []string    `json:"pops"`
	Agents []agentJSON `json:"agents"`
	Cells  []cellOut   `json:"cells"`
	Traces []traceJSON `json:"traces,omitempty"` // with --traceroute
}

// windowJSON is the time window of a history snapshot and how much of it holds data.
type windowJSON struct {
	Start  string `json:"start"`
	End    string `json:"end"`
	Oldest string `json:"oldest,omitempty"` // the oldest test in the window
	Newest string `json:"newest,omitempty"` // the newest
	Read   string `json:"read"`             // where the values come from ("raw", "rollup 1h+10m and raw edges, checked")
}

type agentJSON struct {
	Name    string `json:"name"`
	Pop     string `json:"pop"`
	Address string `json:"address"`
	State   string `json:"state"`
	Error   string `json:"error"`
}

// cellOut is one pair of JSON and CSV output. Its values are named by what they hold:
// under --stat last the newest test's, in the workshop's field names (avg_rtt_ms,
// jitter_ms, jitter_pct, loss_pct: what its collector wrote for a test); under any other
// stat that stat over the window (mean_rtt_ms, p95_loss_pct, ...). min_rtt_ms and
// max_rtt_ms are the lowest and highest test RTT over the window.
type cellOut struct {
	SrcPop, DstPop string
	stat           mesh.Stat
	values         [4]*float64 // valueMetrics order
	minRTT, maxRTT *float64
	Failed         bool
	Samples        int
	Class, Error   string
	// DecidedBy is the metric whose class is the cell's (health: the worst; else the
	// metric shown); empty without a colour.
	DecidedBy string
	newest    string
	csv       bool // a CSV row: every column, decided_by empty or not
}

// valueMetrics is the order of a cell's values.
var valueMetrics = [4]mesh.Metric{mesh.Latency, mesh.JitterMs, mesh.JitterPct, mesh.Loss}

// valueKey names metric m's value under stat st.
func valueKey(m mesh.Metric, st mesh.Stat) string {
	name := m.Field()
	if m == mesh.Latency {
		name = "rtt_ms"
	}
	if st == mesh.Last {
		return m.Field()
	}
	return st.String() + "_" + name
}

// field is one named value of a cell, in output order.
type field struct {
	key string
	val any
}

// fields are the cell's named values, in the order of JSON and CSV.
func (c cellOut) fields() []field {
	out := []field{{"src_pop", c.SrcPop}, {"dst_pop", c.DstPop}, {"stat", c.stat.String()}}
	for i, m := range valueMetrics {
		out = append(out, field{valueKey(m, c.stat), c.values[i]})
	}
	out = append(out, field{"min_rtt_ms", c.minRTT})
	if c.stat != mesh.Max { // else max_rtt_ms is the stat's value above
		out = append(out, field{"max_rtt_ms", c.maxRTT})
	}
	out = append(out, field{"failed", c.Failed}, field{"samples", c.Samples}, field{"class", c.Class})
	if c.DecidedBy != "" || c.csv {
		out = append(out, field{"decided_by", c.DecidedBy})
	}
	return append(out, field{"error", c.Error}, field{"newest", c.newest})
}

// MarshalJSON writes the fields in order (a struct cannot name a key by the stat).
func (c cellOut) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range c.fields() {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.key)
		v, err := json.Marshal(f.val)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// num turns NaN (no data) and infinities into null: a missing value must never read as
// 0, and JSON has no Inf. Rounding to 3 decimals happens only where it stays finite
// (v*1000 overflows for |v| > 1.8e305, which must not turn a value into +Inf).
func num(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	if r := math.Round(v*1000) / 1000; !math.IsInf(r, 0) && !math.IsNaN(r) {
		v = r
	}
	return &v
}

// cells lists every ordered pair of distinct PoPs, plus same-PoP pairs that have data
// (a PoP with several agents measures itself).
func cells(m *mesh.Matrix, v *snapshotView) []cellOut {
	var out []cellOut
	for _, s := range m.Pops {
		for _, d := range m.Pops {
			c := m.Cell(s, d)
			if s == d && (c == nil || c.Samples == 0) {
				continue
			}
			vd, _ := v.verdict(m, s, d)
			co := cellOut{SrcPop: s, DstPop: d, stat: v.stat, Class: vd.Class.String()}
			if vd.Class.Colour() {
				co.DecidedBy = vd.Metric.String()
			}
			if why, down := m.SourceDown(s); down {
				co.Error = why
			}
			if c != nil {
				co.Samples = c.Samples
				if c.Samples > 0 {
					for i, mt := range valueMetrics {
						co.values[i] = num(c.Values[mt][v.stat])
					}
					co.Failed = c.Failed[v.stat]
					co.minRTT, co.maxRTT = num(c.Min[mesh.Latency]), num(c.Values[mesh.Latency][mesh.Max])
					if !c.Last.Time.IsZero() {
						co.newest = c.Last.Time.UTC().Format(time.RFC3339)
					}
				}
				if co.Error == "" {
					co.Error = c.Err
				}
			}
			out = append(out, co)
		}
	}
	return out
}

func writeJSON(w io.Writer, m *mesh.Matrix, v *snapshotView) error {
	doc := snapshotJSON{
		Time: m.Time.UTC().Format(time.RFC3339), Source: m.Source, Metric: v.view.String(), Stat: v.stat.String(),
		Window: v.window, Notes: v.notes, Pops: m.Pops, Agents: []agentJSON{}, Cells: cells(m, v),
	}
	if doc.Pops == nil {
		doc.Pops = []string{}
	}
	if doc.Cells == nil {
		doc.Cells = []cellOut{}
	}
	doc.Traces = tracesJSON(v.traces)
	for _, a := range m.Agents {
		doc.Agents = append(doc.Agents, agentJSON{Name: a.Name, Pop: a.Pop, Address: a.Address, State: string(a.State), Error: a.Error})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// writeCSV writes one row per pair with cellOut's fields as columns.
func writeCSV(w io.Writer, m *mesh.Matrix, v *snapshotView) error {
	cw := csv.NewWriter(w)
	var head []string
	for _, f := range (cellOut{stat: v.stat, csv: true}).fields() {
		head = append(head, f.key)
	}
	_ = cw.Write(head)
	for _, c := range cells(m, v) {
		c.csv = true
		row := make([]string, 0, len(head))
		for _, f := range c.fields() {
			row = append(row, csvValue(f.val))
		}
		_ = cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

func csvValue(v any) string {
	switch x := v.(type) {
	case *float64:
		if x == nil {
			return ""
		}
		return strconv.FormatFloat(*x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

func writeTable(w io.Writer, m *mesh.Matrix, v *snapshotView) error {
	width := 5
	for _, p := range m.Pops {
		width = max(width, len(p))
	}
	var b strings.Builder
	// Live: the sweep's time and its agents; history: the stat's window and how it was
	// read.
	stat, when := v.stat.String(), "at "+m.Time.UTC().Format(time.RFC3339)+" from "+m.Source+" agents"
	if w := v.window; w != nil {
		stat, when = stat+" over "+w.Start+" to "+w.End, "from InfluxDB, read "+w.Read
	}
	if mt, ok := v.view.Metric(); ok {
		th := v.th[mt]
		fmt.Fprintf(&b, "%s (%s, %s) %s; green < %g <= yellow < %g <= orange < %g <= red\n",
			mt.Title(), mt.Unit(), stat, when, th[0], th[1], th[2])
	} else {
		var lim []string
		for _, hm := range mesh.HealthMetrics {
			th := v.th[hm]
			lim = append(lim, fmt.Sprintf("%s %g/%g/%g %s", map[mesh.Metric]string{mesh.Latency: "latency", mesh.JitterMs: "±jitter", mesh.Loss: "loss"}[hm], th[0], th[1], th[2], hm.Unit()))
		}
		fmt.Fprintf(&b, "Health (%s) %s: the worst of %s (yellow/orange/red); a bare number is latency\n",
			stat, when, strings.Join(lim, ", "))
	}
	fmt.Fprintf(&b, "%-*s", width+1, "src\\dst")
	for _, d := range m.Pops {
		fmt.Fprintf(&b, " %*s ", width, d)
	}
	b.WriteByte('\n')
	var marks struct{ loss, pending, stale bool }
	for _, s := range m.Pops {
		fmt.Fprintf(&b, "%-*s", width+1, s)
		for _, d := range m.Pops {
			vd, age := v.verdict(m, s, d)
			c := m.Cell(s, d)
			text, mark := "-", " "
			switch {
			case vd.Class == mesh.Unreachable:
				text = "DOWN"
			case vd.Class == mesh.Stale:
				text, marks.stale = "?"+mesh.Age(age), true
			case c != nil && c.Samples > 0:
				text = mesh.FormatVerdict(vd, v.view)
				mark = tableMark(v, c, vd)
				marks.loss = marks.loss || mark == "~"
				marks.pending = marks.pending || mark == "^"
			case s == d:
				text, mark = "", ""
			}
			if !v.color && text != "" {
				// Without colour the class is carried in text, as in the TUI.
				text += tui.ClassMarker(vd.Class)
			}
			cell := fmt.Sprintf("%*s", width+1, text+strings.TrimSpace(mark))
			if v.color && text != "" {
				cell = v.paint[vd.Class] + cell + ansi.ResetStyle
			}
			b.WriteString(" " + cell)
		}
		b.WriteByte('\n')
	}
	if marks.loss {
		fmt.Fprintf(&b, "~ loses %g %% or more (loss %g,%g,%g %%): see --metric loss or health\n", v.th[mesh.Loss][0], v.th[mesh.Loss][0], v.th[mesh.Loss][1], v.th[mesh.Loss][2])
	}
	if marks.pending {
		b.WriteString("^ not yet sure: the value says another colour, but too few probes to tell (more with --count)\n")
	}
	if marks.stale {
		fmt.Fprintf(&b, "?age no test for over %s: unknown now\n", v.staleAfter)
	}
	for _, a := range m.Agents {
		if a.Error != "" {
			fmt.Fprintf(&b, "! %s: %s\n", a.State, a.Error)
		}
	}
	for _, n := range v.notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// tableMark is a measured cell's mark: ^ when its colour waits for evidence, ~ when a
// latency or jitter view hides loss.
func tableMark(v *snapshotView, c *mesh.Cell, vd mesh.Verdict) string {
	if vd.Pending {
		return "^"
	}
	if mt, ok := v.view.Metric(); ok && mt != mesh.Loss && !vd.Failed &&
		c.Verdict(mesh.MetricView(mesh.Loss), v.stat, v.th).Class.Severity() > mesh.Green.Severity() {
		return "~"
	}
	return " "
}
