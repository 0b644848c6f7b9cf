package mesh

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

var jT0 = time.Unix(1_700_000_000, 0).UTC()

// ping is a test of 5 probes from src-agent to dst, rtt each, lost ones Lost.
func jping(at time.Time, src, srcPop, dstPop string, probes ...float64) PingResult {
	r := PingResult{Time: at, Src: src, SrcPop: srcPop, DstPop: dstPop, Dst: "198.18.0.9", DstName: dstPop + "-0"}
	r.DerivePing(len(probes), probes, -1)
	return r
}

func kinds(evs []Event) string {
	var b []string
	for _, e := range evs {
		b = append(b, e.Text())
	}
	return strings.Join(b, "; ")
}

// TestFailedShowsAtOnce: one failed test reads FAIL under every view and stat at once,
// is told as an outage stamped with its test's time, and the first answered test ends it.
func TestFailedShowsAtOnce(t *testing.T) {
	s := NewStore(0)
	for i := range 5 {
		s.AddPing(jping(jT0.Add(time.Duration(i)*time.Minute), "a-0", "a", "b", 11, 11.5, 11, 12, 11))
	}
	fail := jT0.Add(5 * time.Minute)
	s.AddPing(jping(fail, "a-0", "a", "b", Lost, Lost, Lost, Lost, Lost))
	m := s.Matrix()
	for _, v := range Views {
		for _, st := range Stats {
			vd := m.Verdict("a", "b", v, st, nil)
			if !vd.Failed || vd.Class != Red || FormatVerdict(vd, v) != "FAIL" {
				t.Errorf("%s %s after a failed test: %+v (%q), want FAIL red", v, st, vd, FormatVerdict(vd, v))
			}
		}
	}
	evs := s.Events()
	if len(evs) != 1 || evs[0].Kind != EventOutage || !evs[0].Time.Equal(fail) || evs[0].Seq != 1 {
		t.Fatalf("events after the failed test: %+v", evs)
	}
	back := fail.Add(time.Minute)
	s.AddPing(jping(back, "a-0", "a", "b", 11, 11, 11, 11, 11))
	evs = s.Events()
	if len(evs) != 2 || evs[1].Kind != EventOutageEnd || !evs[1].Time.Equal(back) || !evs[1].Since.Equal(fail) ||
		evs[1].Text() != "a→b answers again after 1m (1 failed test)" {
		t.Fatalf("events after the answer: %s", kinds(evs))
	}
	if vd := s.Matrix().Verdict("a", "b", Health, Last, nil); vd.Failed || vd.Class != Green {
		t.Errorf("health after the outage: %+v", vd)
	}
}

// TestHealthVerdict: the class is the worst of latency, jitter ms and loss; the text is
// the value that decided it, marked with its metric.
func TestHealthVerdict(t *testing.T) {
	for _, tt := range []struct {
		name   string
		probes []float64
		class  Class
		text   string
		metric Metric
	}{
		{"all well: latency", []float64{7, 7.5, 7, 8, 7}, Green, "7.3", Latency},
		{"7 ms path, 1 ms of jitter is no jitter problem", []float64{7, 8, 7, 8, 7}, Green, "7.4", Latency},
		{"jitter decides", []float64{20, 45, 20, 45, 20}, Orange, "±25", JitterMs},
		{"slow", []float64{600, 601, 600, 601, 600}, Orange, "600", Latency},
		{"60 % loss at 11 ms", []float64{11, Lost, Lost, 11, Lost}, Red, "60%", Loss},
	} {
		s := NewStore(0)
		s.AddPing(jping(jT0, "a-0", "a", "b", tt.probes...))
		vd := s.Matrix().Verdict("a", "b", Health, Last, nil)
		if vd.Class != tt.class || vd.Metric != tt.metric || FormatVerdict(vd, Health) != tt.text {
			t.Errorf("%s: %s %s %q, want %s %s %q", tt.name, vd.Class, vd.Metric, FormatVerdict(vd, Health), tt.class, tt.metric, tt.text)
		}
	}
	// A cell of history (not judged) follows the same rule on its values.
	c := EmptyCell()
	c.Samples = 1
	c.Values[Latency][Mean], c.Values[JitterMs][Mean], c.Values[Loss][Mean] = 80, 2, 12
	if vd := c.Verdict(Health, Mean, nil); vd.Class != Red || vd.Metric != Loss || FormatVerdict(vd, Health) != "12%" {
		t.Errorf("history cell: %+v", vd)
	}
	if vd := c.Verdict(MetricView(Latency), Mean, nil); vd.Class != Green || FormatVerdict(vd, MetricView(Latency)) != "80" {
		t.Errorf("history cell, latency view: %+v", vd)
	}
}

