package dnsdisc

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/probe/agent"
	"github.com/meshtop/meshtop/probe/scoutertest"
)

const secret = "dns-test-secret"

// fakeDNS answers like a zone the test edits.
type fakeDNS struct {
	mu  sync.Mutex
	a   map[string][]netip.Addr
	srv map[string][]*net.SRV
	ptr map[string][]string
}

func (f *fakeDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if as, ok := f.a[host]; ok {
		return as, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (f *fakeDNS) LookupSRV(_ context.Context, _, _, name string) (string, []*net.SRV, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.srv[name]; ok {
		return name, s, nil
	}
	return "", nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (f *fakeDNS) LookupAddr(_ context.Context, addr string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n, ok := f.ptr[addr]; ok {
		return n, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: addr, IsNotFound: true}
}

// meshtopAgent serves a real meshtop agent's API (pop and labels in /status).
func meshtopAgent(t *testing.T, pop string, labels map[string]string) (host string, port int) {
	t.Helper()
	a, err := agent.New(agent.Config{Secret: secret, Pop: pop, Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(a)
	t.Cleanup(func() { ts.Close(); _ = a.Close() })
	return hostPort(t, ts.URL)
}

func hostPort(t *testing.T, raw string) (string, int) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(u.Port())
	return u.Hostname(), p
}

type notices struct {
	mu   sync.Mutex
	msgs []string
}

func (n *notices) add(err error) { n.mu.Lock(); n.msgs = append(n.msgs, err.Error()); n.mu.Unlock() }
func (n *notices) all() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.msgs...)
}

func byPop(as []mesh.Agent) map[string]mesh.Agent {
	m := map[string]mesh.Agent{}
	for _, a := range as {
		m[a.Pop] = a
	}
	return m
}

// SRV records give host and port; each agent's PoP and labels come from its /status;
// an upstream agent (no pop in /status) is placed by its SRV target, said once.
func TestSRVDiscovery(t *testing.T) {
	_, p1 := meshtopAgent(t, "fra1", map[string]string{"region": "eu"})
	_, p2 := meshtopAgent(t, "sjc1", nil)
	up := scoutertest.New(scoutertest.Config{Secret: secret})
	t.Cleanup(up.Close)
	_, p3 := hostPort(t, up.URL)
	dns := &fakeDNS{
		srv: map[string][]*net.SRV{"_scouter._tcp.mesh.test": {
			{Target: "a1.mesh.test.", Port: uint16(p1)}, {Target: "a2.mesh.test.", Port: uint16(p2)}, {Target: "ams-up.mesh.test.", Port: uint16(p3)},
		}},
		a: map[string][]netip.Addr{
			"a1.mesh.test": {netip.MustParseAddr("127.0.0.1")}, "a2.mesh.test": {netip.MustParseAddr("127.0.0.1")},
			"ams-up.mesh.test": {netip.MustParseAddr("127.0.0.1")},
		},
	}
	tg, err := Parse("dnssrv://_scouter._tcp.mesh.test", 8000)
	if err != nil {
		t.Fatal(err)
	}
	var n notices
	d := &Discoverer{Target: tg, Resolver: dns, Secret: secret, Report: n.add}
	for range 2 {
		as, err := d.Agents(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		m := byPop(as)
		if len(as) != 3 || m["fra1"].Labels["region"] != "eu" || m["sjc1"].Name != "a2" || m["ams-up"].Name != "ams-up" {
			t.Fatalf("agents %+v", as)
		}
		if m["fra1"].URL != fmt.Sprintf("http://127.0.0.1:%d", p1) || m["fra1"].Address != "127.0.0.1" {
			t.Fatalf("fra1 at %s (%s)", m["fra1"].URL, m["fra1"].Address)
		}
	}
	got := n.all()
	if len(got) != 1 || !strings.Contains(got[0], "says no PoP") || !strings.Contains(got[0], `"ams-up" from its SRV target`) {
		t.Fatalf("notices %q, want one about ams-up", got)
	}
}

// dns://NAME:PORT: every address is an agent on PORT; agents come and go with the
// records; an empty answer is an error (the loop keeps the last good list).
func TestADiscoveryFollowsRecords(t *testing.T) {
	// Three loopback addresses, one port: as agents in a mesh share --scouter-port.
	port := 0
	var hosts []string
	for try := 0; try < 20 && len(hosts) < 3; try++ {
		hosts = hosts[:0]
		l, err := net.Listen("tcp", "127.0.0.2:0")
		if err != nil {
			t.Skip("no 127.0.0.2 here")
		}
		_, port = hostPort(t, "http://"+l.Addr().String())
		l.Close()
		for i, pop := range []string{"pa", "pb", ""} {
			a, err := agent.New(agent.Config{Secret: secret, Pop: pop})
			if err != nil {
				t.Fatal(err)
			}
			ip := fmt.Sprintf("127.0.0.%d", i+2)
			l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
			if err != nil {
				a.Close()
				break
			}
			srv := &http.Server{Handler: a, ReadHeaderTimeout: time.Second}
			go func() { _ = srv.Serve(l) }()
			t.Cleanup(func() { srv.Close(); _ = a.Close() })
			hosts = append(hosts, ip)
		}
	}
	if len(hosts) < 3 {
		t.Fatal("no port free on 127.0.0.2-4")
	}
	ip := func(s ...string) []netip.Addr {
		var out []netip.Addr
		for _, x := range s {
			out = append(out, netip.MustParseAddr(x))
		}
		return out
	}
	dns := &fakeDNS{
		a:   map[string][]netip.Addr{"agents.mesh.test": ip("127.0.0.2", "127.0.0.3")},
		ptr: map[string][]string{"127.0.0.4": {"ber-1.hosts.test."}},
	}
	tg, err := Parse(fmt.Sprintf("dns://agents.mesh.test.:%d", port), 8000)
	if err != nil {
		t.Fatal(err)
	}
	var n notices
	d := &Discoverer{Target: tg, Resolver: dns, Secret: secret, Report: n.add}
	as, err := d.Agents(context.Background())
	if err != nil || len(as) != 2 || as[0].Pop != "pa" || as[1].Pop != "pb" || as[0].Name != "127.0.0.2" {
		t.Fatalf("agents %+v, %v", as, err)
	}
	// A third record: the agent without a PoP is placed by its reverse name.
	dns.mu.Lock()
	dns.a["agents.mesh.test"] = ip("127.0.0.2", "127.0.0.3", "127.0.0.4")
	dns.mu.Unlock()
	as, err = d.Agents(context.Background())
	if err != nil || len(as) != 3 || byPop(as)["ber-1"].URL != fmt.Sprintf("http://127.0.0.4:%d", port) {
		t.Fatalf("after adding a record: %+v, %v", as, err)
	}
	if got := n.all(); len(got) != 1 || !strings.Contains(got[0], `"ber-1" from its reverse DNS name`) {
		t.Fatalf("notices %q", got)
	}
	// One leaves.
	dns.mu.Lock()
	dns.a["agents.mesh.test"] = ip("127.0.0.3", "127.0.0.4")
	dns.mu.Unlock()
	if as, err = d.Agents(context.Background()); err != nil || len(as) != 2 || byPop(as)["pa"].URL != "" {
		t.Fatalf("after removing a record: %+v, %v", as, err)
	}
	// The name is gone: an error, never an empty mesh.
	dns.mu.Lock()
	delete(dns.a, "agents.mesh.test")
	dns.mu.Unlock()
	if as, err = d.Agents(context.Background()); err == nil || !strings.Contains(err.Error(), "no such name") {
		t.Fatalf("after removing the name: %+v, %v", as, err)
	}
}

// An agent that says something impossible, or cannot be read, is placed by its SRV
// target, and the notice says why; a hostile string never reaches the notice raw.
func TestHostileOrDeadAgents(t *testing.T) {
	hostile := scoutertest.New(scoutertest.Config{Secret: secret, Raw: func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == probe.PathStatus {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"pop":"EVIL\u001b[2J","labels":{"a":"b"}}`))
			return true
		}
		return false
	}})
	t.Cleanup(hostile.Close)
	_, hp := hostPort(t, hostile.URL)
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	_, dp := hostPort(t, "http://"+dead.Addr().String())
	dead.Close()
	dns := &fakeDNS{
		srv: map[string][]*net.SRV{"_scouter._tcp.x.test": {{Target: "h.x.test.", Port: uint16(hp)}, {Target: "127-0-0-1.x.test.", Port: uint16(dp)}}},
		a:   map[string][]netip.Addr{"h.x.test": {netip.MustParseAddr("127.0.0.1")}, "127-0-0-1.x.test": {netip.MustParseAddr("127.0.0.1")}},
	}
	tg, _ := Parse("dnssrv://_scouter._tcp.x.test", 8000)
	var n notices
	d := &Discoverer{Target: tg, Resolver: dns, Secret: secret, Report: n.add, StatusTimeout: 2 * time.Second}
	as, err := d.Agents(context.Background())
	if err != nil || len(as) != 2 {
		t.Fatalf("agents %+v, %v", as, err)
	}
	for _, a := range as {
		if a.Labels != nil || strings.ContainsAny(a.Pop, "\x1bEVIL") {
			t.Errorf("agent %+v took what a bad /status said", a)
		}
	}
	got := strings.Join(n.all(), "\n")
	if strings.Contains(got, "\x1b") || !strings.Contains(got, `PoP "EVIL[2J": want 1-63`) || !strings.Contains(got, "gave no usable /status") {
		t.Fatalf("notices %q", got)
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"dns://agents.example.net", "dns://agents.example.net:8000", ""},
		{"dns://agents.example.net:9000", "dns://agents.example.net:9000", ""},
		{"dns://agents.example.net.", "dns://agents.example.net:8000", ""},
		{"dnssrv://_scouter._tcp.example.net", "dnssrv://_scouter._tcp.example.net", ""},
		{"dns://agents.example.net:0", "", "want 1-65535"},
		{"dns://agents.example.net:http", "", "want 1-65535"},
		{"dnssrv://example.net", "", "SRV name"},
		{"dns://", "", "no name"},
		{"dns://a..b", "", "not a DNS name"},
		{"dns://a b", "", "not a DNS name"},
		{"http://x", "", "want dns://"},
		{"agents.example.net", "", "want dns://"},
	} {
		got, err := Parse(tc.in, 8000)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, want error %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got.String() != tc.want {
			t.Errorf("%q: %v %v, want %s", tc.in, got, err, tc.want)
		}
	}
}
