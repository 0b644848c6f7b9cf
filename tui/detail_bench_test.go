package tui

import (
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// BenchmarkDetailData measures what a drill-down costs per new data in live mode: a full
// ring (360 sweeps, two agents, a traceroute per agent per sweep) through hop statistics,
// route changes, the timeline and the rendering at 160x48. It runs in Update, once per
// sweep, never per frame.
func BenchmarkDetailData(b *testing.B) {
	src := StoreSource{Store: fullRing()}
	fwd, _ := src.PairHistory(b.Context(), "ams", "fra", 0)
	tr, _ := src.PairTraces(b.Context(), "ams", "fra")
	d := newDetail(newUIContext(src, Config{Now: func() time.Time { return t0 }}))
	d.SetSize(160, 46)
	d.open("ams", "fra")
	msg := detailMsg{src: "ams", dst: "fra", fwd: fwd, rev: fwd, fwdTr: tr, revTr: tr}
	b.ResetTimer()
	for b.Loop() {
		d.setData(msg)
	}
}

// BenchmarkPairChartData measures what the grid's pair chart costs per new data of the
// selected pair (live: once per matrix read, at most every 100 ms during a sweep): the
// same full ring as BenchmarkDetailData, both directions, through route changes, the
// timeline and the chart band at 160x48. It runs in Update, never per frame.
func BenchmarkPairChartData(b *testing.B) {
	src := StoreSource{Store: fullRing()}
	c := pairChart{ui: newUIContext(src, Config{Now: func() time.Time { return t0 }})}
	c.st = c.ui.st
	if !c.fit(160, 30) {
		b.Fatal("no room")
	}
	pr := mesh.Pair{Src: "ams", Dst: "fra"}
	c.show(pr)
	r, err := readPair(b.Context(), src, "ams", "fra", c.points(), false)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		c.setData(pr, r, nil)
	}
}

// fullRing is a full ring of ams→fra: 360 sweeps, two agents, a traceroute per agent per
// sweep.
func fullRing() *mesh.Store {
	st := mesh.NewStore(mesh.DefaultKeep)
	for i := range mesh.DefaultKeep {
		at := t0.Add(time.Duration(i) * time.Minute)
		for _, a := range []string{"scouter-ams-0", "scouter-ams-1"} {
			r := mesh.PingResult{Time: at, Src: a, SrcPop: "ams", DstPop: "fra", Dst: "198.18.1.2"}
			v := 25 + float64(i%7)
			r.DerivePing(5, []float64{v, v + 1, mesh.Lost, v + 3, v + 0.5}, -1)
			st.AddPing(r)
			st.AddTrace(fixtureTrace(at, a, i, true))
		}
	}
	return st
}
