package main

import (
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

// snapshotJSON is the stable JSON schema of `snapshot --format json`.
type snapshotJSON struct {
	Time   string      `json:"time"`
	Source string      `json:"source"`
	Metric string      `json:"metric"`
	Stat   string      `json:"stat"`
	Pops   []string    `json:"pops"`
	Agents []agentJSON `json:"agents"`
	Cells  []cellJSON  `json:"cells"`
	Traces []traceJSON `json:"traces,omitempty"` // with --traceroute
}

type agentJSON struct {
	Name    string `json:"name"`
	Pop     string `json:"pop"`
	Address string `json:"address"`
	State   string `json:"state"`
	Error   string `json:"error"`
}

type cellJSON struct {
	SrcPop    string   `json:"src_pop"`
	DstPop    string   `json:"dst_pop"`
	AvgRTT    *float64 `json:"avg_rtt_ms"`
	MinRTT    *float64 `json:"min_rtt_ms"`
	MaxRTT    *float64 `json:"max_rtt_ms"`
	JitterMs  *float64 `json:"jitter_ms"`
	JitterPct *float64 `json:"jitter_pct"`
	LossPct   *float64 `json:"loss_pct"`
	Failed    bool     `json:"failed"`
	Samples   int      `json:"samples"`
	Class     string   `json:"class"`
	// DecidedBy is the metric whose class is the cell's (health: the worst; else the
	// metric shown); empty without a colour.
	DecidedBy string `json:"decided_by,omitempty"`
	Error     string `json:"error"`
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
func cells(m *mesh.Matrix, v *snapshotView) []cellJSON {
	var out []cellJSON
	for _, s := range m.Pops {
		for _, d := range m.Pops {
			c := m.Cell(s, d)
			if s == d && (c == nil || c.Samples == 0) {
				continue
			}
			vd, _ := v.verdict(m, s, d)
			cj := cellJSON{SrcPop: s, DstPop: d, Class: vd.Class.String()}
			if vd.Class.Colour() {
				cj.DecidedBy = vd.Metric.String()
			}
			if why, down := m.SourceDown(s); down {
				cj.Error = why
			}
			if c != nil {
				cj.Samples = c.Samples
				if c.Samples > 0 {
					cj.AvgRTT = num(c.Values[mesh.Latency][v.stat])
					cj.JitterMs = num(c.Values[mesh.JitterMs][v.stat])
					cj.JitterPct = num(c.Values[mesh.JitterPct][v.stat])
					cj.LossPct = num(c.Values[mesh.Loss][v.stat])
					cj.Failed = c.Failed[v.stat]
					if !c.Last.Failed {
						cj.MinRTT, cj.MaxRTT = num(c.Last.MinRTT), num(c.Last.MaxRTT)
					}
				}
				if cj.Error == "" {
					cj.Error = c.Err
				}
			}
			out = append(out, cj)
		}
	}
	return out
}

func writeJSON(w io.Writer, m *mesh.Matrix, v *snapshotView) error {
	doc := snapshotJSON{
		Time: m.Time.UTC().Format(time.RFC3339), Source: m.Source, Metric: v.view.String(), Stat: v.stat.String(),
		Pops: m.Pops, Agents: []agentJSON{}, Cells: cells(m, v),
	}
	if doc.Pops == nil {
		doc.Pops = []string{}
	}
	if doc.Cells == nil {
		doc.Cells = []cellJSON{}
	}
	doc.Traces = tracesJSON(v.traces)
	for _, a := range m.Agents {
		doc.Agents = append(doc.Agents, agentJSON{Name: a.Name, Pop: a.Pop, Address: a.Address, State: string(a.State), Error: a.Error})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func writeCSV(w io.Writer, m *mesh.Matrix, v *snapshotView) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"src_pop", "dst_pop", "avg_rtt_ms", "min_rtt_ms", "max_rtt_ms", "jitter_ms", "jitter_pct", "loss_pct", "failed", "samples", "class", "error"})
	f := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	for _, c := range cells(m, v) {
		_ = cw.Write([]string{c.SrcPop, c.DstPop, f(c.AvgRTT), f(c.MinRTT), f(c.MaxRTT), f(c.JitterMs), f(c.JitterPct), f(c.LossPct),
			strconv.FormatBool(c.Failed), strconv.Itoa(c.Samples), c.Class, c.Error})
	}
	cw.Flush()
	return cw.Error()
}

func writeTable(w io.Writer, m *mesh.Matrix, v *snapshotView) error {
	width := 5
	for _, p := range m.Pops {
		width = max(width, len(p))
	}
	var b strings.Builder
	when := m.Time.UTC().Format(time.RFC3339)
	if mt, ok := v.view.Metric(); ok {
		th := v.th[mt]
		fmt.Fprintf(&b, "%s (%s, %s) at %s from %s agents; green < %g <= yellow < %g <= orange < %g <= red\n",
			mt.Title(), mt.Unit(), v.stat, when, m.Source, th[0], th[1], th[2])
	} else {
		var lim []string
		for _, hm := range mesh.HealthMetrics {
			th := v.th[hm]
			lim = append(lim, fmt.Sprintf("%s %g/%g/%g %s", map[mesh.Metric]string{mesh.Latency: "latency", mesh.JitterMs: "±jitter", mesh.Loss: "loss"}[hm], th[0], th[1], th[2], hm.Unit()))
		}
		fmt.Fprintf(&b, "Health (%s) at %s from %s agents: the worst of %s (yellow/orange/red); a bare number is latency\n",
			v.stat, when, m.Source, strings.Join(lim, ", "))
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
