package mesh

import (
	"slices"
	"testing"
	"time"
)

func TestTimeline(t *testing.T) {
	at := func(i int) time.Time { return hopT0.Add(time.Duration(i) * time.Minute) }
	ok := func(i int, rtt, loss float64) Sample {
		return Sample{Time: at(i), MinRTT: rtt, AvgRTT: rtt, MaxRTT: rtt, LossPct: loss}
	}
	fail := func(i int) Sample { return Sample{Time: at(i), Failed: true, LossPct: 100, Tests: 2} }
	samples := []Sample{
		ok(0, 100, 0), ok(1, 600, 0), // green -> orange: crossed 250, 500
		fail(2), fail(3), // outage 2..4, 4 tests
		ok(4, 120, 60), // orange -> green (crossed 500, 250); loss green -> red (crossed 2, 4, 6):
		// 3 of the 15 probes answered so far (history counts 5 a test) are lost, surely
		// above 2 % and at 90 % above 6 % (lossjudge.go)
		ok(5, 110, 0), // one clean test is no evidence that loss is below 6 %: red stays
		fail(6),       // ongoing outage
	}
	tr := func(i int, via string) TraceResult {
		x := TraceResult{Time: at(i), Src: "a1", Dst: "198.18.1.2", Hops: []Hop{{TTL: 1, Addr: via}, {TTL: 2, Addr: "198.18.1.2"}}}
		x.DeriveTrace()
		return x
	}
	traces := []TraceResult{tr(0, "198.18.2.1"), tr(1, "198.18.2.1"), tr(5, "198.18.2.9"), tr(6, "198.18.2.9")} // the change confirmed by a second trace
	agents := []AgentEvent{{Time: at(2), Agent: "a1", Down: true, Why: "refused"}, {Time: at(4), Agent: "a1"}}
	ev := Timeline(TimelineInput{Samples: samples, Changes: RouteChanges(traces), Agents: agents})

	type row struct {
		kind     EventKind
		min      int
		from, to Class
		metric   Metric
	}
	var got []row
	for _, e := range ev {
		got = append(got, row{e.Kind, int(e.Time.Sub(hopT0) / time.Minute), e.From, e.To, e.Metric})
	}
	want := []row{
		{EventOutage, 6, 0, 0, 0},
		{EventRoute, 5, 0, 0, 0},
		{EventAgentUp, 4, 0, 0, 0},
		{EventColour, 4, Orange, Green, Latency},
		{EventColour, 4, Green, Red, Loss},
		{EventAgentDown, 2, 0, 0, 0},
		{EventOutage, 2, 0, 0, 0},
		{EventColour, 1, Green, Orange, Latency},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("timeline:\n got %v\nwant %v", got, want)
	}
	if !ev[0].Ongoing() || ev[0].Duration(at(10)) != 4*time.Minute || ev[0].Tests != 2 {
		t.Errorf("ongoing outage: %+v", ev[0])
	}
	o := ev[6]
	if o.Ongoing() || !o.End.Equal(at(4)) || o.Duration(at(99)) != 2*time.Minute || o.Tests != 4 {
		t.Errorf("ended outage: %+v", o)
	}
	if c := ev[7]; !slices.Equal(c.Crossed, []float64{250, 500}) || c.Value != 600 {
		t.Errorf("up crossing: %+v", c)
	}
	if c := ev[3]; !slices.Equal(c.Crossed, []float64{500, 250}) {
		t.Errorf("down crossing: %+v", c)
	}
	if c := ev[4]; !slices.Equal(c.Crossed, []float64{2, 4, 6}) || c.Value != 20 {
		t.Errorf("loss crossing: %+v", c)
	}
	if r := ev[1].Route; r == nil || r.New.Hops[0].Addr != "198.18.2.9" || ev[1].Agent != "a1" {
		t.Errorf("route change: %+v", ev[1])
	}
	if len(Timeline(TimelineInput{})) != 0 {
		t.Error("empty input: want no events")
	}
}

func TestTestCount(t *testing.T) {
	for _, tt := range []struct {
		s    Sample
		want int
	}{
		{Sample{}, 1},
		{Sample{Tests: 7}, 7},
		{Sample{Results: make([]PingResult, 3)}, 3},
	} {
		if got := tt.s.TestCount(); got != tt.want {
			t.Errorf("%+v: %d, want %d", tt.s, got, tt.want)
		}
	}
}

func TestTimelineConfirm(t *testing.T) {
	var ss []Sample
	for i, v := range []float64{100, 600, 100, 600, 650, 700, 100} {
		ss = append(ss, Sample{Time: hopT0.Add(time.Duration(i) * time.Minute), AvgRTT: v})
	}
	for _, tt := range []struct {
		confirm int
		want    []int // minutes of the changes, newest first
	}{
		{0, []int{6, 3, 2, 1}},
		{2, []int{3}}, // the single-sweep blip at 1 and the return at 6 are not confirmed
		{5, nil},
	} {
		var got []int
		for _, e := range Timeline(TimelineInput{Samples: ss, Metrics: []Metric{Latency}, Confirm: tt.confirm}) {
			got = append(got, int(e.Time.Sub(hopT0)/time.Minute))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("confirm %d: changes at %v, want %v", tt.confirm, got, tt.want)
		}
	}
}
