package mesh

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// HopAddr is one address that answered at a ttl, with how often it did.
type HopAddr struct {
	Addr  string  `json:"addr"`
	Name  string  `json:"name,omitempty"`
	ASN   int     `json:"asn,omitempty"`
	Count int     `json:"count"`
	Share float64 `json:"share"` // of the answers at this ttl, 0..1
	// Avg is the mean RTT of this address's answers (ms): routers sharing a ttl
	// (load balancing) keep their own figure.
	Avg float64 `json:"avg_ms"`
}

// HopStat is one ttl of a path over the window, as mtr shows it: who answered, how
// often, and the RTTs of the answers.
type HopStat struct {
	TTL   int       `json:"ttl"`
	Addrs []HopAddr `json:"addrs,omitempty"` // most frequent first
	// Sent counts the probes sent to this ttl (several per trace from meshtop's agent,
	// one from upstream's), Answered those that got a reply. A destination row made of
	// pings (Pings > 0) counts their probes.
	Sent     int     `json:"sent"`
	Answered int     `json:"answered"`
	LossPct  float64 `json:"loss_pct"`
	// RTTs of the answers, ms; NaN when nothing answered. Last is the newest answer.
	Last   float64 `json:"last_ms"`
	Avg    float64 `json:"avg_ms"`
	Best   float64 `json:"best_ms"`
	Worst  float64 `json:"worst_ms"`
	StdDev float64 `json:"stddev_ms"`
	// ASN and Name are those of the most frequent address.
	ASN  int    `json:"asn,omitempty"`
	Name string `json:"name,omitempty"`
	// Dest marks the destination's row.
	Dest bool `json:"dest,omitempty"`
	// Pings is how many ping tests the destination's row is made of (0: of the traces'
	// probes). The destination answers pings too, many more of them than trace probes,
	// and the pair's ping summary is made of them: the two agree.
	Pings int `json:"pings,omitempty"`
	// StepMs is how much Avg rose over the previous answering hop (over 0 for the first).
	StepMs float64 `json:"step_ms"`
	// Judged: this hop and every hop after it have enough probes (MinVerdictProbes)
	// for a verdict; below that the hop shows its numbers and no verdict.
	Judged bool `json:"judged,omitempty"`
	// RateLimited: this hop loses clearly more than the destination: the excess is its
	// own ICMP answers (rate limited or filtered), not packets it forwards.
	RateLimited bool `json:"rate_limited,omitempty"`
	// PathLoss: the hop is at or after LossTTL and loses: packets are lost on the path.
	PathLoss bool `json:"path_loss,omitempty"`
}

// Span is a stretch of time a path was taken: its first and last trace.
type Span struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Traces int       `json:"traces"`
}

// HopTable is the per-hop statistics of one path of one source agent to one
// destination.
type HopTable struct {
	Src     string    `json:"src"` // source agent
	Dst     string    `json:"dst"` // destination address
	Traces  int       `json:"traces"`
	Reached int       `json:"reached"` // traces that got an answer from the destination
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Hops    []HopStat `json:"hops"`
	// Path numbers the paths of one agent: 0 is the current one (the newest trace's),
	// then older ones, most recently taken first. Spans are the stretches of time it was
	// taken, oldest first (a path left and taken again has several).
	Path  int    `json:"path"`
	Spans []Span `json:"spans,omitempty"`
	// Since is when the statistics start when they were reset (the drill-down's "from
	// now"); zero for the whole window.
	Since time.Time `json:"since,omitzero"`
	// StepTTL is the hop where the RTT steps up most, LossTTL the first hop whose loss
	// carries on to the destination; 0 when there is none.
	StepTTL int `json:"step_ttl,omitempty"`
	LossTTL int `json:"loss_ttl,omitempty"`
	// ASPathOnly: the traces carry no hop lists (workshop history), only AS paths.
	ASPathOnly bool `json:"as_path_only,omitempty"`
}

// HopInput is what hop tables are made of.
type HopInput struct {
	Traces []TraceResult
	// Samples are the pair's pings over the same window (optional): the destination's
	// row counts the pings of the table's agent taken while the path was taken.
	Samples []Sample
	// Since drops traces and pings before it: statistics "from now", like mtr's reset.
	Since time.Time
}

