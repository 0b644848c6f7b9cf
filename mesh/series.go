package mesh

import (
	"math"
	"time"
)

// series is one PoP pair's kept samples in compact form: one ring buffer of 32-bit
// words, a record per sample: the slot (time as int32 milliseconds from a per-pair
// base, the metric table's values and the RTT band as float32, counts, who measured it
// as an index into a small per-pair table: 9 words) followed by its probe RTTs (float32,
// a fixed stride per pair). A kept sample of 5 probes costs 56 bytes instead of a Sample
// with its PingResult (~440 bytes); one buffer rather than two also halves what the
// allocator's size classes round away. The newest sample is also kept whole: a second
// agent's result of the same sweep folds into it, and Cell.Last is it. A sample folded
// from several agents (a PoP with two agents) keeps each agent's result packed beside
// it (agentSlot, ~60 bytes each), so History gives every sample its per-agent results
// and probes back, as float32 (7 significant digits).
type series struct {
	pair  Pair
	cell  *Cell // the current cell, rebuilt on every change (immutable once built)
	dirty bool  // changed since the last Matrix

	buf    []uint32 // cap/rec records; len = n records
	stride int      // probe words per record
	start  int      // ring position of the oldest record once full
	n      int
	keep   int

	multi  map[int][]agentSlot // ring position -> agents' results, for samples of several agents
	base   int64               // unix ms that slot times are relative to
	based  bool
	who    []ident
	last   Sample // the newest sample, whole; valid when n > 0
	lastNs int64  // its exact time, to fold results of the same sweep

	err    string // the newest error that kept the pair from being measured
	failed int    // failed samples in the window
	stats  [numMetrics]winStats

	// The judgement (judge.go): now after the newest sample, before as it was before it, told as
	// the events last told it (at the sample of toldNs); arrived counts the newest
	// sample's results (errors included) to know when its sweep is whole.
	now, before, told judgeState
	toldNs            int64
	arrived           int
	loss              lossRing // the answered tests' probe counts (judge.go)
}

// slot is one kept sample, unpacked (slotWords words packed).
type slot struct {
	t        int32               // ms from series.base
	v        [numMetrics]float32 // the metric table's values (raw: not NaN when failed)
	min, max float32
	who      uint16 // index into series.who; whoMany/whoUnknown otherwise
	sent     uint16
	recv     uint16
	nprobe   uint8 // probes stored (<= stride)
	failed   bool
}

const slotWords = 1 + int(numMetrics) + 2 + 2

// ident is who measured a pair: source agent, destination address and agent.
type ident struct{ src, dst, dstName string }

const (
	whoMany    = math.MaxUint16     // folded from several agents' results
	whoUnknown = math.MaxUint16 - 1 // identity table full
	maxIdents  = 256                // identities kept per pair (agents renamed, moved)
	// maxStride bounds the probes kept per sample (Scouter allows count 1..20).
	maxStride = 20
)

func newSeries(p Pair, keep, kcap int) *series {
	s := &series{pair: p, keep: keep}
	// Room for half as many again as p95 needs (winStats), all metrics in one allocation.
	c := kcap + (kcap+1)/2
	tops := make([]float32, c*len(s.stats))
	for m := range s.stats {
		s.stats[m].top = tops[m*c : m*c : (m+1)*c]
	}
	return s
}

func (s *series) rec() int { return slotWords + s.stride }

// capRecords is how many records the buffer holds.
func (s *series) capRecords() int { return cap(s.buf) / s.rec() }

func (s *series) get(p int) slot {
	w := s.buf[p*s.rec():]
	var sl slot
	sl.t = int32(w[0])
	for m := range sl.v {
		sl.v[m] = math.Float32frombits(w[1+m])
	}
	sl.min = math.Float32frombits(w[1+numMetrics])
	sl.max = math.Float32frombits(w[2+numMetrics])
	sl.who, sl.sent = uint16(w[3+numMetrics]), uint16(w[3+numMetrics]>>16)
	x := w[4+numMetrics]
	sl.recv, sl.nprobe, sl.failed = uint16(x), uint8(x>>16), x>>24 != 0
	return sl
}

func (s *series) put(p int, sl slot) {
	w := s.buf[p*s.rec():]
	w[0] = uint32(sl.t)
	for m := range sl.v {
		w[1+m] = math.Float32bits(sl.v[m])
	}
	w[1+numMetrics] = math.Float32bits(sl.min)
	w[2+numMetrics] = math.Float32bits(sl.max)
	w[3+numMetrics] = uint32(sl.who) | uint32(sl.sent)<<16
	f := uint32(0)
	if sl.failed {
		f = 1
	}
	w[4+numMetrics] = uint32(sl.recv) | uint32(sl.nprobe)<<16 | f<<24
}

// probesAt are the probe words of record p.
func (s *series) probesAt(p int) []uint32 {
	o := p*s.rec() + slotWords
	return s.buf[o : o+s.stride]
}

