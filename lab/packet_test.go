//go:build linux

package lab

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/oschwald/maxminddb-golang/v2"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

// echoPacket builds an IPv4 ICMP echo request as a PoP's kernel would send it.
func echoPacket(t *testing.T, src, dst string, ttl int) []byte {
	t.Helper()
	body, err := (&icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: 0x1234, Seq: 7, Data: []byte("payload!")}}).Marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &ipv4.Header{Version: 4, Len: 20, TotalLen: 20 + len(body), TTL: ttl, Protocol: 1,
		Src: netip.MustParseAddr(src).AsSlice(), Dst: netip.MustParseAddr(dst).AsSlice()}
	b, err := h.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// Marshal leaves the checksum zero and may write TotalLen in host order on some
	// platforms: set both explicitly.
	binary.BigEndian.PutUint16(b[2:4], uint16(20+len(body)))
	binary.BigEndian.PutUint16(b[10:12], checksum(b))
	return append(b, body...)
}

func TestTimeExceeded(t *testing.T) {
	in := echoPacket(t, "198.18.1.1", "198.18.1.2", 1)
	p, ok := parseIPv4(in)
	if !ok {
		t.Fatal("parseIPv4 refused a valid packet")
	}
	out := timeExceeded(p, netip.MustParseAddr("198.18.2.1"), 64, 9)
	q, ok := parseIPv4(out)
	if !ok {
		t.Fatal("time exceeded is not a valid IPv4 packet")
	}
	if checksum(out[:20]) != 0 {
		t.Error("IPv4 header checksum is wrong")
	}
	if q.src().String() != "198.18.2.1" || q.dst().String() != "198.18.1.1" || q.ttl() != 64 {
		t.Errorf("answer %s -> %s ttl %d", q.src(), q.dst(), q.ttl())
	}
	if checksum(q.payload()) != 0 {
		t.Error("ICMP checksum is wrong")
	}
	m, err := icmp.ParseMessage(1, q.payload())
	if err != nil {
		t.Fatal(err)
	}
	te, ok := m.Body.(*icmp.TimeExceeded)
	if m.Type != ipv4.ICMPTypeTimeExceeded || !ok {
		t.Fatalf("answer is %v, want time exceeded", m.Type)
	}
	// The quote carries the original header and the echo id/seq that tracers match.
	if len(te.Data) != 28 || binary.BigEndian.Uint16(te.Data[24:26]) != 0x1234 || binary.BigEndian.Uint16(te.Data[26:28]) != 7 {
		t.Errorf("quote = % x", te.Data)
	}
	if !q.isICMPError() || p.isICMPError() {
		t.Error("isICMPError: time exceeded must count as an ICMP error, an echo must not")
	}
}

func TestSetTTLKeepsChecksumValid(t *testing.T) {
	p, _ := parseIPv4(echoPacket(t, "198.18.1.1", "198.18.1.2", 9))
	p.setTTL(6)
	if p.ttl() != 6 || checksum(p.b[:p.hdrLen]) != 0 {
		t.Errorf("ttl %d, header checksum sum %#x", p.ttl(), checksum(p.b[:p.hdrLen]))
	}
}

func TestParseIPv4Refuses(t *testing.T) {
	good := echoPacket(t, "198.18.1.1", "198.18.1.2", 9)
	v6 := append([]byte{0x60}, good[1:]...)
	long := append([]byte(nil), good...)
	binary.BigEndian.PutUint16(long[2:4], uint16(len(good)+10))
	for name, b := range map[string][]byte{"empty": nil, "short": good[:10], "ipv6": v6, "total beyond data": long} {
		if _, ok := parseIPv4(b); ok {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestDropSpreadsLossEvenly(t *testing.T) {
	for _, tc := range []struct {
		loss       float64
		n, dropped int
	}{{0, 100, 0}, {10, 100, 10}, {10, 5, 1}, {50, 10, 5}, {100, 7, 7}, {33.3, 30, 10}} {
		f := &Forwarder{}
		d := &direction{}
		d.lossAcc.Store(lossScale / 2)
		got := 0
		for range tc.n {
			if f.drop(d, tc.loss) {
				got++
			}
		}
		if got != tc.dropped {
			t.Errorf("loss %v%% over %d packets: dropped %d, want %d", tc.loss, tc.n, got, tc.dropped)
		}
	}
}

// TestChanceIsRandomPerPacket: router losses are drawn per packet, not spread every
// Nth packet, so no run of probes can alias with them: over many draws the share is the
// setting, and a regular pattern (every other packet) does not pick out the losses.
func TestChanceIsRandomPerPacket(t *testing.T) {
	f := &Forwarder{rng: rand.New(rand.NewPCG(1, 2))}
	for _, pct := range []float64{0, 3, 30, 50, 100} {
		const n = 20000
		all, even := 0, 0
		for i := range n {
			if f.chance(pct) {
				all++
				if i%2 == 0 {
					even++
				}
			}
		}
		share := float64(all) / n * 100
		if math.Abs(share-pct) > 1.5 {
			t.Errorf("chance(%v%%): %d of %d (%.2f%%)", pct, all, n, share)
		}
		// Every other packet sees the same share as all of them: no aliasing.
		if evenShare := float64(even) / (n / 2) * 100; math.Abs(evenShare-pct) > 2 {
			t.Errorf("chance(%v%%): even packets lost %.2f%%, all %.2f%%", pct, evenShare, share)
		}
	}
}

func TestWriteMMDB(t *testing.T) {
	c := Config{Name: "m", Pops: []PopConfig{{Name: "a", ASN: 65001, Org: "A Org"}, {Name: "b"}},
		Routers: []RouterSpec{{Name: "r1", ASN: 64700, Org: "Transit"}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	l, err := NewLayout(c, 0)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "asn.mmdb")
	if err := WriteMMDB(path, l); err != nil {
		t.Fatal(err)
	}
	db, err := maxminddb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Metadata.DatabaseType != "GeoLite2-ASN" {
		t.Errorf("database type %q", db.Metadata.DatabaseType)
	}
	type asn struct {
		Number uint32 `maxminddb:"autonomous_system_number"`
		Org    string `maxminddb:"autonomous_system_organization"`
	}
	for _, tc := range []struct {
		addr string
		want asn
		hit  bool
	}{
		{"198.18.1.1", asn{65001, "A Org"}, true},
		{"198.18.1.2", asn{64602, "meshtop lab PoP B"}, true},
		{"198.18.2.1", asn{64700, "Transit"}, true},
		{"198.18.1.3", asn{}, false},
	} {
		var got asn
		res := db.Lookup(netip.MustParseAddr(tc.addr))
		if err := res.Decode(&got); err != nil {
			t.Fatal(err)
		}
		if res.Found() != tc.hit || got != tc.want {
			t.Errorf("%s: found %v %+v, want %v %+v", tc.addr, res.Found(), got, tc.hit, tc.want)
		}
	}
}

// Every direction drops its first packet within its first 1/L packets, at a phase of
// its own: directions that carry the same packets (a pair's requests and replies) do
// not all drop at the same moment, as they did from one fixed phase.
func TestDirectionsDropAtPhasesOfTheirOwn(t *testing.T) {
	f := &Forwarder{}
	first := map[int]int{}
	for range 50 {
		d := newDirection()
		for i := 1; ; i++ {
			if f.drop(d, 0.5) {
				if i > 200 {
					t.Fatalf("first drop at packet %d of a 0.5 %% path, want within 200", i)
				}
				first[i]++
				break
			}
		}
	}
	if len(first) < 10 {
		t.Errorf("50 directions dropped first at only %d different packets: %v", len(first), first)
	}
}
