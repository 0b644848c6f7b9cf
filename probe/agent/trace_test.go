package agent

import (
	"context"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshtop/meshtop/probe/agent/netprobe"
)

// fakeHop is one scripted traceroute answer.
type fakeHop struct {
	addr netip.Addr
	rtt  time.Duration
}

// fakeHops answers by TTL (and round) from a script: an answer slower than the probe's
// timeout is not seen, as on the wire; with slow set the fake takes that long (a silent
// probe its whole timeout, unless the trace cancels it first). With hold set, every
// probe waits until release is closed (or the trace cancels it) and then answers from
// the script.
type fakeHops struct {
	answers map[int]fakeHop // by TTL
	// byRound overrides answers for one round: round -> TTL -> answer; a zero fakeHop
	// is silence.
	byRound map[int]map[int]fakeHop
	slow    bool
	hold    bool
	release chan struct{}

	mu        sync.Mutex
	asked     []int // TTLs in sending order
	rounds    []int // the round of each asked TTL
	timeouts  []time.Duration
	inFlight  int
	maxFlight int
	cancelled map[int]bool // by seq: the trace ended the probe before its timeout
}

func (f *fakeHops) Probe(ctx context.Context, seq, ttl int, timeout time.Duration) (netprobe.Answer, error) {
	round := seq / (maxTTL + 1)
	if probeSeq(round, ttl) != seq {
		return netprobe.Answer{}, context.Canceled // never: the seq must name round and TTL
	}
	f.mu.Lock()
	f.asked = append(f.asked, ttl)
	f.rounds = append(f.rounds, round)
	f.timeouts = append(f.timeouts, timeout)
	f.inFlight++
	f.maxFlight = max(f.maxFlight, f.inFlight)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()
	h, ok := f.answers[ttl]
	if r, has := f.byRound[round]; has {
		h, ok = r[ttl]
		ok = ok && h.addr.IsValid()
	}
	cancelled := func() (netprobe.Answer, error) {
		f.mu.Lock()
		if f.cancelled == nil {
			f.cancelled = map[int]bool{}
		}
		f.cancelled[seq] = true
		f.mu.Unlock()
		return netprobe.Answer{}, ctx.Err()
	}
	switch {
	case f.hold:
		select {
		case <-f.release:
		case <-ctx.Done():
			return cancelled()
		}
	case f.slow:
		d := timeout
		if ok {
			d = min(h.rtt, timeout)
		}
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return cancelled()
		}
	}
	if !ok || h.rtt > timeout {
		return netprobe.Answer{}, nil
	}
	return netprobe.Answer{From: h.addr, RTT: h.rtt}, nil
}

func quickPlan(maxTTL, rounds int) tracePlan {
	return tracePlan{maxTTL: maxTTL, rounds: rounds, pace: 100 * time.Microsecond, every: time.Millisecond,
		grace: time.Second, replyWait: 3 * time.Second}
}

func hopAddrs(hops []hop) []string {
	var got []string
	for _, h := range hops {
		if h.addr.IsValid() {
			got = append(got, h.addr.String())
		} else {
			got = append(got, "*")
		}
	}
	return got
}

