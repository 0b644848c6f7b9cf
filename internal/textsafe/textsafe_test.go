package textsafe

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/meshtop/meshtop/internal/scrub"
)

func TestString(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{"plain", "agent ams-1", 0, "agent ams-1"},
		{"osc title and clear", "bad \x1b]0;T\x07\x1b[2J\nx", 0, "bad ]0;T[2J x"},
		{"c1 csi", "a\u009b31mb", 0, "a31mb"},
		{"newlines fold", "a\n\n\tb", 0, "a b"},
		{"invalid utf8", "a\xffb", 0, "a\uFFFDb"},
		{"bidi override", "abc\u202edef", 0, "abcdef"},
		{"cut", "abcdef", 3, "abc…"},
		{"exact", "abc", 3, "abc"},
		{"multibyte cut", "ééééé", 2, "éé…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := String(tt.in, tt.max); got != tt.want {
				t.Errorf("String(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"", "ok", "bad \x1b]0;T\x07\x1b[2J\nx", "\xff\xfe", strings.Repeat("x", 5000), "\u009b\u202e"} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max > 1<<16 {
			max = 1 << 16
		}
		got := String(s, max)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 out: %q", got)
		}
		for _, r := range got {
			if isControl(r) || r == '\n' || r == '\r' || r == '\t' {
				t.Fatalf("control %U survived in %q", r, got)
			}
		}
		lim := max
		if lim <= 0 {
			lim = MaxMessage
		}
		if n := utf8.RuneCountInString(got); n > lim+1 {
			t.Fatalf("%d runes out, limit %d", n, lim)
		}
		if String(got, max) != got && utf8.RuneCountInString(got) <= lim {
			t.Fatalf("not idempotent: %q", got)
		}
	})
}

func TestStringScrubsSecrets(t *testing.T) {
	scrub.Add("hunter2hunter2")
	for _, in := range []string{
		"auth hunter2hunter2 refused",
		"auth hunter2\x07hunter2 refused",           // split by a control character
		strings.Repeat("x", 20) + " hunter2hunter2", // cut in the middle without scrubbing first
	} {
		got := String(in, 30)
		if strings.Contains(got, "hunter2") {
			t.Errorf("String(%q) = %q", in, got)
		}
	}
}
