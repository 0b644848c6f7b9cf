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
}

// HopStat is one ttl of a path over the window, as mtr shows it: who answered, how
// often, and the RTTs of the answers.
type HopStat struct {
	TTL   int       `json:"ttl"`
	Addrs []HopAddr `json:"addrs,omitempty"` // most frequent first
	// Sent counts the traces that probed this ttl (one probe per trace), Answered those
	// that got a reply.
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
	// StepMs is how much Avg rose over the previous answering hop (over 0 for the first).
	StepMs float64 `json:"step_ms"`
	// RateLimited: replies were lost here but later hops lost fewer: the router limits
	// (or never sends) ICMP time-exceeded; packets it forwards are not lost.
	RateLimited bool `json:"rate_limited,omitempty"`
	// PathLoss: the loss seen here carries on to every later hop: packets are lost on the
	// path at or before this hop.
	PathLoss bool `json:"path_loss,omitempty"`
}

// HopTable is the per-hop statistics of one source agent's path to one destination.
type HopTable struct {
	Src     string    `json:"src"` // source agent
	Dst     string    `json:"dst"` // destination address
	Traces  int       `json:"traces"`
	Reached int       `json:"reached"` // traces that got an answer from the destination
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Hops    []HopStat `json:"hops"`
	// StepTTL is the hop where the RTT steps up most, LossTTL the first hop whose loss
	// persists to every later hop; 0 when there is none.
	StepTTL int `json:"step_ttl,omitempty"`
	LossTTL int `json:"loss_ttl,omitempty"`
	// ASPathOnly: the traces carry no hop lists (workshop history), only AS paths.
	ASPathOnly bool `json:"as_path_only,omitempty"`
}

// HopStats reduces traces (any order, any agents) to one table per (source agent,
// destination), sorted by agent. Traces with Err carry nothing and are skipped.
//
// The destination is counted at one ttl, the lowest at which it ever answered: when its
// reply to that probe was lost the traceroute goes on and the destination answers a
// later ttl ("late destination"); that is loss at the destination, not a longer path.
func HopStats(traces []TraceResult) []HopTable {
	type key struct{ src, dst string }
	groups := map[key][]TraceResult{}
	var keys []key
	for _, t := range traces {
		if !t.Measured() {
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
		out = append(out, hopTable(k.src, k.dst, groups[k]))
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

func hopTable(src, dst string, traces []TraceResult) HopTable {
	slices.SortStableFunc(traces, func(a, b TraceResult) int { return a.Time.Compare(b.Time) })
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

	type acc struct {
		sent, ans int
		rtts      []float64
		last      float64
		addrs     map[string]*HopAddr
		dest      bool
	}
	rows := map[int]*acc{}
	row := func(ttl int) *acc {
		a := rows[ttl]
		if a == nil {
			a = &acc{last: math.NaN(), addrs: map[string]*HopAddr{}}
			rows[ttl] = a
		}
		return a
	}
	answer := func(a *acc, h Hop) {
		a.ans++
		a.rtts = append(a.rtts, h.RTT)
		a.last = h.RTT
		ad := a.addrs[h.Addr]
		if ad == nil {
			ad = &HopAddr{Addr: h.Addr, Name: h.Name, ASN: h.ASN}
			a.addrs[h.Addr] = ad
		}
		ad.Count++
		if h.Name != "" {
			ad.Name = h.Name
		}
		if h.ASN != 0 {
			ad.ASN = h.ASN
		}
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
			a.sent++
			if (h.TTL == d && (e == d || late)) || (h.Addr != "" && h.Addr == t.Dst) {
				a.dest = true
			}
			if !h.NoResponse && h.Addr != "" {
				answer(a, h)
			}
		}
		if late {
			// The destination's answer still measures its RTT; it is not an answer to
			// the probe at D, which was lost.
			for _, h := range t.Hops {
				if h.TTL == e {
					a := row(d)
					a.rtts = append(a.rtts, h.RTT)
					a.last = h.RTT
				}
			}
		}
		// A trace whose hop list stops short (the agent gave up) still sent the
		// destination probe only if it says so; nothing to add.
	}

	ttls := make([]int, 0, len(rows))
	for ttl := range rows {
		ttls = append(ttls, ttl)
	}
	slices.Sort(ttls)
	prevAvg := 0.0
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
			hs.StepMs = hs.Avg - prevAvg
			prevAvg = hs.Avg
		}
		for _, ad := range a.addrs {
			ad.Share = float64(ad.Count) / float64(max(1, a.ans))
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
	tb.markVerdicts()
	return tb
}

// markVerdicts finds the RTT step and tells path loss from rate limiting. Loss at a hop
// is path loss when every later hop loses at least half as much; loss that later hops
// do not carry is the router's ICMP rate limit. The last hop's loss has nothing after
// it to contradict it, so it is path loss (as mtr reads a lossy final hop).
func (tb *HopTable) markVerdicts() {
	hops := tb.Hops
	best := 0.0
	for _, h := range hops {
		if !math.IsNaN(h.Avg) && h.StepMs > best {
			best, tb.StepTTL = h.StepMs, h.TTL
		}
	}
	lossy := func(h HopStat) bool { return h.Answered < h.Sent }
	start := -1
	for i, h := range hops {
		if !lossy(h) {
			continue
		}
		persists := true
		for _, l := range hops[i+1:] {
			if !lossy(l) || l.LossPct < h.LossPct/2 {
				persists = false
				break
			}
		}
		if persists {
			start = i
			break
		}
	}
	if start >= 0 {
		tb.LossTTL = hops[start].TTL
	}
	for i := range hops {
		switch {
		case start >= 0 && i >= start:
			hops[i].PathLoss = lossy(hops[i])
			// On a lossy path a hop can still lose far more than the hops after it:
			// that excess is its own rate limit.
			if i < len(hops)-1 {
				least := 100.0
				for _, l := range hops[i+1:] {
					least = min(least, l.LossPct)
				}
				hops[i].RateLimited = hops[i].LossPct > 2*least
			}
		case lossy(hops[i]):
			hops[i].RateLimited = true
		}
	}
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