func TestTraceLoop(t *testing.T) {
	ip := netip.MustParseAddr
	dst := ip("198.18.9.1")
	at := func(m map[int]netip.Addr) map[int]fakeHop {
		out := map[int]fakeHop{}
		for ttl, a := range m {
			out[ttl] = fakeHop{a, time.Duration(ttl) * time.Millisecond}
		}
		return out
	}
	tests := []struct {
		name    string
		answers map[int]fakeHop
		maxTTL  int
		want    []string // per hop: address or "*"
		reached bool
	}{
		{"direct", at(map[int]netip.Addr{1: dst}), 32, []string{"198.18.9.1"}, true},
		{"routers then dst", at(map[int]netip.Addr{1: ip("198.18.0.1"), 2: ip("198.18.1.1"), 3: dst}), 32,
			[]string{"198.18.0.1", "198.18.1.1", "198.18.9.1"}, true},
		{"silent hop in the middle", at(map[int]netip.Addr{1: ip("198.18.0.1"), 3: dst}), 32,
			[]string{"198.18.0.1", "*", "198.18.9.1"}, true},
		{"repeated address is no response", at(map[int]netip.Addr{1: ip("198.18.0.1"), 2: ip("198.18.0.1"), 3: ip("198.18.1.1"), 4: ip("198.18.0.1"), 5: dst}), 32,
			[]string{"198.18.0.1", "*", "198.18.1.1", "*", "198.18.9.1"}, true},
		{"never reached stops at max_ttl", at(map[int]netip.Addr{1: ip("198.18.0.1")}), 4,
			[]string{"198.18.0.1", "*", "*", "*"}, false},
		{"max_ttl 0 sends nothing", at(map[int]netip.Addr{1: dst}), 0, nil, false},
		{"stops at dst even below max_ttl", at(map[int]netip.Addr{1: dst, 2: ip("198.18.0.1")}), 3, []string{"198.18.9.1"}, true},
		{"answer slower than the wait is silence", map[int]fakeHop{1: {ip("198.18.0.1"), time.Millisecond}, 2: {dst, 5 * time.Second}}, 3,
			[]string{"198.18.0.1", "*", "*"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeHops{answers: tt.answers}
			hops, reached, err := traceLoop(context.Background(), f, dst, quickPlan(tt.maxTTL, 1))
			if err != nil {
				t.Fatal(err)
			}
			for i, h := range hops {
				if h.ttl != i+1 {
					t.Errorf("hop %d has ttl %d", i, h.ttl)
				}
			}
			if got := hopAddrs(hops); reached != tt.reached || !slices.Equal(got, tt.want) {
				t.Fatalf("hops %v reached %v, want %v reached %v", got, reached, tt.want, tt.reached)
			}
			// Probes go out without waiting for answers, so a few may go past the
			// destination; never past max_ttl, and each TTL once per round.
			seen := map[int]bool{}
			for _, ttl := range f.asked {
				if ttl < 1 || ttl > tt.maxTTL || seen[ttl] {
					t.Errorf("probed TTLs %v with max_ttl %d", f.asked, tt.maxTTL)
					break
				}
				seen[ttl] = true
			}
			for _, to := range f.timeouts {
				if to != 3*time.Second {
					t.Errorf("a probe listened %v, want the reply wait", to)
				}
			}
		})
	}
}

// TestTraceLoopProbesConcurrently is issue 18 item 2: to a dead destination every TTL is
// out before any of them has been given up on, so the trace costs one reply wait, not
// one per silent TTL. The fake holds every probe until the test has seen all 32 in
// flight at once (a trace that waited for each TTL would never get there).
func TestTraceLoopProbesConcurrently(t *testing.T) {
	dst := netip.MustParseAddr("198.18.9.1")
	f := &fakeHops{hold: true, release: make(chan struct{}),
		answers: map[int]fakeHop{1: {netip.MustParseAddr("198.18.0.1"), time.Millisecond}}}
	type out struct {
		hops    []hop
		reached bool
		err     error
	}
	done := make(chan out, 1)
	go func() {
		h, r, err := traceLoop(context.Background(), f, dst, quickPlan(32, 1))
		done <- out{h, r, err}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		f.mu.Lock()
		n := f.inFlight
		f.mu.Unlock()
		if n == 32 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d probes in flight; want all 32 TTLs out at once", n)
		}
		time.Sleep(time.Millisecond)
	}
	close(f.release)
	o := <-done
	if o.err != nil {
		t.Fatal(o.err)
	}
	if got := hopAddrs(o.hops); o.reached || len(got) != 32 || got[0] != "198.18.0.1" || got[1] != "*" || got[31] != "*" {
		t.Fatalf("dead destination: hops %v reached %v, want the router then 31 silent hops", got, o.reached)
	}
}

