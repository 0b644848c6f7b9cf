package agent

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
)

func TestParseAllow(t *testing.T) {
	got, err := ParseAllow([]string{"198.18.0.0/15", "10.1.2.3, 2001:db8::/32", "10.9.9.9/8"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"198.18.0.0/15", "10.1.2.3/32", "2001:db8::/32", "10.0.0.0/8"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("prefix %d = %s, want %s", i, got[i], want[i])
		}
	}
	if _, err := ParseAllow([]string{"10.0.0.0/33"}); err == nil || !strings.Contains(err.Error(), "--allow") {
		t.Errorf("bad CIDR: %v", err)
	}
}

func TestResolveDstChecksAllowlistAfterResolution(t *testing.T) {
	// No DNS server in tests: names come from /etc/hosts or fail at once.
	noDNS := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no DNS in tests")
	}}
	a := &Agent{cfg: Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Resolver: noDNS}.withDefaults()}
	for _, c := range []struct {
		dst  any
		ok   bool
		want string
	}{
		{"127.0.0.9", true, ""},
		{"localhost", true, ""}, // a name is resolved, then checked
		{"::1", false, "is not allowed"},
		{"10.0.0.1", false, "Provided 'dst' of '10.0.0.1' is not allowed by this agent's --allow list."},
		{"", false, "empty"},
		{5, false, "Provided 'dst' of '5' must be a string."},
		{"no-such-host.invalid", false, "Unable to resolve provided 'dst' of 'no-such-host.invalid'"},
	} {
		addr, msg := a.resolveDst(context.Background(), c.dst)
		if c.ok != (msg == "") || !strings.Contains(msg, c.want) || (c.ok && !addr.IsValid()) {
			t.Errorf("resolveDst(%v) = %v, %q; want ok=%v message containing %q", c.dst, addr, msg, c.ok, c.want)
		}
	}
	open := &Agent{cfg: Config{}.withDefaults()}
	if _, msg := open.resolveDst(context.Background(), "10.0.0.1"); msg != "" {
		t.Errorf("no allowlist refused 10.0.0.1: %s", msg)
	}
}
