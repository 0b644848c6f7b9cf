package influx

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/influxdb1-client/models"

	"github.com/meshtop/meshtop/internal/textsafe"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
)

// FuzzQueryAnswer feeds arbitrary bytes as an InfluxDB /query answer through decoding
// and the mesh read's folding: never a panic, and every value a cell shows passes
// mesh's plausibility check (or the cell carries an error instead).
func FuzzQueryAnswer(f *testing.F) {
	for _, seed := range []string{
		`{"results":[{"statement_id":0,"series":[{"name":"ping","tags":{"dst_pop":"fra","src_pop":"ams"},"columns":["time","avg_rtt_ms_mean","last_rtt"],"values":[["2026-01-01T00:00:00Z",12.5,0]]}]}]}`,
		`{"results":[{"statement_id":0,"series":[{"name":"ping","tags":{"dst_pop":"fra","src_pop":"ams"},"columns":["time","loss_pct_mean"],"values":[["1970-01-01T00:00:00Z",-5]]}]}]}`,
		`{"results":[{"statement_id":0,"series":[{"name":"ping","tags":{"dst_pop":"f\u001b]0;T\u0007","src_pop":"a\nb"},"columns":["time","avg_rtt_ms_mean"],"values":[["x",1e300]]}]}]}`,
		`{"results":[{"statement_id":0,"series":[{"name":"ping","columns":["time","n"],"values":[[1,"12"],[null,true]]}]}]}`,
		`{"results":[{"statement_id":0,"error":"database not found: \"x\""}]}`,
		`{"results":[{"series":[{"columns":[],"values":[[]]}]}]}`,
		`<html><body>not influx</body></html>`,
		`{"results":[`,
		``,
		// rollup rows and raw rows, as a hybrid read folds them
		`{"results":[{"statement_id":0,"series":[{"name":"ping_10m","tags":{"dst_pop":"fra","src_pop":"ams"},"columns":["time","n","good","bad","avg_rtt_ms_sum","avg_rtt_ms_max","loss_pct_sum","loss_pct_max"],"values":[["2026-01-01T00:00:00Z",10,9,0,90,12,10,100]]}]}]}`,
		`{"results":[{"statement_id":0,"series":[{"name":"ping_10m","tags":{"dst_pop":"fra","src_pop":"ams"},"columns":["time","n","good","avg_rtt_ms_sum"],"values":[["2026-01-01T00:00:00Z",-3,9,1e308],["2026-01-01T00:10:00Z",2.5,4,-1]]}]}]}`,
		`{"results":[{"statement_id":0,"series":[{"name":"ping","tags":{"dst_pop":"fra","src_pop":"ams"},"columns":["time","avg_rtt_ms","jitter_pct","jitter_ms","loss_pct"],"values":[["2026-01-01T00:00:00Z",12,3,0.4,0],["2026-01-01T00:01:00Z",0,100,0,100],["bad",1,1,1,1]]}]}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ans, err := decodeAnswer(data, answerLimits{results: 8})
		if err != nil {
			return
		}
		_ = ans.Error()
		r := &Reader{window: time.Hour}
		rd := newRead(r)
		stmts := append(append(append(rd.lastStmts(), rd.statStmts(mesh.Mean, mesh.Max)...), rd.countStmts()...), rd.statStmts(mesh.P95)...)
		for _, s := range stmts {
			rd.fold(ans.Results, s)
		}
		rd.lvl = rollup1h
		for _, s := range rd.statStmts(mesh.P95) {
			rd.fold(ans.Results, s)
		}
		checkMatrix(t, rd.matrix())
		// The hybrid read's folding of raw rows and rollup rows.
		for _, res := range ans.Results {
			hy := newRead(r)
			hy.ranGood = true
			if parts, err := rawRowParts(res.Series); err == nil {
				for p, pt := range parts {
					hy.setPart(p, pt)
					hy.setLast(p, pt)
				}
			}
			for p, pt := range rollupRowParts(res.Series) {
				hy.setPart(p, pt)
			}
			checkMatrix(t, hy.matrix())
		}
	})
}

// checkMatrix fails on text that is not sanitised, a value a cell shows that no test can
// have, or a negative test count.
func checkMatrix(t *testing.T, m *mesh.Matrix) {
	t.Helper()
	for _, src := range m.Pops {
		if strings.ContainsAny(src, "\x1b\x07\n") {
			t.Fatalf("PoP %q not sanitised", src)
		}
		for _, dst := range m.Pops {
			c := m.Cell(src, dst)
			if c != nil && c.Samples < 0 {
				t.Fatalf("%s→%s: %d tests", src, dst, c.Samples)
			}
			if c == nil || c.Err != "" {
				continue
			}
			for _, mt := range mesh.Metrics {
				for _, st := range mesh.Stats {
					if v := c.Values[mt][st]; !math.IsNaN(v) && checkValue(mt, v) != nil {
						t.Fatalf("%s→%s %s/%s = %v shown", src, dst, mt, st, v)
					}
				}
			}
		}
	}
}

// FuzzLineProtocol: whatever names and values a result carries, the recorded line
// protocol parses back as exactly the points written, with sanitised tags, and an
// implausible result is not written at all.
func FuzzLineProtocol(f *testing.F) {
	f.Add("ams", "fra", "198.18.0.2", "ams-1", 12.5, 0.0, 1.0)
	f.Add("a b,c=d", `fra\`, "x\ny", "s\x1b[2J", 1e300, -5.0, 1e9)
	f.Add(`\`, " ", "=", ",", 0.0, 100.0, 0.0)
	f.Add("ünï", "☃", "\"q\"", "'", math.Inf(1), math.NaN(), 3.0)
	f.Fuzz(func(t *testing.T, src, dst, addr, slug string, rtt, loss, jitter float64) {
		at := time.Unix(1700000000, 0).UTC()
		r := mesh.PingResult{Time: at, Src: slug, SrcPop: src, Dst: addr, DstPop: dst,
			AvgRTT: rtt, MinRTT: rtt, MaxRTT: rtt, LossPct: loss, JitterMs: jitter, JitterPct: 10}
		lines, n, err := SweepLines(probe.Sweep{Time: at, Pings: []mesh.PingResult{r}}, "203.0.113.9", WorkshopSchema())
		if err != nil {
			return // refused, not written
		}
		if r.Check() != nil && n != 0 {
			t.Fatalf("implausible result written: %s", lines)
		}
		pts, err := models.ParsePoints(lines)
		if err != nil {
			t.Fatalf("our line protocol does not parse: %v\n%q", err, lines)
		}
		if len(pts) != n {
			t.Fatalf("%d points parsed, %d written:\n%q", len(pts), n, lines)
		}
		for _, p := range pts {
			for _, tag := range p.Tags() {
				if strings.ContainsAny(string(tag.Value), "\x1b\n\r\x00") {
					t.Fatalf("tag %s=%q not sanitised", tag.Key, tag.Value)
				}
			}
			if got, want := p.Tags().GetString("src_pop"), strings.TrimRight(textsafe.Name(src), `\`); got != want {
				t.Fatalf("src_pop %q written as %q, want %q (line %q)", src, got, want, lines)
			}
		}
	})
}
