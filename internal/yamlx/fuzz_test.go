package yamlx

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// FuzzParse: Parse never panics, and a syntax error's line lies within the file.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"a: 1\n", "agents:\n  - name: a\n   pop: b\n", "a: [1, 2\n", "a: 'x\n", "\t- x\n", "a: 1\n---\nb: 2\n",
		strings.Repeat("[", 10000), strings.Repeat("- ", 5000) + "x\n", "a: &a [*a]\n", "\x00\x01\x1b[2J",
		"a: b: c: d\n", "? - - -\n", "%YAML 9.9\n---\na: 1\n", "a: !!int x\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		_, err := Parse([]byte(doc))
		var se *SyntaxError
		if errors.As(err, &se) {
			// YAML breaks lines at LF, CR and CRLF alike.
			breaks := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(doc)
			if lines := bytes.Count([]byte(breaks), []byte("\n")) + 1; se.Line < 0 || se.Line > lines+1 {
				t.Fatalf("syntax error on line %d of a %d-line file: %v", se.Line, lines, err)
			}
		}
	})
}