// pos is the ring position of the i-th oldest record.
func (s *series) pos(i int) int {
	if s.n < s.keep {
		return i
	}
	return (s.start + i) % s.keep
}

// value is metric m of a slot as Sample.Value gives it: NaN for a failed sample of a
// metric that does not count failed tests.
func (sl *slot) value(m Metric) float32 {
	if sl.failed && !m.CountsFailed() {
		return float32(math.NaN())
	}
	return sl.v[m]
}

// push adds a new newest sample.
func (s *series) push(smp Sample) {
	var p int
	if s.n < s.keep {
		if s.n == s.capRecords() {
			// Grow towards keep exactly: append's doubling would leave up to half unused.
			s.relayout(s.stride, min(s.keep, max(8, 2*s.n)))
		}
		p = s.n
		s.n++
		s.buf = s.buf[:s.n*s.rec()]
	} else {
		p = s.start
		old := s.get(p)
		s.unaccount(&old)
		s.start = (s.start + 1) % s.keep
	}
	s.write(p, smp)
	s.last, s.lastNs = smp, smp.Time.UnixNano()
}

// replaceLast replaces the newest sample (a second agent's result of the same sweep).
func (s *series) replaceLast(smp Sample) {
	p := s.pos(s.n - 1)
	old := s.get(p)
	s.unaccount(&old)
	s.write(p, smp)
	s.last = smp
}

// write packs smp at ring position p and accounts for it in the window statistics.
func (s *series) write(p int, smp Sample) {
	ms := smp.Time.UnixMilli()
	if !s.based {
		s.base, s.based = ms, true
	}
	if d := ms - s.base; d < math.MinInt32 || d > math.MaxInt32 {
		s.rebase(ms)
	}
	sl := slot{t: int32(ms - s.base), min: float32(smp.MinRTT), max: float32(smp.MaxRTT), failed: smp.Failed, who: whoMany}
	// The loss judgement reads probe counts from the slot: a folded sample's are the sums.
	if len(smp.Results) > 1 {
		var sent, recv int
		for i := range smp.Results {
			sent, recv = sent+smp.Results[i].Sent, recv+smp.Results[i].Recv
		}
		sl.sent, sl.recv = clamp16(sent), clamp16(recv)
	}
	for _, m := range Metrics {
		sl.v[m] = float32(*m.SampleRef(&smp))
	}
	delete(s.multi, p)
	switch len(smp.Results) {
	case 0:
	case 1:
		r := &smp.Results[0]
		sl.who = s.ident(r)
		sl.sent, sl.recv = clamp16(r.Sent), clamp16(r.Recv)
		if n := min(len(r.Probes), maxStride); n > s.stride {
			s.relayout(n, s.capRecords())
		}
		sl.nprobe = uint8(min(len(r.Probes), s.stride))
		pw := s.probesAt(p)
		for i := range pw {
			pw[i] = 0
			if i < int(sl.nprobe) {
				pw[i] = math.Float32bits(float32(r.Probes[i]))
			}
		}
	default:
		// Several agents: each one's result, packed, beside the folded record.
		as := make([]agentSlot, len(smp.Results))
		for i := range smp.Results {
			r := &smp.Results[i]
			a := agentSlot{who: s.ident(r), sent: clamp16(r.Sent), recv: clamp16(r.Recv),
				min: float32(r.MinRTT), max: float32(r.MaxRTT), failed: r.Failed}
			for _, m := range Metrics {
				a.v[m] = float32(m.Value(*r))
			}
			a.probes = make([]float32, min(len(r.Probes), maxStride))
			for j := range a.probes {
				a.probes[j] = float32(r.Probes[j])
			}
			as[i] = a
		}
		if s.multi == nil {
			s.multi = map[int][]agentSlot{}
		}
		s.multi[p] = as
	}
	s.put(p, sl)
	s.account(&sl)
	s.rescanIfNeeded()
}

func clamp16(v int) uint16 { return uint16(max(0, min(v, math.MaxUint16))) }

// agentSlot is one agent's result of a sample folded from several agents.
type agentSlot struct {
	who        uint16
	sent, recv uint16
	failed     bool
	v          [numMetrics]float32
	min, max   float32
	probes     []float32
}

func (s *series) result(a agentSlot, t time.Time, srcPop, dstPop string) (PingResult, bool) {
	if int(a.who) >= len(s.who) {
		return PingResult{}, false
	}
	id := s.who[a.who]
	r := PingResult{Time: t, Src: id.src, SrcPop: srcPop, Dst: id.dst, DstName: id.dstName, DstPop: dstPop,
		Sent: int(a.sent), Recv: int(a.recv), MinRTT: float64(a.min), MaxRTT: float64(a.max), Failed: a.failed}
	for _, m := range Metrics {
		*m.Ref(&r) = float64(a.v[m])
	}
	if len(a.probes) > 0 {
		r.Probes = make([]float64, len(a.probes))
		for j, v := range a.probes {
			r.Probes[j] = float64(v)
		}
	}
	return r, true
}

