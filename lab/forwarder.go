//go:build linux

package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Forwarder is the lab's WAN: it reads IPv4 packets from every PoP's TUN device and
// writes them to the destination PoP's TUN device after the path's one-way delay (plus
// jitter), drops the path's share of packets, and answers packets whose TTL runs out at
// an emulated router with ICMP time exceeded from that router's address.
type Forwarder struct {
	layout Layout
	tuns   []io.ReadWriteCloser
	sched  *scheduler

	mu      sync.RWMutex
	paths   [][]Path
	dirs    [][]*direction
	routers []*routerState // by layout router index
	rng     *rand.Rand     // guarded by rngMu
	rngMu   sync.Mutex
	ipID    atomic.Uint32
}

// direction holds the path-loss state and counters of one ordered PoP pair.
type direction struct {
	lossAcc   atomic.Int64 // parts per million, see drop
	Forwarded atomic.Uint64
	Dropped   atomic.Uint64
	Expired   atomic.Uint64
}

// newDirection starts the loss accumulator at a random phase: every direction of every
// lab then drops its first packet somewhere in its first 1/L packets. From one fixed
// phase, the two directions of a pair (which carry the same number of packets, requests
// one way, replies the other) dropped at the same moment in every run: the default lab's
// 0.5 % sjc-sin path lost a request and a reply in its first two tests and turned orange
// at start (2 of 10 probes), every time, where random loss of 1 % a round trip does
// that a few times in a thousand starts.
func newDirection() *direction {
	d := &direction{}
	d.lossAcc.Store(rand.Int64N(lossScale))
	return d
}

// routerState is one emulated router's loss settings (guarded by Forwarder.mu) and its
// counters. Its losses are drawn at random for every packet, as a congested link or a
// rate-limiting control plane loses them: spread evenly (every Nth packet) they would
// alias with the regular probes of a sweep, so one trace would lose every answer of a
// router and the next none, and two tools probing it at once would take turns.
type routerState struct {
	loss, icmpLoss float64
	Dropped        atomic.Uint64
	ICMPDropped    atomic.Uint64
}

// lossScale is one whole packet in the loss accumulator (parts per million).
const lossScale = 1_000_000

// NewForwarder makes a forwarder over the TUN devices of layout's PoPs (tuns[i] is
// PoP i's device) with the initial paths (paths[i][j] from PoP i to PoP j).
func NewForwarder(layout Layout, tuns []io.ReadWriteCloser, paths [][]Path) (*Forwarder, error) {
	n := len(layout.Pops)
	if len(tuns) != n || len(paths) != n {
		return nil, fmt.Errorf("forwarder: %d pops but %d TUN devices and %d path rows", n, len(tuns), len(paths))
	}
	f := &Forwarder{layout: layout, tuns: tuns, paths: paths, rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
	f.dirs = make([][]*direction, n)
	for i := range f.dirs {
		if len(paths[i]) != n {
			return nil, fmt.Errorf("forwarder: path row %d has %d entries, want %d", i, len(paths[i]), n)
		}
		f.dirs[i] = make([]*direction, n)
		for j := range f.dirs[i] {
			f.dirs[i][j] = newDirection()
		}
		for j := range paths[i] {
			if err := f.checkVia(paths[i][j].Via); err != nil {
				return nil, err
			}
		}
	}
	for range layout.Routers {
		f.routers = append(f.routers, &routerState{})
	}
	sched, err := newScheduler(tuns)
	if err != nil {
		return nil, err
	}
	f.sched = sched
	return f, nil
}

// SetRouters applies the loss settings of a config's routers (by name).
func (f *Forwarder) SetRouters(specs []RouterSpec) error {
	for _, r := range specs {
		loss, icmp := float64(r.Loss), float64(r.ICMPLoss)
		if err := f.SetRouter(r.Name, RouterUpdate{Loss: &loss, ICMPLoss: &icmp}); err != nil {
			return err
		}
	}
	return nil
}

func (f *Forwarder) checkVia(via []string) error {
	for _, v := range via {
		if f.router(v) < 0 {
			return fmt.Errorf("router %q is not in this lab", v)
		}
	}
	return nil
}

func (f *Forwarder) router(name string) int {
	return slices.IndexFunc(f.layout.Routers, func(r RouterLayout) bool { return r.Name == name })
}

// Run forwards until ctx ends or every TUN device fails, then closes the devices.
func (f *Forwarder) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(f.tuns))
	wg.Add(1)
	go func() { defer wg.Done(); f.sched.run(ctx) }()
	for i := range f.tuns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.read(ctx, i)
		}()
	}
	<-ctx.Done()
	for _, t := range f.tuns {
		t.Close()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return errors.Join(errs...)
}

func (f *Forwarder) read(ctx context.Context, src int) error {
	buf := make([]byte, 65535)
	for {
		n, err := f.tuns[src].Read(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, os.ErrClosed) {
				return nil
			}
			return fmt.Errorf("read from TUN of %s: %w", f.layout.Pops[src].Name, err)
		}
		f.handle(src, buf[:n], time.Now())
	}
}

