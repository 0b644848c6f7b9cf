//go:build linux

package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
)

// rootUse lists the IPv4 prefixes the root namespace already uses: its addresses and
// the destinations of its routes (all tables), default routes excepted. A lab only takes
// a slot none of these overlap, so it never shadows or captures real traffic.
type rootUse struct {
	what   []string
	prefix []netip.Prefix
}

func (u rootUse) overlaps(p netip.Prefix) (string, bool) {
	for i, q := range u.prefix {
		if q.Overlaps(p) {
			return u.what[i], true
		}
	}
	return "", false
}

func readRootUse(ctx context.Context) (rootUse, error) {
	var u rootUse
	out, err := ipOut(ctx, "-j", "-4", "addr", "show")
	if err != nil {
		return u, fmt.Errorf("check addresses in use: %w", err)
	}
	var links []struct {
		IfName   string `json:"ifname"`
		AddrInfo []struct {
			Local     string `json:"local"`
			PrefixLen int    `json:"prefixlen"`
		} `json:"addr_info"`
	}
	if err := json.Unmarshal(out, &links); err != nil {
		return u, fmt.Errorf("check addresses in use: read `ip -j addr`: %w", err)
	}
	for _, l := range links {
		for _, a := range l.AddrInfo {
			ad, err := netip.ParseAddr(a.Local)
			if err != nil {
				continue
			}
			p, err := ad.Prefix(a.PrefixLen)
			if err != nil {
				continue
			}
			u.what = append(u.what, fmt.Sprintf("address %s/%d on %s", a.Local, a.PrefixLen, l.IfName))
			u.prefix = append(u.prefix, p)
		}
	}
	out, err = ipOut(ctx, "-j", "-4", "route", "show", "table", "all")
	if err != nil {
		return u, fmt.Errorf("check routes in use: %w", err)
	}
	var routes []struct {
		Dst string `json:"dst"`
		Dev string `json:"dev"`
	}
	if err := json.Unmarshal(out, &routes); err != nil {
		return u, fmt.Errorf("check routes in use: read `ip -j route`: %w", err)
	}
	for _, r := range routes {
		if r.Dst == "" || r.Dst == "default" {
			continue
		}
		s := r.Dst
		if !strings.Contains(s, "/") {
			s += "/32"
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			continue
		}
		u.what = append(u.what, fmt.Sprintf("route %s dev %s", r.Dst, r.Dev))
		u.prefix = append(u.prefix, p.Masked())
	}
	return u, nil
}

// pickSlot returns the first address slot that neither the root namespace nor another
// lab (taken) uses.
func pickSlot(u rootUse, taken map[int]bool) (int, error) {
	var firstConflict string
	for s := 0; s <= maxSlot; s++ {
		if taken[s] {
			continue
		}
		l, _ := NewLayout(Config{}, s)
		free := true
		for _, n := range l.Nets() {
			if what, bad := u.overlaps(n); bad {
				if firstConflict == "" {
					firstConflict = fmt.Sprintf("%s overlaps %s", n, what)
				}
				free = false
				break
			}
		}
		if free {
			return s, nil
		}
	}
	if firstConflict == "" {
		firstConflict = "every slot is taken by another lab"
	}
	return 0, fmt.Errorf("no free addresses for a lab in 198.18.0.0/15 (%s); run `meshtop lab down --all` or free the range", firstConflict)
}
