package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/tui"
)

// TestSnapshotTablePalette: the table paints cells with the TUI's palette, chosen by
// --palette, and refuses an unknown palette.
func TestSnapshotTablePalette(t *testing.T) {
	c := mesh.EmptyCell()
	c.Samples = 1
	for _, st := range mesh.Stats {
		c.Values[mesh.Latency][st] = 100 // green
	}
	m := mesh.NewMatrix(time.Unix(1000, 0), "live", []string{"a", "b"}, nil, map[mesh.Pair]*mesh.Cell{{Src: "a", Dst: "b"}: &c})
	for _, tt := range []struct{ palette, other string }{
		{tui.PaletteDefault, tui.PaletteColorblind},
		{tui.PaletteColorblind, tui.PaletteDefault},
	} {
		o := &snapshotOptions{format: "table", metric: "latency", stat: "last", palette: tt.palette}
		v, err := o.view()
		if err != nil {
			t.Fatal(err)
		}
		v.color = true
		var b bytes.Buffer
		if err := writeTable(&b, m, v); err != nil {
			t.Fatal(err)
		}
		want, notWant := tui.ClassSGR(tt.palette)[mesh.Green], tui.ClassSGR(tt.other)[mesh.Green]
		if !strings.Contains(b.String(), want+"   100") || strings.Contains(b.String(), notWant) {
			t.Errorf("--palette %s: green cell not painted %q:\n%q", tt.palette, want, b.String())
		}
	}
	o := &snapshotOptions{format: "table", metric: "latency", stat: "last", palette: "pastel"}
	if _, err := o.view(); err == nil || !strings.Contains(err.Error(), `--palette "pastel"`) {
		t.Fatalf("unknown palette: %v", err)
	}
}
