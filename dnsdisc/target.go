// Package dnsdisc finds agents by DNS, without an inventory:
//
//	dns://NAME[:PORT]              every A/AAAA record of NAME is an agent at http://ADDR:PORT
//	dnssrv://_SERVICE._tcp.DOMAIN  every SRV record gives an agent's host and port
//
// Each agent says its PoP and labels in /status (`meshtop agent --pop --label`); one
// that does not (upstream Scouter) is placed by the first label of its reverse DNS
// name, else its address, and that is said once. Agents re-resolve on every call of
// Agents, which `live` and `serve` make beside the sweeps (live.Loop.Discover), so
// agents come and go with the records.
package dnsdisc

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/meshtop/meshtop/internal/textsafe"
)

// Schemes of --discover.
const (
	SchemeA   = "dns"
	SchemeSRV = "dnssrv"
)

// Target is a parsed --discover value.
type Target struct {
	Scheme string // SchemeA or SchemeSRV
	Name   string // the DNS name, without a trailing dot
	Port   int    // agents' port (SchemeA); SRV records carry their own
}

func (t Target) String() string {
	if t.Scheme == SchemeA {
		return fmt.Sprintf("%s://%s", t.Scheme, net.JoinHostPort(t.Name, strconv.Itoa(t.Port)))
	}
	return t.Scheme + "://" + t.Name
}

// Parse reads dns://NAME[:PORT] (defaultPort when none) or dnssrv://_SERVICE._tcp.DOMAIN.
func Parse(s string, defaultPort int) (Target, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || (scheme != SchemeA && scheme != SchemeSRV) {
		return Target{}, fmt.Errorf("--discover %q: want dns://NAME[:PORT] or dnssrv://_SERVICE._tcp.DOMAIN", textsafe.Name(s))
	}
	rest = strings.TrimSuffix(rest, "/")
	t := Target{Scheme: scheme, Name: rest, Port: defaultPort}
	if scheme == SchemeA {
		if host, port, err := net.SplitHostPort(rest); err == nil {
			p, perr := strconv.Atoi(port)
			if perr != nil || p < 1 || p > 65535 {
				return Target{}, fmt.Errorf("--discover %s: port %q: want 1-65535", textsafe.Name(s), textsafe.Name(port))
			}
			t.Name, t.Port = host, p
		}
	}
	t.Name = strings.TrimSuffix(t.Name, ".")
	if msg := checkName(t.Name); msg != "" {
		return Target{}, fmt.Errorf("--discover %s: %s", textsafe.Name(s), msg)
	}
	if scheme == SchemeSRV {
		labels := strings.Split(t.Name, ".")
		if len(labels) < 3 || !strings.HasPrefix(labels[0], "_") || (labels[1] != "_tcp" && labels[1] != "_udp") {
			return Target{}, fmt.Errorf("--discover %s: want an SRV name such as dnssrv://_scouter._tcp.example.net", textsafe.Name(s))
		}
	}
	if t.Port < 1 || t.Port > 65535 {
		return Target{}, fmt.Errorf("--discover %s: port %d: want 1-65535", textsafe.Name(s), t.Port)
	}
	return t, nil
}

// checkName says what is wrong with a DNS name, "" when nothing.
func checkName(name string) string {
	if name == "" {
		return "no name"
	}
	if len(name) > 253 {
		return "the name is longer than 253 characters"
	}
	for l := range strings.SplitSeq(name, ".") {
		if l == "" || len(l) > 63 {
			return fmt.Sprintf("%q is not a DNS name (empty or long label)", textsafe.Name(name))
		}
		for _, r := range l {
			if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return fmt.Sprintf("%q is not a DNS name", textsafe.Name(name))
			}
		}
	}
	return ""
}
