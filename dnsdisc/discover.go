package dnsdisc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/meshtop/meshtop/internal/textsafe"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
)

// Resolver is the part of *net.Resolver discovery uses (tests give their own).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// Bounds.
const (
	// MaxAgents bounds one answer: a name with more records than this is not a mesh
	// of agents (and each costs a /status read).
	MaxAgents = 2048
	// statusParallel bounds the /status reads in flight.
	statusParallel = 16
	// DefaultStatusTimeout bounds one agent's /status read (and reverse lookup).
	DefaultStatusTimeout = 5 * time.Second
	// refreshAfter is how old what an agent said may get before it is asked again;
	// agents not seen before, and those that did not answer, are asked every time.
	refreshAfter = 10 * time.Minute
)

// Discoverer resolves a Target into agents. Agents may be called concurrently with
// itself only by mistake: it serialises.
type Discoverer struct {
	Target   Target
	Resolver Resolver     // nil: net.DefaultResolver
	Secret   string       // the agents' shared secret, for /status
	HTTP     *http.Client // nil: probe.DefaultHTTPClient
	// StatusTimeout bounds each agent's /status read; 0 is DefaultStatusTimeout.
	StatusTimeout time.Duration
	// Report receives notices that are not failures (an agent placed by its reverse
	// DNS name or address), each once. Nil: dropped.
	Report func(error)
	// Now is the clock of refreshes; nil is time.Now.
	Now func() time.Time

	mu    sync.Mutex
	known map[string]*seen // by URL
}

// seen is what is known of one agent's URL.
type seen struct {
	desc     probe.Describe
	said     bool      // desc came from its /status
	asked    time.Time // last /status answer
	rdns     string    // first label of its reverse name, "" when none
	rdnsDone bool
	// statusErr is why its /status gave nothing usable, "" when it did.
	statusErr string
	told      string // the notice last reported for it
}

// endpoint is one agent as DNS gives it.
type endpoint struct {
	addr netip.Addr
	port int
	host string // SRV target (no trailing dot), "" for A/AAAA
}

func (e endpoint) url() string {
	return "http://" + net.JoinHostPort(e.addr.String(), strconv.Itoa(e.port))
}

// Agents resolves the target and reads each agent's /status. An answer without
// records is an error (the caller keeps what it had), as is a failed lookup.
func (d *Discoverer) Agents(ctx context.Context) ([]mesh.Agent, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.known == nil {
		d.known = map[string]*seen{}
	}
	eps, err := d.resolve(ctx)
	if err != nil {
		return nil, err
	}
	if len(eps) == 0 {
		return nil, fmt.Errorf("%s: no agents in DNS (no records)", d.Target)
	}
	d.describe(ctx, eps)
	agents := make([]mesh.Agent, 0, len(eps))
	names := map[string]int{}
	for _, e := range eps {
		s := d.known[e.url()]
		a := mesh.Agent{Name: d.name(e, s), Address: e.addr.String(), URL: e.url(), Pop: s.desc.Pop, Labels: s.desc.Labels}
		if a.Pop == "" {
			a.Pop = cmp.Or(s.rdns, strings.ToLower(e.addr.String()))
			d.tell(s, e, a.Pop)
		}
		names[a.Name]++
		agents = append(agents, a)
	}
	// Names must be unique (they become src_slug): a shared one gets the address.
	for i := range agents {
		if names[agents[i].Name] > 1 {
			agents[i].Name += "-" + agents[i].Address
		}
	}
	// Forget agents gone from DNS.
	live := map[string]bool{}
	for _, e := range eps {
		live[e.url()] = true
	}
	for u := range d.known {
		if !live[u] {
			delete(d.known, u)
		}
	}
	slices.SortFunc(agents, func(a, b mesh.Agent) int { return cmp.Or(cmp.Compare(a.Pop, b.Pop), cmp.Compare(a.Name, b.Name)) })
	return agents, nil
}

