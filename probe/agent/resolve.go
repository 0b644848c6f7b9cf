package agent

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
)

// resolveDst turns a test's dst (an address or a name) into the address to probe and
// checks it against the allowlist. Names are resolved first and the address is checked,
// so a name cannot smuggle a probe past --allow. IPv4 is preferred, as upstream resolves
// with gethostbyname.
func (a *Agent) resolveDst(ctx context.Context, dst any) (netip.Addr, string) {
	s, ok := dst.(string)
	if !ok {
		return netip.Addr{}, fmt.Sprintf("Provided 'dst' of '%s' must be a string.", pyStr(dst))
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Addr{}, "Provided 'dst' is empty. Please pass an IP address or a host name."
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		addr, err = a.lookupHost(ctx, s)
		if err != nil {
			return netip.Addr{}, fmt.Sprintf("Unable to resolve provided 'dst' of '%s': %v", s, err)
		}
	}
	addr = addr.Unmap()
	if !a.allowed(addr) {
		if addr.String() != s {
			return netip.Addr{}, fmt.Sprintf("Provided 'dst' of '%s' (%s) is not allowed by this agent's --allow list.", s, addr)
		}
		return netip.Addr{}, fmt.Sprintf("Provided 'dst' of '%s' is not allowed by this agent's --allow list.", s)
	}
	return addr, ""
}

func (a *Agent) lookupHost(ctx context.Context, name string) (netip.Addr, error) {
	addrs, err := a.cfg.Resolver.LookupNetIP(ctx, "ip", name)
	if err != nil {
		return netip.Addr{}, err
	}
	for _, ad := range addrs {
		if ad.Unmap().Is4() {
			return ad.Unmap(), nil
		}
	}
	if len(addrs) == 0 {
		return netip.Addr{}, fmt.Errorf("no address for %s", name)
	}
	return addrs[0], nil
}

// allowed reports whether addr may be probed: any address when no allowlist was given.
func (a *Agent) allowed(addr netip.Addr) bool {
	if len(a.cfg.Allow) == 0 {
		return true
	}
	for _, p := range a.cfg.Allow {
		if p.Contains(addr.WithZone("")) {
			return true
		}
	}
	return false
}