// HopStats reduces traces (any order, any agents) to hop tables; see HopStatsOf.
func HopStats(traces []TraceResult) []HopTable { return HopStatsOf(HopInput{Traces: traces}) }

// HopStatsOf reduces traces to hop tables per (source agent, destination), sorted by
// agent, and per path: a route change splits an agent's traces by path (the current
// path first, older ones after it with the times they were taken), so no line ever
// averages two routers. Traces with Err carry nothing and are skipped.
//
// A hop counts every probe of a trace (meshtop's agent sends several per hop; upstream's
// one). The destination is counted at one ttl, the lowest at which it ever answered on
// that path: when its reply to that probe was lost the traceroute goes on and the
// destination answers a later ttl ("late destination"); that is loss at the
// destination, not a longer path.
func HopStatsOf(in HopInput) []HopTable {
	type key struct{ src, dst string }
	groups := map[key][]TraceResult{}
	var keys []key
	for _, t := range in.Traces {
		if !t.Measured() || t.Time.Before(in.Since) {
			continue
		}
		k := key{t.Src, t.Dst}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], t)
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.src, b.src), cmp.Compare(a.dst, b.dst))
	})
	out := make([]HopTable, 0, len(keys))
	for _, k := range keys {
		traces := groups[k]
		slices.SortStableFunc(traces, func(a, b TraceResult) int { return a.Time.Compare(b.Time) })
		for i, p := range splitPaths(traces) {
			tb := hopTable(k.src, k.dst, p.traces)
			tb.Path, tb.Spans, tb.Since = i, p.spans, in.Since
			if tb.ASPathOnly {
				out = append(out, tb)
				continue
			}
			if n := len(tb.Hops); n > 0 && tb.Hops[n-1].Dest {
				pingRow(&tb.Hops[n-1], pingsOf(k.src, in.Samples, in.Since, p.owns))
			}
			tb.markVerdicts()
			out = append(out, tb)
		}
	}
	return out
}

// destTTL is the ttl at which trace t got its destination's answer, 0 when it did not.
func destTTL(t TraceResult) int {
	for _, h := range t.Hops {
		if !h.NoResponse && h.Addr != "" && h.Addr == t.Dst {
			return h.TTL
		}
	}
	// A destination given by name: the final answering hop of a trace that reached it.
	if !t.Failed {
		for i := len(t.Hops) - 1; i >= 0; i-- {
			if !t.Hops[i].NoResponse {
				return t.Hops[i].TTL
			}
		}
	}
	return 0
}

// probesOf is every probe of a hop: the agent's list when it sent several, else the
// hop's own answer (or its silence) as the one probe upstream sends.
func probesOf(h Hop) []HopProbe {
	if len(h.Probes) > 0 {
		return h.Probes
	}
	if h.NoResponse || h.Addr == "" {
		return []HopProbe{{}}
	}
	return []HopProbe{{Addr: h.Addr, RTT: h.RTT}}
}

// rowAcc gathers one ttl's probes.
type rowAcc struct {
	sent, ans int
	rtts      []float64
	last      float64
	addrs     map[string]*HopAddr
	dest      bool
}

func (a *rowAcc) answer(addr, name string, asn int, rtt float64) {
	a.ans++
	a.rtts = append(a.rtts, rtt)
	a.last = rtt
	ad := a.addrs[addr]
	if ad == nil {
		ad = &HopAddr{Addr: addr}
		a.addrs[addr] = ad
	}
	ad.Count++
	ad.Avg += rtt // a sum until the table is made
	if name != "" {
		ad.Name = name
	}
	if asn != 0 {
		ad.ASN = asn
	}
}