// handle routes one packet that PoP src sent at time now.
func (f *Forwarder) handle(src int, b []byte, now time.Time) {
	p, ok := parseIPv4(b)
	if !ok {
		return // IPv6 or garbage: the lab's mesh is IPv4 only
	}
	dst := f.layout.popByMesh(p.dst())
	if dst < 0 || dst == src {
		return // routers and unknown addresses do not answer; nothing leaves the lab
	}
	f.mu.RLock()
	path := f.paths[src][dst]
	back := f.paths[dst][src].Delay
	f.mu.RUnlock()
	d := f.dirs[src][dst]

	hops := len(path.Via)
	ttl := p.ttl()
	// The packet crosses routers 1..min(ttl, hops); a lossy router loses it on the way
	// in, whether it would expire there or pass on.
	if f.lostInRouters(path.Via[:min(ttl, hops)]) {
		d.Dropped.Add(1)
		return
	}
	if ttl <= hops {
		d.Expired.Add(1)
		if p.fragOffset() != 0 || p.isICMPError() {
			return
		}
		// The answer comes back from router number ttl of hops+1 legs: that share of
		// the pair's round trip.
		r := f.router(path.Via[ttl-1])
		if r < 0 {
			return
		}
		rs := f.routers[r]
		f.mu.RLock()
		icmpLoss := rs.icmpLoss
		f.mu.RUnlock()
		if f.chance(icmpLoss) {
			rs.ICMPDropped.Add(1) // a rate-limiting router stays silent
			return
		}
		// The answer goes back the way the probe came, into every router before this
		// one: a lossy router loses answers from behind it too, as it loses the
		// destination's replies.
		if f.lostInRouters(path.Via[:ttl-1]) {
			return
		}
		rtt := (path.Delay + back) * time.Duration(ttl) / time.Duration(hops+1)
		answer := timeExceeded(p, f.layout.Routers[r].Addr, 64-(ttl-1), uint16(f.ipID.Add(1)))
		f.sched.add(now.Add(rtt), src, answer)
		return
	}
	if f.drop(d, path.Loss) {
		d.Dropped.Add(1)
		return
	}
	out := slices.Clone(p.b)
	if hops > 0 {
		ipv4Packet{b: out, hdrLen: p.hdrLen}.setTTL(p.ttl() - hops)
	}
	d.Forwarded.Add(1)
	f.sched.add(now.Add(f.delay(path)), dst, out)
}

// drop decides whether to lose a packet of a pair's own path loss (`lab set --loss`).
// Those losses are spread evenly rather than drawn at random: with loss L every packet
// adds L to an accumulator and a packet is dropped whenever it passes one whole packet.
// A short test (5 pings) then sees the configured share reliably instead of, at 10%, no
// loss at all one run in three. Routers lose at random (lostInRouters).
func (f *Forwarder) drop(d *direction, lossPct float64) bool {
	return f.dropAcc(&d.lossAcc, lossPct)
}

func (f *Forwarder) dropAcc(acc *atomic.Int64, lossPct float64) bool {
	if lossPct <= 0 {
		return false
	}
	add := int64(lossPct * lossScale / 100)
	if v := acc.Add(add); v >= lossScale {
		acc.Add(-lossScale)
		return true
	}
	return false
}

// lostInRouters draws, for each router a packet enters (by name), whether that router
// loses it, and counts the loss at the router that lost it.
func (f *Forwarder) lostInRouters(via []string) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, name := range via {
		if r := f.router(name); r >= 0 && f.chance(f.routers[r].loss) {
			f.routers[r].Dropped.Add(1)
			return true
		}
	}
	return false
}

// chance is true with probability pct percent, drawn independently for every call.
func (f *Forwarder) chance(pct float64) bool {
	switch {
	case pct <= 0:
		return false
	case pct >= 100:
		return true
	}
	f.rngMu.Lock()
	v := f.rng.Float64()
	f.rngMu.Unlock()
	return v*100 < pct
}

// RouterUpdate changes a router's loss settings; nil fields stay as they are.
type RouterUpdate struct {
	Loss     *float64 `json:"loss_pct,omitempty"`
	ICMPLoss *float64 `json:"icmp_loss_pct,omitempty"`
}

