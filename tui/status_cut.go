package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Messages say what happened, then what to do: "scouter-nrt-0 auth_failed: … the agent
// refused the secret (HTTP 403): set SCOUTER_SECRET …". A status bar too narrow for the
// whole of one keeps its head (who) and the fix, and drops the middle; the full help has
// it whole.

// fixVerbs start the part of a message that says what to do.
var fixVerbs = []string{
	"set", "check", "create", "fix", "give", "add", "use", "run", "start", "raise", "lower",
	"put", "pass", "install", "remove", "drop", "record", "see", "try", "wait", "grant", "GRANT",
}

// fixStart is where the fix of a message begins (a verb of fixVerbs after ": ", "(",
// "; ", " — " or ", then "), or -1.
func fixStart(msg string) int {
	best := -1
	for _, intro := range []string{": ", "(", "; ", " — ", ", then "} {
		for from := 0; ; {
			i := strings.Index(msg[from:], intro)
			if i < 0 {
				break
			}
			at := from + i + len(intro)
			from = at
			if best >= 0 && at >= best {
				break
			}
			if startsWithVerb(msg[at:]) {
				best = at
				break
			}
		}
	}
	return best
}

func startsWithVerb(s string) bool {
	for _, v := range fixVerbs {
		if strings.HasPrefix(s, v+" ") {
			return true
		}
	}
	return false
}

// cutKeepFix cuts msg to w columns keeping its head and its fix: "head… fix", the fix
// without its asides in parentheses when whole it does not fit, then as much of both
// as fits (the fix's verb and object come first). With no fix the end is cut.
func cutKeepFix(msg string, w int) string {
	if w < 1 {
		return ""
	}
	if ansi.StringWidth(msg) <= w {
		return msg
	}
	at := fixStart(msg)
	if at < 0 {
		return ansi.Truncate(msg, w, "…")
	}
	head := msg[:at]
	if i := strings.Index(head, ": "); i > 0 {
		head = head[:i] // who, without what happened
	}
	fix := strings.TrimSuffix(msg[at:], ")")
	for _, f := range []string{fix, withoutAsides(fix)} {
		if room := w - ansi.StringWidth(f) - 2; room >= min(ansi.StringWidth(head), 6) {
			return cutTo(head, room) + "… " + f
		}
	}
	fix = withoutAsides(fix)
	hw := min(ansi.StringWidth(head), max(0, (w-2)/3))
	if hw < 4 {
		return "…" + cutTo(fix, w-2) + "…"
	}
	return cutTo(head, hw) + "… " + cutTo(fix, w-hw-3) + "…"
}

// cutTo cuts s to w columns and drops the spaces it then ends with.
func cutTo(s string, w int) string { return strings.TrimRight(ansi.Truncate(s, max(0, w), ""), " ") }

// withoutAsides drops parenthesised asides: "set X (or Y) to Z" → "set X to Z".
func withoutAsides(s string) string {
	for {
		i := strings.Index(s, " (")
		if i < 0 {
			return s
		}
		j := strings.Index(s[i:], ")")
		if j < 0 {
			return s
		}
		s = s[:i] + s[i+j+1:]
	}
}