// TestTraceLoopRounds: with several probes per hop each TTL gets one probe per round;
// a hop's line takes the address most of its probes saw, and every probe's answer is
// kept; later rounds do not probe past the destination.
func TestTraceLoopRounds(t *testing.T) {
	ip := netip.MustParseAddr
	dst := ip("198.18.9.1")
	r1, r2a, r2b := ip("198.18.0.1"), ip("198.18.1.1"), ip("198.18.1.2")
	ms := time.Millisecond
	base := map[int]fakeHop{1: {r1, ms}, 2: {r2a, 2 * ms}, 3: {dst, 3 * ms}, 4: {dst, 4 * ms}, 5: {dst, 5 * ms}}
	with := func(changes map[int]fakeHop) map[int]fakeHop {
		m := map[int]fakeHop{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range changes {
			m[k] = v
		}
		return m
	}
	f := &fakeHops{answers: base, byRound: map[int]map[int]fakeHop{
		0: with(map[int]fakeHop{3: {}}),                   // the destination's reply to ttl 3 lost: it answers ttl 4
		1: with(map[int]fakeHop{1: {}, 2: {r2b, 2 * ms}}), // r1 silent; ECMP: r2b answers ttl 2
	}}
	hops, reached, err := traceLoop(context.Background(), f, dst, quickPlan(32, 3))
	if err != nil {
		t.Fatal(err)
	}
	if got := hopAddrs(hops); !reached || !slices.Equal(got, []string{"198.18.0.1", "198.18.1.1", "198.18.9.1"}) {
		t.Fatalf("hops %v reached %v, want r1, r2a (2 of 3 probes), dst at ttl 3", got, reached)
	}
	probes := func(h hop) string {
		var s []string
		for _, a := range h.probes {
			if a.From.IsValid() {
				s = append(s, a.From.String())
			} else {
				s = append(s, "*")
			}
		}
		return strings.Join(s, " ")
	}
	for i, want := range []string{"198.18.0.1 * 198.18.0.1", "198.18.1.1 198.18.1.2 198.18.1.1", "* 198.18.9.1 198.18.9.1"} {
		if got := probes(hops[i]); got != want {
			t.Errorf("ttl %d probes %q, want %q", i+1, got, want)
		}
	}
	if hops[2].rtt != 3*ms {
		t.Errorf("destination rtt %v, want its first answer at ttl 3 (3ms)", hops[2].rtt)
	}
	// Round 0 went on to ttl 4 (where the destination answered); rounds 1 and 2 started
	// after it knew the destination's TTL and stopped there.
	for i, ttl := range f.asked {
		if f.rounds[i] > 0 && ttl > 3 {
			t.Errorf("round %d probed ttl %d past the destination (ttl 3)", f.rounds[i], ttl)
		}
	}
}

// TestTraceLoopSlowDestination is issue 10 item 2: a destination that answers later
// than the grace (here 3 times it, still inside the reply wait) is found at its TTL,
// and so is a router slower than the grace.
func TestTraceLoopSlowDestination(t *testing.T) {
	ip := netip.MustParseAddr
	dst := ip("198.18.9.1")
	f := &fakeHops{slow: true, answers: map[int]fakeHop{
		1: {ip("198.18.0.1"), 5 * time.Millisecond},
		2: {ip("198.18.0.2"), 30 * time.Millisecond}, // slower than the grace too
		3: {dst, 60 * time.Millisecond},
		4: {dst, 60 * time.Millisecond},
		5: {dst, 60 * time.Millisecond},
		6: {dst, 60 * time.Millisecond},
	}}
	plan := tracePlan{maxTTL: 32, rounds: 1, pace: time.Millisecond, grace: 20 * time.Millisecond, replyWait: 2 * time.Second}
	hops, reached, err := traceLoop(context.Background(), f, dst, plan)
	if err != nil {
		t.Fatal(err)
	}
	if !reached || len(hops) != 3 || hops[1].addr != ip("198.18.0.2") || hops[2].addr != dst || hops[2].rtt != 60*time.Millisecond {
		t.Fatalf("hops %+v reached %v: want r1, r2 (late), dst at ttl 3 with its 60 ms", hops, reached)
	}
}

// TestTraceLoopSilentRouterBelowDestination: once the destination has answered, a router
// below it that never answers is given the destination's RTT plus the grace, not the
// whole reply wait: the trace ends its probe.
func TestTraceLoopSilentRouterBelowDestination(t *testing.T) {
	dst := netip.MustParseAddr("198.18.9.1")
	f := &fakeHops{slow: true, answers: map[int]fakeHop{2: {dst, 5 * time.Millisecond}, 3: {dst, 5 * time.Millisecond}}}
	plan := tracePlan{maxTTL: 32, rounds: 2, pace: time.Millisecond, every: 10 * time.Millisecond,
		grace: 20 * time.Millisecond, replyWait: time.Minute}
	hops, reached, err := traceLoop(context.Background(), f, dst, plan)
	if err != nil {
		t.Fatal(err)
	}
	if got := hopAddrs(hops); !reached || !slices.Equal(got, []string{"*", "198.18.9.1"}) {
		t.Fatalf("hops %v reached %v, want a silent ttl 1, the destination at ttl 2", got, reached)
	}
	for _, round := range []int{0, 1} {
		if !f.cancelled[probeSeq(round, 1)] {
			t.Errorf("round %d: the silent ttl 1 was not ended by the trace (it waited its whole reply wait)", round)
		}
	}
}

// TestTraceOptionProbes: the `probes` option is validated like upstream's options, and
// the answer lists each probe's answer only when it was asked for (upstream's hop shape
// otherwise, byte for byte).
func TestTraceOptionProbes(t *testing.T) {
	for _, tc := range []struct {
		opts     map[string]any
		probes   int
		perProbe bool
		msg      string
	}{
		{map[string]any{}, 1, false, ""},
		{map[string]any{"probes": json.Number("5")}, 5, true, ""},
		{map[string]any{"probes": "3"}, 3, true, ""},
		{map[string]any{"probes": json.Number("0")}, 0, true, "Provided 'probes' of '0' is not allowed. Min: 1, Max: 10."},
		{map[string]any{"probes": json.Number("11")}, 0, true, "Provided 'probes' of '11' is not allowed. Min: 1, Max: 10."},
		{map[string]any{"probes": "x"}, 0, true, "Provided 'probes' of 'x' must be an integer."},
	} {
		p, msg := parseTrace(tc.opts)
		if msg != tc.msg || (msg == "" && (p.probes != tc.probes || p.perProbe != tc.perProbe)) {
			t.Errorf("parseTrace(%v) = probes %d perProbe %v %q, want %d %v %q", tc.opts, p.probes, p.perProbe, msg, tc.probes, tc.perProbe, tc.msg)
		}
	}

	a, _ := startAgent(t, nil)
	h := []hop{{ttl: 1, addr: mustAddr("198.18.77.3"), rtt: 48600, probes: []netprobe.Answer{
		{From: mustAddr("198.18.77.3"), RTT: 48600}, {}, {From: mustAddr("198.18.77.4"), RTT: 50000}}}}
	b, _ := json.Marshal(a.hopsOut(context.Background(), h, true)[0])
	want := `{"asn":null,"hostname":"198.18.77.3","no_response":false,"probes":[{"rtt_ms":0.0486,"src":"198.18.77.3"},null,{"rtt_ms":0.05,"src":"198.18.77.4"}],"rtt_ms":0.0486,"src":"198.18.77.3","ttl":1}`
	if string(b) != want {
		t.Errorf("hop with probes = %s, want %s", b, want)
	}
	b, _ = json.Marshal(a.hopsOut(context.Background(), h, false)[0])
	if strings.Contains(string(b), "probes") {
		t.Errorf("hop without the option carries probes: %s", b)
	}
}

// TestTraceLoopLaterRoundsStopPastTheAnswers: to a dead destination only the first
// round probes every TTL; later rounds go a few TTLs past the last router that answered,
// and each hop lists the probes it really got.
func TestTraceLoopLaterRoundsStopPastTheAnswers(t *testing.T) {
	ip := netip.MustParseAddr
	dst := ip("198.18.9.1")
	f := &fakeHops{answers: map[int]fakeHop{1: {ip("198.18.0.1"), time.Millisecond}, 2: {ip("198.18.0.2"), time.Millisecond}}}
	plan := quickPlan(32, 3)
	plan.every, plan.replyWait = 20*time.Millisecond, 100*time.Millisecond
	hops, reached, err := traceLoop(context.Background(), f, dst, plan)
	if err != nil {
		t.Fatal(err)
	}
	if reached || len(hops) != 32 {
		t.Fatalf("%d hops reached %v, want 32 unreached", len(hops), reached)
	}
	for i, ttl := range f.asked {
		if f.rounds[i] > 0 && ttl > 2+roundMargin {
			t.Errorf("round %d probed ttl %d, past the last answer (2) and the margin", f.rounds[i], ttl)
		}
	}
	for _, h := range hops {
		want := 1
		if h.ttl <= 2+roundMargin {
			want = 3
		}
		if len(h.probes) != want {
			t.Errorf("ttl %d lists %d probes, want %d", h.ttl, len(h.probes), want)
		}
	}
}
