//go:build linux

package lab

import (
	"fmt"
	"net/netip"
)

// Address plan. A lab takes one slot s (0..maxSlot) of 198.18.0.0/15:
//
//	mesh (TUN) address of PoP i (1-based): 198.18.(2s+1).i/24   inventory "address"
//	router r (1-based):                    198.18.(2s+2).r
//	API veth pair of PoP i:                198.19.s.(4i-3) root side, 198.19.s.(4i-2) in the PoP, /30
//	agent API:                             http://198.19.s.(4i-2):8000
//
// Slot 0 is the first free one, so a single lab on a clean machine uses 198.18.1.0/24,
// 198.18.2.0/24 and 198.19.0.0/24.
const (
	maxSlot = 126
	apiPort = 8000
	tunName = "mesh0"
	apiIf   = "api0"
)

// Layout is where everything of one lab lives: names and addresses.
type Layout struct {
	Name    string         `json:"name"`
	Slot    int            `json:"slot"`
	MeshNet netip.Prefix   `json:"mesh_net"`
	RtrNet  netip.Prefix   `json:"router_net"`
	APINet  netip.Prefix   `json:"api_net"`
	Pops    []PopLayout    `json:"pops"`
	Routers []RouterLayout `json:"routers"`
}

// PopLayout places one PoP.
type PopLayout struct {
	Name     string     `json:"name"`
	ASN      uint32     `json:"asn"`
	Org      string     `json:"org"`
	Netns    string     `json:"netns"`     // mt-LAB-POP
	HostIf   string     `json:"host_if"`   // root-side veth, mt-LAB-vN
	HostAddr netip.Addr `json:"host_addr"` // root-side veth address
	APIAddr  netip.Addr `json:"api_addr"`  // agent's listen address (veth in the netns)
	MeshAddr netip.Addr `json:"mesh_addr"` // TUN address: what other agents ping
	URL      string     `json:"url"`
}

// RouterLayout places one emulated router.
type RouterLayout struct {
	Name string     `json:"name"`
	ASN  uint32     `json:"asn"`
	Org  string     `json:"org"`
	Addr netip.Addr `json:"addr"`
}

// NetnsPrefix is the prefix of every network namespace of the named lab.
func NetnsPrefix(lab string) string { return Prefix + lab + "-" }

// NewLayout computes the layout of a validated config in the given slot.
func NewLayout(c Config, slot int) (Layout, error) {
	if slot < 0 || slot > maxSlot {
		return Layout{}, fmt.Errorf("address slot %d is out of range 0-%d", slot, maxSlot)
	}
	l := Layout{
		Name:    c.Name,
		Slot:    slot,
		MeshNet: netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, byte(2*slot + 1), 0}), 24),
		RtrNet:  netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, byte(2*slot + 2), 0}), 24),
		APINet:  netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 19, byte(slot), 0}), 24),
	}
	for i, p := range c.Pops {
		n := i + 1
		api := netip.AddrFrom4([4]byte{198, 19, byte(slot), byte(4*n - 2)})
		l.Pops = append(l.Pops, PopLayout{
			Name:     p.Name,
			ASN:      p.ASN,
			Org:      p.Org,
			Netns:    NetnsPrefix(c.Name) + p.Name,
			HostIf:   fmt.Sprintf("%s%s-v%d", Prefix, c.Name, n),
			HostAddr: netip.AddrFrom4([4]byte{198, 19, byte(slot), byte(4*n - 3)}),
			APIAddr:  api,
			MeshAddr: netip.AddrFrom4([4]byte{198, 18, byte(2*slot + 1), byte(n)}),
			URL:      fmt.Sprintf("http://%s:%d", api, apiPort),
		})
	}
	for i, r := range c.Routers {
		l.Routers = append(l.Routers, RouterLayout{
			Name: r.Name, ASN: r.ASN, Org: r.Org,
			Addr: netip.AddrFrom4([4]byte{198, 18, byte(2*slot + 2), byte(i + 1)}),
		})
	}
	return l, nil
}

// Nets are the three /24s the layout uses.
func (l Layout) Nets() []netip.Prefix { return []netip.Prefix{l.MeshNet, l.RtrNet, l.APINet} }

// popByMesh finds the PoP whose mesh address is a.
func (l Layout) popByMesh(a netip.Addr) int {
	if !l.MeshNet.Contains(a) {
		return -1
	}
	i := int(a.As4()[3]) - 1
	if i < 0 || i >= len(l.Pops) {
		return -1
	}
	return i
}

// Pop finds a PoP by name.
func (l Layout) Pop(name string) (PopLayout, bool) {
	for _, p := range l.Pops {
		if p.Name == name {
			return p, true
		}
	}
	return PopLayout{}, false
}
