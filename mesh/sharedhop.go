package mesh

import (
	"cmp"
	"maps"
)

// HopSuspect is a transit hop that most of the mesh's bad pairs pass and its good pairs
// do not: during an incident in a transit network (a lossy router between continents)
// many rows and columns turn bad together, which a row or column pattern would blame on
// one PoP; the pairs' traceroutes name the hop they share.
type HopSuspect struct {
	Addr string
	Name string // its reverse DNS name, when the traces carry one
	ASN  int    // 0 when unknown
	// Bad is how many bad pairs pass it, of BadAll bad pairs with a known path; Good
	// how many good pairs pass it.
	Bad, BadAll, Good int
}

// What a suspect must have: several bad pairs from more than one source to more than
// one destination (one source's or one destination's bad pairs are the row and column
// patterns), and few good pairs beside them.
const (
	suspectMinBad    = 3
	suspectGoodShare = 4 // at most one good pair per four bad ones
)

// SharedHop finds the hop that most bad pairs pass (class(p): whether the pair is bad,
// and whether it has a colour at all). paths[src][dst] are the hops of each pair's
// newest traceroute without the destination (Matrix.Paths); silent hops are not
// candidates. Ties go to the hop fewer good pairs pass, then the lower address, so every
// viewer names the same.
func SharedHop(paths map[string]map[string][]Hop, class func(Pair) (bad, known bool)) (HopSuspect, bool) {
	type tally struct {
		hop        *Hop
		bad, good  int
		src, dst   string // the first bad pair's ends, and whether others differ:
		srcs, dsts bool   // two sources and two destinations are all that is asked
	}
	type path struct {
		p    Pair
		hops []Hop
	}
	// Bad pairs first: their hops are the candidates. Most of a quiet mesh is good, so
	// good pairs are then only looked up among those few.
	var bad, good []path
	for src, row := range paths {
		for dst, hops := range row {
			p := Pair{src, dst}
			switch b, known := class(p); {
			case !known:
			case b:
				bad = append(bad, path{p, hops})
			default:
				good = append(good, path{p, hops})
			}
		}
	}
	if len(bad) < suspectMinBad {
		return HopSuspect{}, false
	}
	tallies := map[string]*tally{}
	var idx []int
	for _, bp := range bad {
		idx = answering(bp.hops, idx)
		for _, i := range idx {
			h := &bp.hops[i]
			t := tallies[h.Addr]
			if t == nil {
				t = &tally{hop: h, src: bp.p.Src, dst: bp.p.Dst}
				tallies[h.Addr] = t
			}
			t.bad++
			t.srcs = t.srcs || bp.p.Src != t.src
			t.dsts = t.dsts || bp.p.Dst != t.dst
		}
	}
	maps.DeleteFunc(tallies, func(_ string, t *tally) bool {
		return t.bad < suspectMinBad || !t.srcs || !t.dsts
	})
	if len(tallies) == 0 {
		return HopSuspect{}, false
	}
	for _, gp := range good {
		idx = answering(gp.hops, idx)
		for _, i := range idx {
			if t := tallies[gp.hops[i].Addr]; t != nil {
				t.good++
			}
		}
	}
	var best *tally
	for _, t := range tallies {
		if t.good*suspectGoodShare > t.bad {
			continue
		}
		if best == nil || cmp.Or(cmp.Compare(t.bad, best.bad), cmp.Compare(best.good, t.good), cmp.Compare(best.hop.Addr, t.hop.Addr)) > 0 {
			best = t
		}
	}
	if best == nil {
		return HopSuspect{}, false
	}
	return HopSuspect{Addr: best.hop.Addr, Name: best.hop.Name, ASN: best.hop.ASN, Bad: best.bad, BadAll: len(bad), Good: best.good}, true
}

// answering puts into buf the indices of hops that answered, each address once (at its
// first TTL), and returns it.
func answering(hops []Hop, buf []int) []int {
	buf = buf[:0]
next:
	for i := range hops {
		h := &hops[i]
		if h.NoResponse || h.Addr == "" {
			continue
		}
		for _, j := range buf {
			if hops[j].Addr == h.Addr {
				continue next
			}
		}
		buf = append(buf, i)
	}
	return buf
}

// transitHops is a trace's hops before its destination answered (the destination is
// no transit hop to suspect). A trace that did not reach it keeps every hop: the last
// that answered may be where the path breaks.
func transitHops(r TraceResult) []Hop {
	hops := r.Hops
	for len(hops) > 0 && hops[len(hops)-1].Addr == r.Dst {
		hops = hops[:len(hops)-1]
	}
	return hops
}
