package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/meshtop/meshtop/mesh"
)

// The ttl row marks a lost reply of the destination (it answered the next probe) with •
// and keeps the ttl; a path that really got longer shows its new ttl; a trace that did
// not reach shows ✕.
func TestChartTTLRowTellsALostReplyFromAPathChange(t *testing.T) {
	const dst = "198.18.1.3"
	var samples []mesh.Sample
	var traces []mesh.TraceResult
	for i := range 12 {
		at := t0.Add(time.Duration(i) * time.Minute)
		samples = append(samples, mesh.Sample{Time: at, AvgRTT: 20, MinRTT: 19, MaxRTT: 21})
		path := []string{"198.18.2.1", "198.18.2.2", dst}
		switch i {
		case 3: // the destination's reply at ttl 3 lost: it answers ttl 4
			path = []string{"198.18.2.1", "198.18.2.2", "*", dst}
		case 7, 8: // a router more: the path is one hop longer
			path = []string{"198.18.2.1", "198.18.2.2", "198.18.2.7", dst}
		}
		tr := mesh.TraceResult{Time: at, Src: "a-0", Dst: dst}
		for k, a := range path {
			h := mesh.Hop{TTL: k + 1, Addr: a, RTT: 5}
			if a == "*" {
				h = mesh.Hop{TTL: k + 1, NoResponse: true}
			}
			tr.Hops = append(tr.Hops, h)
		}
		tr.DeriveTrace()
		traces = append(traces, tr)
	}
	st := newStyles(PaletteDefault, true)
	lines := renderChart(chartInput{samples: samples, traces: traces, width: 7 + 24, height: 3}, &st)
	var ttl string
	for _, l := range lines {
		if l = ansi.Strip(l); strings.Contains(l, "ttl┤") {
			ttl = l[strings.Index(l, "┤")+len("┤"):]
		}
	}
	// 12 samples over 24 columns: two columns each.
	if want := "3─────•───────4───3─────"; ttl != want {
		t.Fatalf("ttl row %q, want %q\n%s", ttl, want, strings.Join(lines, "\n"))
	}
	if all := ansi.Strip(strings.Join(lines, "\n")); !strings.Contains(all, "• destination reply lost") {
		t.Errorf("legend does not explain •:\n%s", all)
	}
}
