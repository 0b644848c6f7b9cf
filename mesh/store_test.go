package mesh

import (
	"math"
	"testing"
	"time"
)

func ping(t0 time.Time, src, srcPop, dstPop string, avg float64, failed bool) PingResult {
	r := PingResult{Time: t0, Src: src, SrcPop: srcPop, DstPop: dstPop, Dst: "198.18.0.1"}
	if failed {
		r.DerivePing(5, []float64{Lost, Lost, Lost, Lost, Lost}, -1)
	} else {
		r.DerivePing(5, []float64{avg, avg, avg, avg, avg}, -1)
	}
	return r
}

func TestStoreFoldsAgentsOfOnePop(t *testing.T) {
	s := NewStore(10)
	t0 := time.Unix(1000, 0)
	s.AddPing(ping(t0, "a-0", "a", "b", 10, false))
	s.AddPing(ping(t0, "a-1", "a", "b", 30, false)) // same sweep, second agent of PoP a
	s.AddPing(ping(t0.Add(time.Minute), "a-0", "a", "b", 50, false))
	h := s.History("a", "b")
	if len(h) != 2 || h[0].AvgRTT != 20 || len(h[0].Results) != 2 || h[1].AvgRTT != 50 {
		t.Fatalf("history %+v", h)
	}
	c := s.Matrix().Cell("a", "b")
	if c.Samples != 2 || c.Values[Latency][Last] != 50 || c.Values[Latency][Mean] != 35 || c.Values[Latency][Max] != 50 {
		t.Fatalf("cell %+v", c.Values[Latency])
	}
}

func TestStoreRingIsBounded(t *testing.T) {
	s := NewStore(3)
	t0 := time.Unix(1000, 0)
	for i := range 10 {
		s.AddPing(ping(t0.Add(time.Duration(i)*time.Minute), "a-0", "a", "b", float64(i+1), false))
	}
	h := s.History("a", "b")
	if len(h) != 3 || h[0].AvgRTT != 8 || h[2].AvgRTT != 10 {
		t.Fatalf("history %+v", h)
	}
}

func TestMatrixStates(t *testing.T) {
	s := NewStore(10)
	t0 := time.Unix(1000, 0)
	s.SetAgents([]AgentStatus{
		{Agent: Agent{Name: "a-0", Pop: "a"}, State: StateOK},
		{Agent: Agent{Name: "b-0", Pop: "b"}, State: StateOK},
		{Agent: Agent{Name: "c-0", Pop: "c"}, State: StateUnreachable, Error: "connection refused"},
	})
	s.AddPing(ping(t0, "a-0", "a", "b", 10, false))
	s.AddPing(ping(t0, "b-0", "b", "a", 0, true))
	s.AddPing(PingResult{Time: t0, Src: "c-0", SrcPop: "c", DstPop: "a", Err: "agent c-0: connection refused"})
	m := s.Matrix()
	th := DefaultThresholds()[Latency]
	for _, tt := range []struct {
		src, dst string
		want     Class
	}{
		{"a", "b", Green},
		{"b", "a", Red},         // 100% loss: measured, failed
		{"c", "a", Unreachable}, // the source agent is down: a different state
		{"a", "c", NoData},
	} {
		if got := m.Class(tt.src, tt.dst, Latency, Last, th); got != tt.want {
			t.Errorf("%s->%s: %s, want %s", tt.src, tt.dst, got, tt.want)
		}
	}
	if v, failed := m.Cell("b", "a").Value(Latency, Last); !failed || !math.IsNaN(v) {
		t.Errorf("failed pair latency = %v, failed %v; want NaN, true", v, failed)
	}
	if v, _ := m.Cell("b", "a").Value(Loss, Mean); v != 100 {
		t.Errorf("failed pair loss = %v", v)
	}
	if m.Cell("c", "a").Err == "" {
		t.Error("error of an unmeasured pair lost")
	}
}

func TestMatrixIsASnapshot(t *testing.T) {
	s := NewStore(10)
	t0 := time.Unix(1000, 0)
	s.AddPing(ping(t0, "a-0", "a", "b", 10, false))
	m1 := s.Matrix()
	s.AddPing(ping(t0.Add(time.Minute), "a-0", "a", "b", 90, false))
	if got := m1.Cell("a", "b").Values[Latency][Last]; got != 10 {
		t.Fatalf("published matrix changed under its reader: %v", got)
	}
}

func TestRouteChanges(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tr := func(i int, hops ...string) TraceResult {
		r := TraceResult{Time: t0.Add(time.Duration(i) * time.Minute), Src: "a-0", Dst: "198.18.1.2"}
		for j, h := range hops {
			r.Hops = append(r.Hops, Hop{TTL: j + 1, Addr: h, NoResponse: h == ""})
		}
		r.DeriveTrace()
		return r
	}
	traces := []TraceResult{
		tr(0, "198.18.2.1", "198.18.1.2"),
		tr(1, "198.18.2.1", "198.18.1.2"),
		{Time: t0.Add(2 * time.Minute), Src: "a-0", Dst: "198.18.1.2", Err: "agent down"},
		tr(3, "198.18.2.5", "198.18.2.6", "198.18.1.2"),
		tr(4, "198.18.2.5", "198.18.2.6", "198.18.1.2"),
	}
	ch := RouteChanges(traces)
	if len(ch) != 1 || !ch[0].Time.Equal(t0.Add(3*time.Minute)) || len(ch[0].Old.Hops) != 2 || len(ch[0].New.Hops) != 3 {
		t.Fatalf("changes %+v", ch)
	}
	// History without hops compares AS paths (a new one counts once a second trace
	// confirms it).
	old := []TraceResult{{Src: "a-0", Dst: "x", ASPath: "1 2"}, {Src: "a-0", Dst: "x", ASPath: "1 2"}, {Src: "a-0", Dst: "x", ASPath: "1 3 2"}, {Src: "a-0", Dst: "x", ASPath: "1 3 2"}}
	if n := len(RouteChanges(old)); n != 1 {
		t.Fatalf("AS path changes: %d", n)
	}
}