// rebase moves the time base next to ms (a session running longer than int32
// milliseconds, 24 days, between its oldest and newest kept sample): records too far
// behind are pinned to the oldest time that can be expressed.
func (s *series) rebase(ms int64) {
	nb := ms - math.MaxInt32/2
	for p := range s.n {
		sl := s.get(p)
		t := int64(sl.t) + s.base - nb
		sl.t = int32(max(math.MinInt32, min(math.MaxInt32, t)))
		s.put(p, sl)
	}
	s.base = nb
}

// relayout moves the records into a buffer for stride probes and records records.
func (s *series) relayout(stride, records int) {
	rec := slotWords + stride
	nb := make([]uint32, s.n*rec, records*rec)
	for p := range s.n {
		o := p * s.rec()
		copy(nb[p*rec:p*rec+slotWords], s.buf[o:o+slotWords])
		copy(nb[p*rec+slotWords:], s.buf[o+slotWords:o+s.rec()])
	}
	s.buf, s.stride = nb, stride
}

func (s *series) ident(r *PingResult) uint16 {
	id := ident{r.Src, r.Dst, r.DstName}
	for i, w := range s.who {
		if w == id {
			return uint16(i)
		}
	}
	if len(s.who) >= maxIdents {
		return whoUnknown
	}
	s.who = append(s.who, id)
	return uint16(len(s.who) - 1)
}

func (s *series) account(sl *slot) {
	if sl.failed {
		s.failed++
	}
	for _, m := range Metrics {
		s.stats[m].add(sl.value(m))
	}
}

func (s *series) unaccount(sl *slot) {
	if sl.failed {
		s.failed--
	}
	for _, m := range Metrics {
		s.stats[m].remove(sl.value(m))
	}
}

// rescanIfNeeded refills a metric's top values from the window after one of them left
// it, and recounts sums exactly once in a while so adding and subtracting cannot drift.
func (s *series) rescanIfNeeded() {
	for _, m := range Metrics {
		st := &s.stats[m]
		st.ops++
		if !st.short() && st.ops < 4*s.keep {
			continue
		}
		st.reset()
		// Straight from the words: the metric's value and the failed bit.
		rec, failedBit := s.rec(), uint32(1)<<24
		for o := 0; o < len(s.buf); o += rec {
			if s.buf[o+4+int(numMetrics)]&failedBit != 0 && !m.CountsFailed() {
				continue
			}
			st.add(math.Float32frombits(s.buf[o+1+int(m)]))
		}
		st.ops = 0
	}
}

// cellInto reduces the window into c: O(top values), no pass over the samples.
func (s *series) cellInto(c *Cell) {
	*c = EmptyCell()
	c.Err = s.err
	c.Samples = s.n
	if s.n == 0 {
		return
	}
	c.Last = s.last
	for _, m := range Metrics {
		st := &s.stats[m]
		c.Values[m][Last] = s.last.Value(m)
		c.Values[m][Mean] = st.mean()
		c.Values[m][Max] = st.percentileFromTop(0)
		c.Values[m][P95] = st.percentile(95)
		if s.n == 1 {
			// A window of one sample (snapshot's one sweep): its value is the minimum.
			// Longer windows would need the smallest values kept as the largest are.
			c.Min[m] = c.Values[m][Last]
		}
	}
	c.Failed[Last] = s.last.Failed
	for _, st := range Stats[1:] {
		c.Failed[st] = s.failed == s.n
	}
}

// samples unpacks the window, oldest first.
func (s *series) samples(srcPop, dstPop string) []Sample {
	if s.n == 0 {
		return nil
	}
	out := make([]Sample, s.n)
	for i := range s.n - 1 {
		p := s.pos(i)
		sl := s.get(p)
		smp := Sample{
			Time:   time.UnixMilli(s.base + int64(sl.t)).UTC(),
			MinRTT: float64(sl.min), MaxRTT: float64(sl.max), Failed: sl.failed,
		}
		for _, m := range Metrics {
			*m.SampleRef(&smp) = float64(sl.v[m])
		}
		if as, ok := s.multi[p]; ok {
			for _, a := range as {
				if r, ok := s.result(a, smp.Time, srcPop, dstPop); ok {
					smp.Results = append(smp.Results, r)
				}
			}
		} else {
			a := agentSlot{who: sl.who, sent: sl.sent, recv: sl.recv, failed: sl.failed, v: sl.v, min: sl.min, max: sl.max}
			if sl.nprobe > 0 {
				a.probes = make([]float32, sl.nprobe)
				for j, w := range s.probesAt(p)[:sl.nprobe] {
					a.probes[j] = math.Float32frombits(w)
				}
			}
			if r, ok := s.result(a, smp.Time, srcPop, dstPop); ok {
				smp.Results = []PingResult{r}
			}
		}
		out[i] = smp
	}
	out[s.n-1] = s.last
	return out
}