// TestConfirmHolds: with Confirm 2 a latency colour needs two tests that agree; the
// first one is pending, and nothing is told until the second.
func TestConfirmHolds(t *testing.T) {
	s := NewStore(0)
	s.SetJudgement(Judgement{Confirm: 2})
	at := func(i int) time.Time { return jT0.Add(time.Duration(i) * time.Minute) }
	s.AddPing(jping(at(0), "a-0", "a", "b", 100, 100, 100, 100, 100))
	s.AddPing(jping(at(1), "a-0", "a", "b", 600, 600, 600, 600, 600))
	vd := s.Matrix().Verdict("a", "b", MetricView(Latency), Last, nil)
	if vd.Class != Green || !vd.Pending || len(s.Events()) != 0 {
		t.Fatalf("one slow test: %+v, events %s", vd, kinds(s.Events()))
	}
	s.AddPing(jping(at(2), "a-0", "a", "b", 650, 650, 650, 650, 650))
	vd = s.Matrix().Verdict("a", "b", Health, Last, nil)
	evs := s.Events()
	if vd.Class != Orange || vd.Pending || len(evs) != 1 || evs[0].Text() != "a→b latency green → orange (650 ms)" ||
		!evs[0].Time.Equal(at(2)) || !slices.Equal(evs[0].Crossed, []float64{250, 500}) {
		t.Fatalf("two slow tests: %+v, events %s", vd, kinds(evs))
	}
	// Under another stat there is no hysteresis: the window's own value.
	if vd := s.Matrix().Verdict("a", "b", MetricView(Latency), Max, nil); vd.Class != Orange {
		t.Errorf("max: %+v", vd)
	}
}

// TestWholeSweepIsTold: a PoP with two agents tells a sweep's events once both agents'
// results are in: one failing agent of two is no outage, and no FAIL flashes.
func TestWholeSweepIsTold(t *testing.T) {
	s := NewStore(0)
	s.SetAgents([]AgentStatus{
		{Agent: Agent{Name: "a-0", Pop: "a"}, State: StateOK}, {Agent: Agent{Name: "a-1", Pop: "a"}, State: StateOK},
		{Agent: Agent{Name: "b-0", Pop: "b"}, State: StateOK},
	})
	for i := range 3 {
		at := jT0.Add(time.Duration(i) * time.Minute)
		s.AddPing(jping(at, "a-1", "a", "b", Lost, Lost, Lost, Lost, Lost)) // a-1's path is dead
		if vd := s.Matrix().Verdict("a", "b", Health, Last, nil); vd.Failed {
			t.Fatalf("sweep %d: FAIL before a-0's result", i)
		}
		s.AddPing(jping(at, "a-0", "a", "b", 11, 11, 11, 11, 11))
	}
	for _, e := range s.Events() {
		if e.Kind == EventOutage || e.Kind == EventOutageEnd {
			t.Errorf("event of a half-dead PoP pair: %s", e.Text())
		}
	}
	// Both dead: an outage, told when the second result is in.
	at := jT0.Add(5 * time.Minute)
	s.AddPing(jping(at, "a-0", "a", "b", Lost, Lost, Lost, Lost, Lost))
	if n := len(s.Events()); n != 0 && s.Events()[n-1].Kind == EventOutage {
		t.Fatal("outage told before the sweep was whole")
	}
	s.AddPing(jping(at, "a-1", "a", "b", Lost, Lost, Lost, Lost, Lost))
	evs := s.Events()
	if len(evs) == 0 || evs[len(evs)-1].Kind != EventOutage || !evs[len(evs)-1].Time.Equal(at) {
		t.Fatalf("events: %s", kinds(evs))
	}
}

// TestStoreEvents: agents down and up, route changes (once each), notes; numbered in
// order, handed to the sink in order, and every matrix keeps the list it was taken with.
func TestStoreEvents(t *testing.T) {
	s := NewStore(0)
	clock := jT0
	s.SetClock(func() time.Time { return clock })
	var sunk []uint64
	s.SetEventSink(func(e Event) { sunk = append(sunk, e.Seq) })
	ok := AgentStatus{Agent: Agent{Name: "a-0", Pop: "a"}, State: StateOK}
	down := AgentStatus{Agent: Agent{Name: "a-0", Pop: "a"}, State: StateUnreachable, Error: "refused"}
	s.SetAgents([]AgentStatus{ok})
	m0 := s.Matrix()
	s.SetAgent(down)
	s.SetAgents([]AgentStatus{down}) // still down: nothing new
	clock = clock.Add(time.Minute)
	s.SetAgents([]AgentStatus{ok})
	for i, via := range []string{"198.18.2.1", "198.18.2.1", "198.18.2.9", "198.18.2.9", "198.18.2.9"} {
		tr := TraceResult{Time: jT0.Add(time.Duration(i) * time.Minute), Src: "a-0", SrcPop: "a", DstPop: "b", Dst: "198.18.1.2",
			Hops: []Hop{{TTL: 1, Addr: via}, {TTL: 2, Addr: "198.18.1.2"}}}
		tr.DeriveTrace()
		s.AddTrace(tr)
	}
	s.Note(Event{Kind: EventNote, Why: "recorder dropped 5 points"})
	evs := s.Events()
	want := "agent a-0 (a) down: refused; agent a-0 (a) up again; a→b route changed (2 hops, was 2); recorder dropped 5 points"
	if kinds(evs) != want {
		t.Fatalf("events:\n got %s\nwant %s", kinds(evs), want)
	}
	if !evs[2].Time.Equal(jT0.Add(2*time.Minute)) || evs[2].Agent != "a-0" {
		t.Errorf("route change: %+v", evs[2])
	}
	if fmt.Sprint(sunk) != "[1 2 3 4]" || s.EventCount() != 4 {
		t.Errorf("sink got %v, count %d", sunk, s.EventCount())
	}
	if len(m0.Events) != 0 || len(s.Matrix().Events) != 4 {
		t.Errorf("matrix events: %d then %d", len(m0.Events), len(s.Matrix().Events))
	}
	// The list is bounded; matrices taken before keep theirs.
	m1 := s.Matrix()
	s.SetEventCapacity(2)
	for range 5 {
		s.Note(Event{Kind: EventNote, Why: "x"})
	}
	if got := s.Events(); len(got) > 4 || got[len(got)-1].Seq != 9 {
		t.Errorf("bounded list: %d events, newest %d", len(got), got[len(got)-1].Seq)
	}
	if kinds(m1.Events) != want {
		t.Errorf("an older matrix's events changed: %s", kinds(m1.Events))
	}
}