// hopTable is the rows of one path's traces (in time order).
func hopTable(src, dst string, traces []TraceResult) HopTable {
	tb := HopTable{Src: src, Dst: dst, Traces: len(traces), From: traces[0].Time, To: traces[len(traces)-1].Time}
	// D: the lowest ttl at which the destination answered.
	d, lastAns := 0, 0
	withHops := 0
	for _, t := range traces {
		if len(t.Hops) > 0 {
			withHops++
		}
		if e := destTTL(t); e > 0 {
			tb.Reached++
			if d == 0 || e < d {
				d = e
			}
		} else if !t.Failed && len(t.Hops) == 0 {
			tb.Reached++ // workshop history: no hops, but it says it got there
		}
		for _, h := range t.Hops {
			if !h.NoResponse {
				lastAns = max(lastAns, h.TTL)
			}
		}
	}
	if withHops == 0 {
		tb.ASPathOnly = true
		return tb
	}
	limit := d // rows beyond the destination are not probes of anything
	if limit == 0 {
		limit = min(lastAns+1, MaxTTL) // nothing reached it: keep one silent row past the last answer
	}

	rows := map[int]*rowAcc{}
	row := func(ttl int) *rowAcc {
		a := rows[ttl]
		if a == nil {
			a = &rowAcc{last: math.NaN(), addrs: map[string]*HopAddr{}}
			rows[ttl] = a
		}
		return a
	}
	for _, t := range traces {
		if len(t.Hops) == 0 {
			continue
		}
		e := destTTL(t)
		// A late destination: every probe from D up to its answer went unanswered, so
		// those were all probes of the destination, and the first of them was lost.
		late := false
		if d > 0 && e > d {
			late = true
			for _, h := range t.Hops {
				if h.TTL >= d && h.TTL < e && !h.NoResponse {
					late = false // a router answered there: the path really is longer
					break
				}
			}
		}
		seen := map[int]bool{}
		for _, h := range t.Hops {
			if h.TTL <= 0 || h.TTL > MaxTTL || seen[h.TTL] {
				continue
			}
			if (late || e == 0) && h.TTL > limit {
				break
			}
			if !late && e > 0 && h.TTL > e {
				break
			}
			seen[h.TTL] = true
			a := row(h.TTL)
			if (h.TTL == d && (e == d || late)) || (h.Addr != "" && h.Addr == t.Dst) {
				a.dest = true
			}
			for _, p := range probesOf(h) {
				a.sent++
				if p.Lost() {
					continue
				}
				// The hop's name and ASN are its address's; another router answering
				// some of its probes (load balancing) has none of its own here.
				name, asn := "", 0
				if p.Addr == h.Addr {
					name, asn = h.Name, h.ASN
				}
				a.answer(p.Addr, name, asn, p.RTT)
			}
		}
		if late {
			// The destination's answers still measure its RTT; they are not answers to
			// the probes at D, which were lost.
			for _, h := range t.Hops {
				if h.TTL == e {
					a := row(d)
					for _, p := range probesOf(h) {
						if !p.Lost() {
							a.rtts = append(a.rtts, p.RTT)
							a.last = p.RTT
						}
					}
				}
			}
		}
	}

	ttls := make([]int, 0, len(rows))
	for ttl := range rows {
		ttls = append(ttls, ttl)
	}
	slices.Sort(ttls)
	for _, ttl := range ttls {
		a := rows[ttl]
		hs := HopStat{TTL: ttl, Sent: a.sent, Answered: a.ans, Dest: a.dest, Last: a.last,
			Avg: math.NaN(), Best: math.NaN(), Worst: math.NaN(), StdDev: math.NaN()}
		if a.sent > 0 {
			hs.LossPct = float64(a.sent-a.ans) / float64(a.sent) * 100
		}
		if len(a.rtts) > 0 {
			hs.Avg, hs.StdDev = meanSD(a.rtts)
			hs.Best, hs.Worst = slices.Min(a.rtts), slices.Max(a.rtts)
		}
		for _, ad := range a.addrs {
			ad.Share = float64(ad.Count) / float64(max(1, a.ans))
			ad.Avg /= float64(ad.Count)
			hs.Addrs = append(hs.Addrs, *ad)
		}
		slices.SortFunc(hs.Addrs, func(x, y HopAddr) int {
			return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Addr, y.Addr))
		})
		if len(hs.Addrs) > 0 {
			hs.ASN, hs.Name = hs.Addrs[0].ASN, hs.Addrs[0].Name
		}
		tb.Hops = append(tb.Hops, hs)
	}
	return tb
}

// meanSD is the mean and the population standard deviation (as mtr's StDev).
func meanSD(vs []float64) (mean, sd float64) {
	for _, v := range vs {
		mean += v
	}
	mean /= float64(len(vs))
	for _, v := range vs {
		sd += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(sd / float64(len(vs)))
}
