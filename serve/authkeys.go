package serve

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// The README suggests sharing authorized_keys with sshd, so its options mean what they
// mean to sshd (sshd(8), AUTHORIZED_KEYS FILE FORMAT): a key restricted there is not
// unrestricted here. meshtop serve honours from=, expiry-time=, restrict and no-pty
// (pty after restrict); options about forwarding, tunnels, rc files and the
// environment concern what serve never offers, so they hold trivially; a line with
// an option it cannot honour (command=, verify-required, an unknown one) admits
// nobody. A cert-authority line's key is a CA, never a user key: certificates are
// not accepted, so such a line admits nobody either.

// keyLine is one line of an authorized_keys file.
type keyLine struct {
	where  string // FILE:LINE
	fp     string // SHA256 fingerprint of the key
	from   []string
	expiry time.Time // zero: none
	noPty  bool
	// refuse, when set, is why the line admits nobody (and what Lint reports).
	refuse string
	// note is something worth saying at start that does not refuse the line.
	note string
}

// parseKeyLine reads one authorized_keys line. err is a line that is not one at all.
func parseKeyLine(where, line string) (keyLine, error) {
	k, _, opts, _, err := gossh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return keyLine{}, err
	}
	kl := keyLine{where: where, fp: gossh.FingerprintSHA256(k)}
	if _, cert := k.(*gossh.Certificate); cert {
		kl.refuse = "a certificate listed as a key: meshtop serve does not accept certificates"
		return kl, nil
	}
	for _, o := range opts {
		name, value, hasValue := strings.Cut(o, "=")
		if hasValue {
			v, err := unquoteOption(value)
			if err != nil {
				kl.refuse = fmt.Sprintf("option %s: %v", name, err)
				return kl, nil
			}
			value = v
		}
		switch strings.ToLower(name) {
		case "from":
			kl.from = append(kl.from, strings.Split(value, ",")...)
			for _, p := range kl.from {
				if why := checkPattern(p); why != "" {
					kl.refuse = "from=" + strconv.Quote(value) + ": " + why
					return kl, nil
				}
			}
		case "expiry-time":
			t, err := parseExpiry(value)
			if err != nil {
				kl.refuse = "expiry-time=" + strconv.Quote(value) + ": " + err.Error()
				return kl, nil
			}
			kl.expiry = t
		case "restrict", "no-pty":
			kl.noPty = true
		case "pty":
			kl.noPty = false
		case "cert-authority":
			kl.refuse = "cert-authority: this key signs certificates, it is not a user key, and meshtop serve does not accept certificates"
			return kl, nil
		case "command":
			kl.refuse = "command=: a forced command cannot be honoured by serve's terminal UI"
			return kl, nil
		case "verify-required":
			kl.refuse = "verify-required: meshtop serve cannot check a FIDO key's PIN verification"
			return kl, nil
		case "no-touch-required":
			kl.note = "no-touch-required is not honoured: meshtop serve requires the FIDO key's touch"
		case "no-port-forwarding", "no-agent-forwarding", "no-x11-forwarding", "no-user-rc",
			"port-forwarding", "agent-forwarding", "x11-forwarding", "user-rc",
			"permitopen", "permitlisten", "tunnel", "environment":
			// Forwarding, tunnels, rc files, environment: serve offers none of them.
		case "principals":
			kl.refuse = "principals= belongs to cert-authority lines; meshtop serve does not accept certificates"
			return kl, nil
		default:
			kl.refuse = "unknown option " + strconv.Quote(name) + " (sshd refuses such a line too)"
			return kl, nil
		}
	}
	return kl, nil
}

// unquoteOption reads an option value: "..." with \" escapes, as sshd writes them.
func unquoteOption(v string) (string, error) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", fmt.Errorf("value not in double quotes")
	}
	return strings.ReplaceAll(v[1:len(v)-1], `\"`, `"`), nil
}

// checkPattern says what is wrong with a from= pattern ("" when nothing).
func checkPattern(p string) string {
	p = strings.TrimPrefix(p, "!")
	if p == "" {
		return "empty pattern"
	}
	if strings.Contains(p, "/") {
		if _, err := netip.ParsePrefix(p); err != nil {
			return "bad address/masklen " + strconv.Quote(p)
		}
	}
	return ""
}

// parseExpiry reads sshd's timespec: YYYYMMDD[HHMM[SS]], local time, or UTC with a
// trailing Z.
func parseExpiry(v string) (time.Time, error) {
	loc := time.Local
	if s, ok := strings.CutSuffix(v, "Z"); ok {
		v, loc = s, time.UTC
	}
	layouts := map[int]string{8: "20060102", 12: "200601021504", 14: "20060102150405"}
	layout, ok := layouts[len(v)]
	if !ok {
		return time.Time{}, fmt.Errorf("want YYYYMMDD[HHMM[SS]][Z]")
	}
	t, err := time.ParseInLocation(layout, v, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("want YYYYMMDD[HHMM[SS]][Z]")
	}
	return t, nil
}

// admits says whether the line lets a connection from remote in at now; why when not.
func (kl keyLine) admits(remote net.Addr, now time.Time) (ok bool, why string) {
	switch {
	case kl.refuse != "":
		return false, kl.where + ": " + kl.refuse
	case !kl.expiry.IsZero() && !now.Before(kl.expiry):
		return false, fmt.Sprintf("%s: the key expired at %s (expiry-time)", kl.where, kl.expiry.Format(time.RFC3339))
	case len(kl.from) > 0 && !matchFrom(kl.from, remote):
		return false, fmt.Sprintf("%s: %s is not in from=%q", kl.where, hostOf(remote), strings.Join(kl.from, ","))
	}
	return true, ""
}

// matchFrom is sshd's match_host_and_ip without DNS (its default, UseDNS no): each
// pattern is matched against the client's address, as address/masklen or with * and
// ? wildcards; a negated pattern that matches refuses outright; otherwise one that
// matches admits.
func matchFrom(patterns []string, remote net.Addr) bool {
	host := hostOf(remote)
	addr, addrErr := netip.ParseAddr(host)
	admitted := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		var match bool
		if strings.Contains(p, "/") {
			pre, err := netip.ParsePrefix(p)
			match = err == nil && addrErr == nil && pre.Contains(addr.Unmap())
		} else {
			match = wildcard(strings.ToLower(p), strings.ToLower(host))
		}
		if match && neg {
			return false
		}
		admitted = admitted || match
	}
	return admitted
}

// hostOf is the address part of a connection's remote address.
func hostOf(a net.Addr) string {
	if a == nil {
		return ""
	}
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return h
}

// wildcard matches s against a pattern of sshd's match_pattern: * any run, ? one
// character, nothing else special.
func wildcard(p, s string) bool {
	star, back := -1, 0
	i, j := 0, 0
	for j < len(s) {
		switch {
		case i < len(p) && (p[i] == '?' || p[i] == s[j]):
			i++
			j++
		case i < len(p) && p[i] == '*':
			star, back = i, j
			i++
		case star >= 0:
			back++
			i, j = star+1, back
		default:
			return false
		}
	}
	for i < len(p) && p[i] == '*' {
		i++
	}
	return i == len(p)
}
