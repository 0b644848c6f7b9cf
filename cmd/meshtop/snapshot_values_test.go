package main

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// TestSnapshotNeverPrintsInf: values that slipped past validation (1e307 RTTs, whose
// rounding overflowed, or infinities) must not break JSON nor print +Inf as data.
func TestSnapshotNeverPrintsInf(t *testing.T) {
	c := mesh.EmptyCell()
	c.Samples = 1
	for _, st := range mesh.Stats {
		c.Values[mesh.Latency][st] = 1e307
		c.Values[mesh.JitterMs][st] = math.Inf(1)
		c.Values[mesh.JitterPct][st] = 2
		c.Values[mesh.Loss][st] = 0
	}
	c.Last.AvgRTT, c.Last.MinRTT, c.Last.MaxRTT = 1e307, 1e307, math.Inf(1)
	m := mesh.NewMatrix(time.Unix(1000, 0), "live", []string{"a", "b"}, nil, map[mesh.Pair]*mesh.Cell{{Src: "a", Dst: "b"}: &c})
	v := &snapshotView{view: mesh.MetricView(mesh.Latency), stat: mesh.Last, th: mesh.DefaultThresholds()}
	for name, write := range map[string]func(*bytes.Buffer) error{
		"json":  func(b *bytes.Buffer) error { return writeJSON(b, m, v) },
		"csv":   func(b *bytes.Buffer) error { return writeCSV(b, m, v) },
		"table": func(b *bytes.Buffer) error { return writeTable(b, m, v) },
	} {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if out := b.String(); strings.Contains(out, "Inf") || strings.Contains(out, "NaN") {
			t.Errorf("%s prints a non-number as data:\n%s", name, out)
		}
		if name == "json" {
			var doc struct {
				Cells []struct {
					AvgRTT   *float64 `json:"avg_rtt_ms"`
					JitterMs *float64 `json:"jitter_ms"`
				} `json:"cells"`
			}
			if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
				t.Fatalf("json: %v\n%s", err, b.String())
			}
			if len(doc.Cells) == 0 || doc.Cells[0].JitterMs != nil {
				t.Errorf("json: infinite jitter must be null: %s", b.String())
			}
		}
	}
}
