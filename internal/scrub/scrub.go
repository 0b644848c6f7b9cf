// Package scrub removes secrets from text that came from outside. An agent, a proxy or
// an InfluxDB that echoes the request's Authorization header in its error text would
// otherwise put the secret in the snapshot table and JSON, collect's stderr, serve's log
// and every SSH viewer's drill-down. Whoever puts a secret on the wire registers it here
// first (Add, AddBasic), in every form it is sent in; textsafe, which every string from
// outside passes through, replaces each form with Redacted.
//
// The registry is process-wide and only grows: a secret once sent stays a secret.
package scrub

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"html"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Redacted replaces a secret in text.
const Redacted = "[redacted]"

// MinLen is the shortest secret scrubbed: a shorter one protects nothing, and replacing
// every occurrence of two letters would garble every message.
const MinLen = 4

// maxForms bounds the registry: secrets are a handful (the agents' shared secret, a few
// per-agent ones, InfluxDB and StackPath credentials, StackPath's tokens as they renew).
// Beyond it the oldest forms go (a token of days ago is expired anyway).
const maxForms = 4096

var (
	mu    sync.Mutex
	known = map[string]bool{} // secrets added (not their forms)
	forms []string            // every form of every secret, oldest first
	cur   atomic.Pointer[scrubber]
)

// scrubber finds and replaces the registered forms. Most text holds none: find looks
// without allocating (forms indexed by their first byte), and only text that holds one
// goes through the Replacer.
type scrubber struct {
	first  [256][]string
	minLen int
	repl   *strings.Replacer
}

func (sc *scrubber) find(s string) bool {
	for i := 0; i+sc.minLen <= len(s); i++ {
		for _, f := range sc.first[s[i]] {
			if strings.HasPrefix(s[i:], f) {
				return true
			}
		}
	}
	return false
}

// Add registers a secret in every form it may be sent or echoed in: as is, base64 (std
// and URL alphabets, padded or not), URL query and path escaped, HTML escaped, JSON and
// Go quoted, hex.
func Add(secret string) {
	if len(secret) < MinLen {
		return
	}
	mu.Lock()
	defer mu.Unlock()
	if known[secret] {
		return
	}
	known[secret] = true
	addLocked(secretForms(secret)...)
}

// AddBasic registers HTTP Basic credentials: the password (Add) and the header value's
// base64 of "user:password", the form InfluxDB's clients send.
func AddBasic(user, password string) {
	if password == "" {
		return
	}
	Add(password)
	pair := user + ":" + password
	mu.Lock()
	defer mu.Unlock()
	if known[pair] {
		return
	}
	known[pair] = true
	addLocked(encodings(pair)...)
}

func secretForms(s string) []string {
	out := []string{s, url.QueryEscape(s), url.PathEscape(s), html.EscapeString(s), hex.EncodeToString([]byte(s))}
	if b, err := json.Marshal(s); err == nil {
		out = append(out, string(b[1:len(b)-1]))
	}
	q := strconv.Quote(s)
	out = append(out, q[1:len(q)-1])
	return append(out, encodings(s)...)
}

func encodings(s string) []string {
	b := []byte(s)
	return []string{
		base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b),
	}
}

func addLocked(fs ...string) {
	for _, f := range fs {
		if len(f) >= MinLen && !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	if len(forms) > maxForms {
		forms = slices.Delete(forms, 0, len(forms)-maxForms)
	}
	// Longest first: a form that contains another (base64 padded vs raw) is replaced
	// whole, not leaving its tail.
	sorted := slices.Clone(forms)
	slices.SortStableFunc(sorted, func(a, b string) int { return len(b) - len(a) })
	sc := &scrubber{minLen: len(sorted[len(sorted)-1])}
	pairs := make([]string, 0, 2*len(sorted))
	for _, f := range sorted {
		pairs = append(pairs, f, Redacted)
		sc.first[f[0]] = append(sc.first[f[0]], f)
	}
	sc.repl = strings.NewReplacer(pairs...)
	cur.Store(sc)
}

// String returns s with every registered secret replaced by Redacted.
func String(s string) string {
	sc := cur.Load()
	if sc == nil || !sc.find(s) {
		return s
	}
	return sc.repl.Replace(s)
}

// Contains reports whether s holds a registered secret.
func Contains(s string) bool { return String(s) != s }