// SetRouter changes the loss settings of the named router.
func (f *Forwarder) SetRouter(name string, u RouterUpdate) error {
	r := f.router(name)
	if r < 0 {
		var names []string
		for _, rl := range f.layout.Routers {
			names = append(names, rl.Name)
		}
		return fmt.Errorf("router %q is not in lab %s (routers: %s)", name, f.layout.Name, strings.Join(names, ", "))
	}
	for _, v := range []*float64{u.Loss, u.ICMPLoss} {
		if v != nil && (*v < 0 || *v > 100) {
			return fmt.Errorf("loss %v%% is out of 0-100%%", *v)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if u.Loss != nil {
		f.routers[r].loss = *u.Loss
	}
	if u.ICMPLoss != nil {
		f.routers[r].icmpLoss = *u.ICMPLoss
	}
	return nil
}

// RouterStatus is one router's settings and counters.
type RouterStatus struct {
	Name        string  `json:"name"`
	Addr        string  `json:"addr"`
	Loss        float64 `json:"loss_pct"`
	ICMPLoss    float64 `json:"icmp_loss_pct"`
	Dropped     uint64  `json:"dropped"`
	ICMPDropped uint64  `json:"icmp_dropped"`
}

// Routers returns every router's settings and counters, in layout order.
func (f *Forwarder) Routers() []RouterStatus {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]RouterStatus, len(f.routers))
	for i, r := range f.routers {
		l := f.layout.Routers[i]
		out[i] = RouterStatus{Name: l.Name, Addr: l.Addr.String(), Loss: r.loss, ICMPLoss: r.icmpLoss,
			Dropped: r.Dropped.Load(), ICMPDropped: r.ICMPDropped.Load()}
	}
	return out
}

// delay is the path's one-way delay with uniform jitter in [-Jitter, +Jitter].
func (f *Forwarder) delay(p Path) time.Duration {
	d := p.Delay
	if p.Jitter > 0 {
		f.rngMu.Lock()
		j := time.Duration(f.rng.Int64N(int64(2*p.Jitter)+1)) - p.Jitter
		f.rngMu.Unlock()
		d += j
	}
	return max(d, 0)
}

// PathUpdate changes some fields of a path; nil fields stay as they are.
type PathUpdate struct {
	Delay  *time.Duration `json:"delay,omitempty"`
	Jitter *time.Duration `json:"jitter,omitempty"`
	Loss   *float64       `json:"loss_pct,omitempty"`
	Via    *[]string      `json:"via,omitempty"`
	// Both applies the update to the way back too (Via reversed).
	Both bool `json:"both,omitempty"`
}

// SetPath changes the path from PoP src to PoP dst (and back with u.Both).
func (f *Forwarder) SetPath(src, dst string, u PathUpdate) error {
	a, b := f.pop(src), f.pop(dst)
	switch {
	case a < 0:
		return fmt.Errorf("pop %q is not in lab %s (pops: %s)", src, f.layout.Name, f.popNames())
	case b < 0:
		return fmt.Errorf("pop %q is not in lab %s (pops: %s)", dst, f.layout.Name, f.popNames())
	case a == b:
		return fmt.Errorf("%s to %s: a path joins two different pops", src, dst)
	}
	if u.Via != nil {
		if err := f.checkVia(*u.Via); err != nil {
			return err
		}
	}
	if u.Loss != nil && (*u.Loss < 0 || *u.Loss > 100) {
		return fmt.Errorf("loss %v%% is out of 0-100%%", *u.Loss)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	apply := func(p *Path, reverse bool) {
		if u.Delay != nil {
			p.Delay = *u.Delay
		}
		if u.Jitter != nil {
			p.Jitter = *u.Jitter
		}
		if u.Loss != nil {
			p.Loss = *u.Loss
		}
		if u.Via != nil {
			p.Via = slices.Clone(*u.Via)
			if reverse {
				slices.Reverse(p.Via)
			}
		}
	}
	apply(&f.paths[a][b], false)
	if u.Both {
		apply(&f.paths[b][a], true)
	}
	return nil
}

func (f *Forwarder) pop(name string) int {
	return slices.IndexFunc(f.layout.Pops, func(p PopLayout) bool { return p.Name == name })
}

func (f *Forwarder) popNames() string {
	var s string
	for i, p := range f.layout.Pops {
		if i > 0 {
			s += ", "
		}
		s += p.Name
	}
	return s
}

// PathStatus is one direction's current path and counters.
type PathStatus struct {
	Src       string `json:"src"`
	Dst       string `json:"dst"`
	Path      Path   `json:"path"`
	Forwarded uint64 `json:"forwarded"`
	Dropped   uint64 `json:"dropped"`
	Expired   uint64 `json:"ttl_expired"`
}

// Paths returns every direction's path and counters, in PoP order.
func (f *Forwarder) Paths() []PathStatus {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []PathStatus
	for i, row := range f.paths {
		for j, p := range row {
			if i == j {
				continue
			}
			d := f.dirs[i][j]
			p.Via = slices.Clone(p.Via)
			out = append(out, PathStatus{
				Src: f.layout.Pops[i].Name, Dst: f.layout.Pops[j].Name, Path: p,
				Forwarded: d.Forwarded.Load(), Dropped: d.Dropped.Load(), Expired: d.Expired.Load(),
			})
		}
	}
	return out
}

// Lateness says how late the forwarder released packets against their due time.
func (f *Forwarder) Lateness() Lateness { return f.sched.late.summary() }

// RouterAddr is the address of the named router (for tests and status).
func (f *Forwarder) RouterAddr(name string) (netip.Addr, bool) {
	r := f.router(name)
	if r < 0 {
		return netip.Addr{}, false
	}
	return f.layout.Routers[r].Addr, true
}
