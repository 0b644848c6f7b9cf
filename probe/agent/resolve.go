package agent

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strings"

	"github.com/meshtop/meshtop/internal/textsafe"
)

// resolveDst turns a test's dst (an address or a name) into the address to probe and
// checks it against the allowlist. Names are resolved first and the address is checked,
// so a name cannot smuggle a probe past --allow. IPv4 is preferred, as upstream resolves
// with gethostbyname.
func (a *Agent) resolveDst(ctx context.Context, dst any) (netip.Addr, string) {
	s, ok := dst.(string)
	if !ok {
		return netip.Addr{}, fmt.Sprintf("Provided 'dst' of '%s' must be a string.", excerpt(pyStr(dst)))
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Addr{}, "Provided 'dst' is empty. Please pass an IP address or a host name."
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		// Only something that can be a host name goes to the resolver, and only a
		// bounded, clean excerpt of anything else is echoed.
		if !hostNameRe.MatchString(s) {
			return netip.Addr{}, fmt.Sprintf("Provided 'dst' of '%s' is not an IP address or a host name.", excerpt(s))
		}
		addr, err = a.lookupHost(ctx, s)
		if err != nil {
			return netip.Addr{}, fmt.Sprintf("Unable to resolve provided 'dst' of '%s': %s", s, textsafe.Message(err.Error()))
		}
	}
	addr = addr.Unmap()
	if kind := special(addr); kind != "" && !a.allowsSpecial(addr) {
		return netip.Addr{}, fmt.Sprintf("Provided 'dst' of '%s' is %s, which an agent does not probe; name the range in --allow to probe it anyway.", excerpt(s), kind)
	}
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

// hostNameRe is what a host name can be: at most 253 characters of letters, digits,
// hyphens, underscores and dots.
var hostNameRe = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_.-]{0,251}[A-Za-z0-9_.])?\.?$`)

// broadcast4 is the limited broadcast address.
var broadcast4 = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// special names the destinations an agent must not probe by default: they are never a
// PoP, and a probe of them reaches many hosts or none ("" for an ordinary address).
func special(a netip.Addr) string {
	switch {
	case a.IsUnspecified():
		return "the unspecified address"
	case a.IsMulticast():
		return "a multicast address"
	case a == broadcast4:
		return "the broadcast address"
	case a.Is4() && isLocalBroadcast(a):
		return "a subnet broadcast address of this host"
	}
	return ""
}

// isLocalBroadcast reports whether a is the broadcast address of one of this host's
// IPv4 networks (shorter than /31).
func isLocalBroadcast(a netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, ad := range addrs {
		in, ok := ad.(*net.IPNet)
		if !ok {
			continue
		}
		ones, bits := in.Mask.Size()
		ip4 := in.IP.To4()
		if ip4 == nil || bits != 32 || ones >= 31 {
			continue
		}
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte(ip4)), ones).Masked()
		b := p.Addr().As4()
		host := uint32(1)<<(32-ones) - 1
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) | host
		if netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}) == a {
			return true
		}
	}
	return false
}

// allowsSpecial reports whether an --allow entry names a special address's range
// itself (e.g. --allow 224.0.0.0/4), which is the only way to probe one. The
// unspecified address is never probed.
func (a *Agent) allowsSpecial(addr netip.Addr) bool {
	if addr.IsUnspecified() {
		return false
	}
	for _, p := range a.cfg.Allow {
		if !p.Contains(addr.WithZone("")) {
			continue
		}
		switch {
		case addr.IsMulticast() && addr.Is4() && p.Bits() >= 4,
			addr.IsMulticast() && addr.Is6() && p.Bits() >= 8,
			!addr.IsMulticast() && p.Bits() >= 24:
			return true
		}
	}
	return false
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
