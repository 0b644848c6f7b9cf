//go:build linux

package lab

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	good := `
name: t1
pops:
  - a
  - {name: b, asn: 65001, org: "B Org"}
  - c
routers:
  - {name: r1, asn: 64700}
default: {rtt: 100ms, jitter: 1ms, loss: 1%}
links:
  - {pops: [a, b], rtt: 20ms, loss: "5%", via: [r1]}
  - {pops: [b, c], delay: 30ms, oneway: true}
`
	c, err := ParseConfig([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.Pops[0].ASN != 64601 || c.Pops[1].ASN != 65001 || c.Pops[2].ASN != 64603 {
		t.Errorf("ASNs %d %d %d, want defaults around an explicit one", c.Pops[0].ASN, c.Pops[1].ASN, c.Pops[2].ASN)
	}
	p := c.Paths()
	ms := time.Millisecond
	for _, tc := range []struct {
		i, j  int
		delay time.Duration
		loss  float64
		via   string
	}{
		{0, 1, 10 * ms, 5, "r1"},
		{1, 0, 10 * ms, 5, "r1"},
		{1, 2, 30 * ms, 0, ""},
		{2, 1, 50 * ms, 1, ""}, // oneway: the way back keeps the default
		{0, 2, 50 * ms, 1, ""},
	} {
		got := p[tc.i][tc.j]
		if got.Delay != tc.delay || got.Loss != tc.loss || strings.Join(got.Via, ",") != tc.via {
			t.Errorf("path %d->%d = %+v, want delay %v loss %v via %q", tc.i, tc.j, got, tc.delay, tc.loss, tc.via)
		}
	}

	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown key", "pops: [a, b]\nbogus: 1\n", "field bogus not found"},
		{"one pop", "pops: [a]\n", "at least 2 pops"},
		{"bad lab name", "name: Demo-Lab\npops: [a, b]\n", `lab name "Demo-Lab"`},
		{"bad pop name", "pops: [a, B_1]\n", `pop "B_1"`},
		{"duplicate pop", "pops: [a, a]\n", "listed twice"},
		{"unknown pop in link", "pops: [a, b]\nlinks: [{pops: [a, x], rtt: 1ms}]\n", `"x" is not a pop`},
		{"unknown router", "pops: [a, b]\nlinks: [{pops: [a, b], via: [r9]}]\n", `via "r9" is not a router`},
		{"rtt and delay", "pops: [a, b]\nlinks: [{pops: [a, b], rtt: 1ms, delay: 1ms}]\n", "rtt or delay, not both"},
		{"bad duration", "pops: [a, b]\nlinks: [{pops: [a, b], rtt: fast}]\n", `duration "fast"`},
		{"bad loss", "pops: [a, b]\nlinks: [{pops: [a, b], loss: 150%}]\n", "want a percentage"},
		{"router without asn", "pops: [a, b]\nrouters: [{name: r1}]\n", "has no asn"},
		{"link of three", "pops: [a, b, c]\nlinks: [{pops: [a, b, c]}]\n", "exactly two pops"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

func TestExampleConfigParses(t *testing.T) {
	c, err := ParseConfig([]byte(ExampleConfig))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Paths()
	if got := p[0][2]; got.Delay != 38*time.Millisecond || strings.Join(got.Via, ",") != "atl" {
		t.Errorf("ams->nyc = %+v", got)
	}
	if got := p[1][2].Delay; got != 40*time.Millisecond {
		t.Errorf("fra->nyc delay %v, want 40ms", got)
	}
	if got := p[2][1].Delay; got != 50*time.Millisecond {
		t.Errorf("nyc->fra delay %v, want the default 50ms (oneway link)", got)
	}
}

func TestDefaultConfigIsValid(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	p := c.Paths()
	// Every pair of the default lab is configured explicitly, symmetric, and realistic
	// (no zero delays).
	for i := range p {
		for j := range p[i] {
			if i != j && (p[i][j].Delay <= 0 || p[i][j].Delay != p[j][i].Delay) {
				t.Errorf("%s->%s delay %v, back %v", c.Pops[i].Name, c.Pops[j].Name, p[i][j].Delay, p[j][i].Delay)
			}
		}
	}
	if len(c.Links) != len(c.Pops)*(len(c.Pops)-1)/2 {
		t.Errorf("%d links for %d pops: some pairs fall back to the default", len(c.Links), len(c.Pops))
	}
}

func TestLayout(t *testing.T) {
	c := Config{Name: "x", Pops: []PopConfig{{Name: "a"}, {Name: "b"}}, Routers: []RouterSpec{{Name: "r1", ASN: 1}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	l, err := NewLayout(c, 3)
	if err != nil {
		t.Fatal(err)
	}
	b := l.Pops[1]
	for _, tc := range []struct{ got, want string }{
		{b.Netns, "mt-x-b"},
		{b.HostIf, "mt-x-v2"},
		{b.HostAddr.String(), "198.19.3.5"},
		{b.APIAddr.String(), "198.19.3.6"},
		{b.MeshAddr.String(), "198.18.7.2"},
		{b.URL, "http://198.19.3.6:8000"},
		{l.Routers[0].Addr.String(), "198.18.8.1"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
	}
	if i := l.popByMesh(netip.MustParseAddr("198.18.7.2")); i != 1 {
		t.Errorf("popByMesh(198.18.7.2) = %d, want 1", i)
	}
	for _, a := range []string{"198.18.7.3", "198.18.8.1", "10.0.0.1", "198.18.7.0"} {
		if i := l.popByMesh(netip.MustParseAddr(a)); i != -1 {
			t.Errorf("popByMesh(%s) = %d, want -1", a, i)
		}
	}
	// Interface names fit IFNAMSIZ with the longest lab name and the most pops.
	long := Config{Name: "abcdefgh"}
	for i := range maxPops {
		long.Pops = append(long.Pops, PopConfig{Name: string(rune('a'+i%26)) + string(rune('a'+i/26))})
	}
	ll, err := NewLayout(long, maxSlot)
	if err != nil {
		t.Fatal(err)
	}
	if n := ll.Pops[maxPops-1].HostIf; len(n) > 15 {
		t.Errorf("interface name %q is longer than 15 bytes", n)
	}
	if _, err := NewLayout(c, maxSlot+1); err == nil {
		t.Error("slot beyond the range accepted")
	}
}

func TestPickSlot(t *testing.T) {
	use := func(prefixes ...string) rootUse {
		var u rootUse
		for _, p := range prefixes {
			u.what = append(u.what, "route "+p)
			u.prefix = append(u.prefix, netip.MustParsePrefix(p))
		}
		return u
	}
	for _, tc := range []struct {
		name  string
		use   rootUse
		taken map[int]bool
		want  int
		err   string
	}{
		{"clean machine", use("10.0.0.0/8", "192.0.2.0/24"), nil, 0, ""},
		{"api net of slot 0 in use", use("198.19.0.4/30"), nil, 1, ""},
		{"mesh net of slot 0 routed", use("198.18.1.0/24"), nil, 1, ""},
		{"slot taken by another lab", use(), map[int]bool{0: true, 1: true}, 2, ""},
		{"whole range routed", use("198.18.0.0/15"), nil, 0, "overlaps route 198.18.0.0/15"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pickSlot(tc.use, tc.taken)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("pickSlot = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

func TestScenarioConfig(t *testing.T) {
	base := "pops: [a, b]\nrouters: [{name: r1, asn: 64700, loss: 5%, icmp_loss: 50%}]\n"
	c, err := ParseConfig([]byte(base + `scenario:
  every: 2m
  events:
    - {at: 30s, pops: [a, b], rtt: 1.5s, via: [r1], note: slow}
    - {at: 1m, router: r1, icmp_loss: 0%}
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Routers[0].Loss != 5 || c.Routers[0].ICMPLoss != 50 {
		t.Errorf("router %+v", c.Routers[0])
	}
	e := c.Scenario.Events[0]
	u := e.pathUpdate()
	if *u.Delay != 750*time.Millisecond || strings.Join(*u.Via, ",") != "r1" || !u.Both || u.Loss != nil {
		t.Errorf("path update of %+v = %+v", e, u)
	}
	if r := c.Scenario.Events[1].routerUpdate(); r.Loss != nil || *r.ICMPLoss != 0 {
		t.Errorf("router update %+v", r)
	}
	for _, tc := range []struct{ events, want string }{
		{"- {at: 3m, pops: [a, b], loss: 1%}", "at must be before every"},
		{"- {at: 1s, pops: [a, zz], loss: 1%}", `"zz" is not a pop`},
		{"- {at: 1s, pops: [a, b]}", "nothing to change"},
		{"- {at: 1s, router: r9, loss: 1%}", `router "r9" is not a router`},
		{"- {at: 1s, router: r1, rtt: 1s}", "sets loss and icmp_loss only"},
		{"- {at: 1s, pops: [a, b], router: r1, loss: 1%}", "pops or router, not both"},
		{"- {at: 1s, pops: [a, b], icmp_loss: 1%}", "icmp_loss belongs to a router"},
		{"- {at: 1s, pops: [a, b], via: [r7]}", `via "r7"`},
		{"- {at: 1s, pops: [a, b], loss: 120%}", "loss"},
	} {
		_, err := ParseConfig([]byte(base + "scenario:\n  every: 2m\n  events:\n    " + tc.events + "\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want it to say %q", tc.events, err, tc.want)
		}
	}
}
