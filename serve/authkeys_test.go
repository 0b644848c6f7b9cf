package serve

import (
	"net"
	"strings"
	"testing"
	"time"
)

// TestAuthorizedKeysOptions: issue 23 item 7. from=, expiry-time=, restrict/no-pty
// mean what they mean to sshd; a line with an option serve cannot honour admits
// nobody; a cert-authority key is never a user key.
func TestAuthorizedKeysOptions(t *testing.T) {
	dir := t.TempDir()
	k := newKey(t)
	key := authLine(k)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	from := func(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 50000} }
	for _, tt := range []struct {
		name   string
		line   string
		remote string
		ok     bool
		noPty  bool
		why    string
	}{
		{"plain", key, "127.0.0.1", true, false, ""},
		{"from cidr admits", `from="10.0.0.0/8" ` + key, "10.1.2.3", true, false, ""},
		{"from cidr refuses", `from="10.0.0.0/8" ` + key, "127.0.0.1", false, false, `127.0.0.1 is not in from="10.0.0.0/8"`},
		{"from wildcard", `from="127.0.0.*,192.0.2.1" ` + key, "127.0.0.1", true, false, ""},
		{"from negated", `from="127.*,!127.0.0.1" ` + key, "127.0.0.1", false, false, "is not in from="},
		{"from ipv6", `from="::1" ` + key, "::1", true, false, ""},
		{"hostname patterns never match without DNS", `from="*.example.net" ` + key, "127.0.0.1", false, false, "is not in from="},
		{"not yet expired", `expiry-time="20260302" ` + key, "127.0.0.1", true, false, ""},
		{"expired UTC", `expiry-time="202603011159Z" ` + key, "127.0.0.1", false, false, "expired at 2026-03-01T11:59:00Z"},
		{"bad expiry", `expiry-time="tomorrow" ` + key, "127.0.0.1", false, false, "want YYYYMMDD"},
		{"restrict", `restrict ` + key, "127.0.0.1", true, true, ""},
		{"no-pty", `no-pty,no-port-forwarding ` + key, "127.0.0.1", true, true, ""},
		{"restrict then pty", `restrict,pty ` + key, "127.0.0.1", true, false, ""},
		{"forwarding options hold trivially", `no-agent-forwarding,permitopen="a:1",environment="A=b" ` + key, "127.0.0.1", true, false, ""},
		{"command", `command="/bin/true" ` + key, "127.0.0.1", false, false, "command=: a forced command"},
		{"cert-authority", `cert-authority ` + key, "127.0.0.1", false, false, "cert-authority: this key signs certificates"},
		{"verify-required", `verify-required ` + key, "127.0.0.1", false, false, "verify-required"},
		{"unknown option", `frobnicate ` + key, "127.0.0.1", false, false, `unknown option "frobnicate"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := Access{AuthorizedKeys: write(t, dir, "keys", "# x\n"+tt.line+"\n")}
			g, ok, why, err := a.Authorize(k, from(tt.remote), now)
			if err != nil || ok != tt.ok || g.NoPty != tt.noPty || !strings.Contains(why, tt.why) {
				t.Fatalf("ok %v noPty %v why %q err %v; want ok %v noPty %v why %q", ok, g.NoPty, why, err, tt.ok, tt.noPty, tt.why)
			}
			if !ok && !strings.Contains(why, "keys:2") {
				t.Errorf("reason %q does not name FILE:LINE", why)
			}
		})
	}
}

func TestAuthorizedKeysFirstAdmittingLineDecides(t *testing.T) {
	dir := t.TempDir()
	k := newKey(t)
	keys := write(t, dir, "keys", `from="10.0.0.0/8" `+authLine(k)+"\n"+`restrict `+authLine(k)+"\n")
	a := Access{AuthorizedKeys: keys}
	g, ok, _, err := a.Authorize(k, loopback, time.Now())
	if err != nil || !ok || !g.NoPty || !strings.HasSuffix(g.Line, "keys:2") {
		t.Fatalf("grant %+v ok %v err %v; want line 2 (restrict)", g, ok, err)
	}
	// Lint names the lines that admit nobody, for the log at start.
	other := newKey(t)
	a.AuthorizedKeys = write(t, dir, "keys2", authLine(other)+"\ncert-authority "+authLine(k)+"\ncommand=\"x\" "+authLine(k)+"\n")
	lint := strings.Join(a.Lint(), "\n")
	if !strings.Contains(lint, "keys2:2: admits nobody: cert-authority") || !strings.Contains(lint, "keys2:3: admits nobody: command=") {
		t.Errorf("lint:\n%s", lint)
	}
	if err := a.Check(); err != nil {
		t.Errorf("a file with one usable key: %v", err)
	}
	a.AuthorizedKeys = write(t, dir, "keys3", "cert-authority "+authLine(k)+"\n")
	if err := a.Check(); err == nil || !strings.Contains(err.Error(), "no key may log in") {
		t.Errorf("a file of CA keys only: %v", err)
	}
}

func TestWildcard(t *testing.T) {
	for _, tt := range []struct {
		p, s string
		ok   bool
	}{
		{"*", "1.2.3.4", true}, {"1.2.3.?", "1.2.3.4", true}, {"1.2.*.4", "1.2.30.4", true},
		{"1.2.3.4", "1.2.3.5", false}, {"1.*.9", "1.2.3.4", false}, {"[1]", "1", false}, {"", "", true},
	} {
		if got := wildcard(tt.p, tt.s); got != tt.ok {
			t.Errorf("wildcard(%q, %q) = %v", tt.p, tt.s, got)
		}
	}
}
