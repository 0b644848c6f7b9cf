//go:build linux

package lab

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// WriteMMDB writes the lab's ASN database in the GeoLite2-ASN layout
// (autonomous_system_number, autonomous_system_organization): every PoP's mesh address
// and every router address with its ASN. Agents get it with --asn-db, so their
// traceroutes name ASNs exactly as with MaxMind's database.
func WriteMMDB(path string, l Layout) error {
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType: "GeoLite2-ASN",
		Description:  map[string]string{"en": "meshtop lab " + l.Name + " ASN database"},
		// 198.18.0.0/15 is reserved (benchmarking); the writer skips reserved networks
		// unless told otherwise.
		IncludeReservedNetworks: true,
		RecordSize:              24,
	})
	if err != nil {
		return fmt.Errorf("create lab mmdb: %w", err)
	}
	insert := func(a netip.Addr, asn uint32, org string) error {
		n := &net.IPNet{IP: net.IP(a.AsSlice()), Mask: net.CIDRMask(32, 32)}
		return tree.Insert(n, mmdbtype.Map{
			"autonomous_system_number":       mmdbtype.Uint32(asn),
			"autonomous_system_organization": mmdbtype.String(org),
		})
	}
	for _, p := range l.Pops {
		if err := insert(p.MeshAddr, p.ASN, p.Org); err != nil {
			return fmt.Errorf("lab mmdb: insert pop %s: %w", p.Name, err)
		}
	}
	for _, r := range l.Routers {
		if err := insert(r.Addr, r.ASN, r.Org); err != nil {
			return fmt.Errorf("lab mmdb: insert router %s: %w", r.Name, err)
		}
	}
	var buf bytes.Buffer
	if _, err := tree.WriteTo(&buf); err != nil {
		return fmt.Errorf("write lab mmdb: %w", err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write lab mmdb: %w", err)
	}
	return nil
}