// resolve turns the target into endpoints, sorted and without duplicates.
func (d *Discoverer) resolve(ctx context.Context) ([]endpoint, error) {
	r := d.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	var eps []endpoint
	switch d.Target.Scheme {
	case SchemeA:
		addrs, err := r.LookupNetIP(ctx, "ip", d.Target.Name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.Target, lookupErr(err))
		}
		for _, a := range addrs {
			eps = append(eps, endpoint{addr: a.Unmap(), port: d.Target.Port})
		}
	case SchemeSRV:
		_, srvs, err := r.LookupSRV(ctx, "", "", d.Target.Name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.Target, lookupErr(err))
		}
		if len(srvs) > MaxAgents {
			return nil, fmt.Errorf("%s: %d SRV records, at most %d", d.Target, len(srvs), MaxAgents)
		}
		var failed []string
		for _, s := range srvs {
			host := strings.TrimSuffix(s.Target, ".")
			if host == "" || s.Port == 0 {
				continue // "." means no such service here (RFC 2782)
			}
			addrs, err := r.LookupNetIP(ctx, "ip", host)
			if err != nil {
				failed = append(failed, textsafe.Name(host)+": "+lookupErr(err).Error())
				continue
			}
			for _, a := range addrs {
				eps = append(eps, endpoint{addr: a.Unmap(), port: int(s.Port), host: host})
			}
		}
		if len(eps) == 0 && len(failed) > 0 {
			return nil, fmt.Errorf("%s: no SRV target resolves: %s", d.Target, strings.Join(failed[:min(len(failed), 3)], "; "))
		}
		if len(failed) > 0 && d.Report != nil {
			d.Report(fmt.Errorf("%s: %d SRV targets do not resolve (skipped): %s", d.Target, len(failed), strings.Join(failed[:min(len(failed), 3)], "; ")))
		}
	default:
		return nil, fmt.Errorf("discovery %q: unknown scheme", d.Target.Scheme)
	}
	if len(eps) > MaxAgents {
		return nil, fmt.Errorf("%s: %d agents, at most %d", d.Target, len(eps), MaxAgents)
	}
	slices.SortFunc(eps, func(a, b endpoint) int { return cmp.Or(a.addr.Compare(b.addr), cmp.Compare(a.port, b.port)) })
	eps = slices.CompactFunc(eps, func(a, b endpoint) bool { return a.addr == b.addr && a.port == b.port })
	return eps, nil
}

// lookupErr keeps a resolver's error short and clean ("no such host", "timeout").
func lookupErr(err error) error {
	var de *net.DNSError
	if errors.As(err, &de) {
		switch {
		case de.IsNotFound:
			return errors.New("no such name (NXDOMAIN or no records)")
		case de.IsTimeout:
			return errors.New("DNS timeout")
		}
		return errors.New(textsafe.Message(de.Err))
	}
	return errors.New(textsafe.Message(err.Error()))
}

// describe reads /status (and the reverse name) of every endpoint that needs it.
func (d *Discoverer) describe(ctx context.Context, eps []endpoint) {
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	timeout := cmp.Or(d.StatusTimeout, DefaultStatusTimeout)
	hc := d.HTTP
	if hc == nil {
		hc = probe.DefaultHTTPClient()
	}
	r := d.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	sem := make(chan struct{}, statusParallel)
	var wg sync.WaitGroup
	var mu sync.Mutex // guards d.known's entries while the reads run
	for _, e := range eps {
		u := e.url()
		s := d.known[u]
		if s == nil {
			s = &seen{}
			d.known[u] = s
		}
		if s.said && now().Sub(s.asked) < refreshAfter {
			continue
		}
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			sctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			c := probe.Client{Agent: mesh.Agent{Name: e.addr.String(), URL: u}, Secret: d.Secret, HTTP: hc}
			raw, err := c.Status(sctx)
			var desc probe.Describe
			if err == nil {
				desc, err = probe.DecodeDescribe(raw)
			}
			rdns := ""
			if e.host != "" {
				rdns = firstLabel(e.host)
			} else if !s.rdnsDone {
				if names, lerr := r.LookupAddr(sctx, e.addr.String()); lerr == nil && len(names) > 0 {
					rdns = firstLabel(names[0])
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if e.host != "" || !s.rdnsDone {
				s.rdns, s.rdnsDone = rdns, true
			}
			if err != nil {
				// Keep what it said before, if anything: a busy agent keeps its PoP.
				if !s.said {
					s.desc, s.statusErr = probe.Describe{}, textsafe.Message(err.Error())
				}
				return
			}
			s.desc, s.said, s.asked, s.statusErr = desc, true, now(), ""
		})
	}
	wg.Wait()
}

// tell says once why an agent is placed by its reverse name or address.
func (d *Discoverer) tell(s *seen, e endpoint, pop string) {
	why := "says no PoP in /status (upstream Scouter, or meshtop agent without --pop)"
	if s.statusErr != "" {
		why = "gave no usable /status (" + s.statusErr + ")"
	}
	from := "its address"
	if s.rdns != "" && pop == s.rdns {
		from = "its reverse DNS name"
		if e.host != "" {
			from = "its SRV target"
		}
	}
	msg := fmt.Sprintf("agent %s (%s) %s: shown as PoP %q from %s", e.url(), d.Target, why, pop, from)
	if s.told == msg {
		return
	}
	s.told = msg
	if d.Report != nil {
		d.Report(errors.New(msg))
	}
}

// name is an agent's name: its SRV target's or reverse name's first label, else its
// address.
func (d *Discoverer) name(e endpoint, s *seen) string {
	if e.host != "" {
		return firstLabel(e.host)
	}
	return cmp.Or(s.rdns, e.addr.String())
}

// firstLabel is the first label of a host name, lower case and clean, "" when it is
// not a usable PoP code.
func firstLabel(host string) string {
	l, _, _ := strings.Cut(strings.TrimSuffix(host, "."), ".")
	l = strings.ToLower(l)
	if probe.CheckPop(l) != "" {
		return ""
	}
	return l
}
