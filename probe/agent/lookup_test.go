package agent

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
)

func TestASNDB(t *testing.T) {
	db, err := OpenASNDB(writeASNDB(t, map[string]uint32{"198.18.77.0/24": 64511, "2001:db8::/32": 64512}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for addr, want := range map[string]uint{"198.18.77.3": 64511, "2001:db8::1": 64512, "198.18.78.1": 0, "::ffff:198.18.77.9": 64511} {
		got, ok := db.Lookup(netip.MustParseAddr(addr))
		if got != want || ok != (want != 0) {
			t.Errorf("Lookup(%s) = %d %v, want %d", addr, got, ok, want)
		}
	}
	var none *ASNDB
	if _, ok := none.Lookup(netip.MustParseAddr("198.18.77.3")); ok {
		t.Error("nil database found an ASN")
	}
	if _, err := OpenASNDB(filepath.Join(t.TempDir(), "missing.mmdb")); err == nil {
		t.Error("opening a missing mmdb succeeded")
	}
}

func TestReverseName(t *testing.T) {
	noDNS := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no DNS in tests")
	}}
	on := &Agent{cfg: Config{RDNS: true, Resolver: noDNS}.withDefaults()}
	off := &Agent{cfg: Config{RDNS: false, Resolver: noDNS}.withDefaults()}
	lo := netip.MustParseAddr("127.0.0.1")
	if got := on.reverseName(context.Background(), lo); got != "localhost" {
		t.Errorf("reverse name of 127.0.0.1 (from /etc/hosts) = %q, want localhost", got)
	}
	if got := off.reverseName(context.Background(), lo); got != "127.0.0.1" {
		t.Errorf("with rDNS off = %q, want the address", got)
	}
	if got := on.reverseName(context.Background(), netip.MustParseAddr("198.18.77.3")); got != "198.18.77.3" {
		t.Errorf("failed lookup = %q, want the address", got)
	}
}