// TestLossValueIsTheJudgedOne: under the last stat the loss shown is over the probes
// since the rate last changed, and a change the value suggests before the evidence is
// pending.
func TestLossValueIsTheJudgedOne(t *testing.T) {
	s := NewStore(0)
	for i := range 40 {
		probes := []float64{11, 11, 11, 11, 11}
		if i%10 == 0 {
			probes[2] = Lost // 1 in 50: 2 %
		}
		s.AddPing(jping(jT0.Add(time.Duration(i)*time.Minute), "a-0", "a", "b", probes...))
	}
	c := s.Matrix().Cell("a", "b")
	if v := c.Values[Loss][Last]; math.Abs(v-2) > 1e-9 || c.Now.LossProbes != 200 {
		t.Errorf("loss now %.2f over %d probes, want 2 over 200", v, c.Now.LossProbes)
	}
	if c.Last.LossPct != 0 {
		t.Errorf("the newest test's own loss is kept: %v", c.Last.LossPct)
	}
	vd := c.Verdict(MetricView(Loss), Last, nil)
	if vd.Class != Green || !vd.Pending {
		t.Errorf("2 %% over 200 probes: %+v, want green pending (2 %% is yellow but not surely)", vd)
	}
	// Under health the cell shows the loss that may be coming, not the green latency.
	if vd := c.Verdict(Health, Last, nil); vd.Class != Green || !vd.Pending || FormatVerdict(vd, Health) != "2.0%" {
		t.Errorf("health: %+v %q, want green pending 2.0%%", vd, FormatVerdict(vd, Health))
	}
}

func TestViews(t *testing.T) {
	if v, err := ParseView("Health"); err != nil || v != Health || v.String() != "health" || !v.IsHealth() {
		t.Errorf("ParseView(health) = %v %v", v, err)
	}
	for _, m := range Metrics {
		v, err := ParseView(m.Spec().Field)
		if got, ok := v.Metric(); err != nil || !ok || got != m || v.String() != m.String() {
			t.Errorf("ParseView(%s) = %v %v", m.Spec().Field, v, err)
		}
	}
	if _, err := ParseView("speed"); err == nil || !strings.Contains(err.Error(), "health, latency") {
		t.Errorf("ParseView(speed): %v", err)
	}
	if len(Views) != 1+len(Metrics) || Views[0] != Health {
		t.Errorf("Views %v", Views)
	}
}

// TestJitterNowIsTheMedian: one late probe (a test's jitter jumps) does not colour the
// cell; jitter in three of the newest five tests does.
func TestJitterNowIsTheMedian(t *testing.T) {
	s := NewStore(0)
	at := func(i int) time.Time { return jT0.Add(time.Duration(i) * time.Minute) }
	calm := []float64{20, 20.5, 20, 20.5, 20}
	late := []float64{20, 60, 20, 20.5, 20} // one probe 40 ms late: jitter 20 ms
	for i, probes := range [][]float64{calm, calm, calm, late, calm, late, late} {
		s.AddPing(jping(at(i), "a-0", "a", "b", probes...))
		vd := s.Matrix().Verdict("a", "b", MetricView(JitterMs), Last, nil)
		want := Green
		if i == 6 { // three late tests of the newest five
			want = Orange
		}
		if vd.Class != want {
			t.Errorf("test %d: jitter %s (%.1f ms), want %s", i, vd.Class, vd.Value, want)
		}
	}
	var told []string
	for _, e := range s.Events() {
		told = append(told, e.Text())
	}
	if len(told) != 1 || told[0] != "a→b jitter ms green → orange (20 ms)" {
		t.Errorf("events %q", told)
	}
}
