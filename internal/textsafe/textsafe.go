// Package textsafe makes strings that come from outside (agents, StackPath, InfluxDB,
// files) safe to show in a terminal or write to a file: control characters and escape
// sequences are removed and the length is bounded. Every edge that takes text from
// outside passes it through here before it is shown, logged or recorded.
package textsafe

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/meshtop/meshtop/internal/scrub"
)

// Bounds used across meshtop.
const (
	MaxName    = 128  // agent, PoP, host names, tag values
	MaxMessage = 512  // error messages and comments from outside
	MaxBody    = 2048 // a quoted body excerpt in an error
)

// String returns s without control characters (C0, DEL, C1, and therefore every ANSI/OSC
// escape introducer), invalid UTF-8 replaced by U+FFFD, newlines and tabs folded to a
// space, registered secrets (internal/scrub) replaced by "[redacted]", cut to at most
// max runes with "…" marking the cut. max <= 0 means MaxMessage.
//
// Secrets go before the cut (a cut must not leave half of one) and again after the
// control characters (a secret split by an escape sequence is whole once it is gone).
func String(s string, max int) string {
	if max <= 0 {
		max = MaxMessage
	}
	s = scrub.String(s)
	if clean(s) && utf8.RuneCountInString(s) <= max {
		return s
	}
	var b strings.Builder
	prevSpace := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == utf8.RuneError && size == 1 {
			r = unicode.ReplacementChar
		}
		switch {
		case r == '\n' || r == '\r' || r == '\t' || r == '\v' || r == '\f':
			if prevSpace {
				continue
			}
			r = ' '
		case isControl(r):
			continue
		}
		prevSpace = r == ' '
		b.WriteRune(r)
	}
	return cut(scrub.String(b.String()), max)
}

// cut bounds clean text to max runes, "…" marking the cut.
func cut(s string, max int) string {
	n := 0
	for i := range s {
		if n == max {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// Name is String bounded to MaxName.
func Name(s string) string { return String(s, MaxName) }

// Message is String bounded to MaxMessage.
func Message(s string) string { return String(s, MaxMessage) }

func clean(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if isControl(r) || r == '\n' || r == '\r' || r == '\t' {
			return false
		}
	}
	return true
}

// isControl is true for C0 (incl. ESC), DEL, C1 (0x80-0x9f: CSI, OSC, ST as single
// code points), and the bidi overrides that can make text read differently than it is.
func isControl(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
