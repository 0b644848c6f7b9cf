package probe

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// FuzzPingToCell follows one agent's ping numbers past the decoder (FuzzDecodeTests
// covers that) to what the operator sees: convert, into the live store (twice: two
// agents of a PoP fold into one sample), the matrix cell and its formatting. A result
// that is an error never becomes a cell value; a cell never holds or prints a value no
// measurement can have.
func FuzzPingToCell(f *testing.F) {
	f.Add(5.0, 0.0, 10.0, 12.5, 11.0, 0.0, 1.0)
	f.Add(1e15, 0.0, 5.0, 5.0, 5.0, 0.0, 1.0)
	f.Add(1e10, -1.0, 5.0, -1.0, 5.0, 1e10, 2.0)
	f.Add(5.0, 1e9, 1e307, 5.0, 1e300, 0.0, 0.0)
	f.Add(3.0, 33.333333333333336, math.Inf(1), math.NaN(), 0.001, -1e300, 2.0)
	f.Add(20.0, 100.0, -1.0, -1.0, -1.0, 19.0, 0.0)
	f.Fuzz(func(t *testing.T, sent, loss, r0, r1, r2, seq, dup float64) {
		reply := func(s, v float64) Reply { return Reply{Seq: N(s), RTTms: N(v)} }
		e := PingEntry{ID: "x", Result: PingResult{Dst: "198.18.0.2", Sent: N(sent), Loss: N(loss),
			Replies: []Reply{reply(0, r0), reply(seq, r1), reply(dup, r2)},
			RTT:     &RTTSummary{Min: N(r2), Avg: N(r1), Max: N(r0)}}}
		if loss < 0 {
			e.Result.Loss = Num{}
		}
		at := time.Unix(1_700_000_000, 0)
		st := mesh.NewStore(4)
		var errs []string
		for _, src := range []string{"a-0", "a-1"} {
			r := pingFromEntry(e, mesh.PingResult{Time: at, Src: src, SrcPop: "a", Dst: "198.18.0.2", DstPop: "b"}, DefaultCount)
			if r.Err != "" {
				if r.Measured() || r.AvgRTT != 0 || len(r.Probes) != 0 {
					t.Fatalf("an error result carries a measurement: %+v", r)
				}
				errs = append(errs, r.Err)
			} else if err := r.Check(); err != nil {
				t.Fatalf("converted result fails Check: %v (%+v)", err, r)
			}
			st.AddPing(r)
		}
		c := st.Matrix().Cell("a", "b")
		if c == nil {
			t.Fatal("no cell")
		}
		if len(errs) == 2 {
			if c.Samples != 0 || c.Err != errs[1] {
				t.Fatalf("errors became a cell: %+v", c)
			}
			return
		}
		for _, m := range mesh.Metrics {
			for _, s := range mesh.Stats {
				v, failed := c.Value(m, s)
				if math.IsInf(v, 0) || v < 0 || v > 100 && m.Unit() == "%" && m.CountsFailed() || v >= mesh.MaxRTTms && m.Unit() == "ms" {
					t.Fatalf("cell %s %s = %v", m, s, v)
				}
				if text := mesh.FormatValue(m, v, failed); strings.Contains(text, "Inf") || strings.Contains(text, "NaN") {
					t.Fatalf("cell %s %s prints %q", m, s, text)
				}
			}
		}
		for _, h := range st.History("a", "b") {
			for _, r := range h.Results {
				if err := r.Check(); err != nil {
					t.Fatalf("history gives back an implausible result: %v", err)
				}
			}
		}
	})
}
