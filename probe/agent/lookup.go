package agent

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"
)

// ASNDB maps addresses to autonomous system numbers from a GeoLite2-ASN (or compatible)
// mmdb file. A nil *ASNDB finds nothing.
type ASNDB struct {
	r *maxminddb.Reader
}

// OpenASNDB opens an mmdb file with autonomous_system_number records.
func OpenASNDB(path string) (*ASNDB, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open ASN database %s (a GeoLite2-ASN .mmdb file): %w", path, err)
	}
	return &ASNDB{r: r}, nil
}

// Lookup returns the ASN of addr; false when the database has no (non-zero) ASN for it.
func (d *ASNDB) Lookup(addr netip.Addr) (uint, bool) {
	if d == nil || d.r == nil {
		return 0, false
	}
	var rec struct {
		ASN uint `maxminddb:"autonomous_system_number"`
	}
	if err := d.r.Lookup(addr.Unmap()).Decode(&rec); err != nil || rec.ASN == 0 {
		return 0, false
	}
	return rec.ASN, true
}

// Close releases the database.
func (d *ASNDB) Close() error {
	if d == nil || d.r == nil {
		return nil
	}
	return d.r.Close()
}

// reverseName is a hop's hostname: its PTR name within the rDNS timeout, else (or with
// --rdns=false) the address itself, as upstream reports it.
func (a *Agent) reverseName(ctx context.Context, addr netip.Addr) string {
	if !a.cfg.RDNS {
		return addr.String()
	}
	ctx, cancel := context.WithTimeout(ctx, a.cfg.RDNSTimeout)
	defer cancel()
	names, err := a.cfg.Resolver.LookupAddr(ctx, addr.String())
	if err != nil || len(names) == 0 || names[0] == "" {
		return addr.String()
	}
	return strings.TrimSuffix(names[0], ".")
}

func fmtFloat3(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
