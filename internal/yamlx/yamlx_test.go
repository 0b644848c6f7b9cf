package yamlx

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestSyntaxErrLine: the line of a syntax error is the line the problem is on, not
// the line yaml.v3 names (where the enclosing block began, off by one for parser errors).
func TestSyntaxErrLine(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		line int
	}{
		{"agents:\n  - name: a\n   pop: b\n", 3},    // yaml.v3: line 1
		{"a: 1\nb: 2\nc: 3\n- d\n", 4},              // yaml.v3: line 3
		{"a: 1\nb: 2\nc: 3\nd: [1, 2\n", 4},         // yaml.v3: line 3
		{"live:\n  interval: 1s\ncount: 2: 3\n", 3}, // yaml.v3 is right
		{"agents:\n\t- name: a\n", 2},               // scanner error
		{"a: 1\nb: 2\nc:\n  d: 'x\n  e: 3\n", 4},    // unterminated quote
		{"a:\n  b:\n    c: 1\n  d: [\n", 4},
	} {
		_, err := Parse([]byte(tc.doc))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: err %v, want a *SyntaxError", tc.doc, err)
			continue
		}
		if se.Line != tc.line {
			t.Errorf("%q: line %d (%s), want %d", tc.doc, se.Line, se.Msg, tc.line)
		}
	}
}

func TestParseDocuments(t *testing.T) {
	if n, err := Parse([]byte("# only a comment\n")); n != nil || err != nil {
		t.Errorf("comment only: %v, %v", n, err)
	}
	_, err := Parse([]byte("a: 1\n---\nb: 2\n"))
	var p Problem
	if !errors.As(err, &p) || p.Kind != Documents || p.Line != 2 {
		t.Errorf("two documents: %v", err)
	}
}

func TestFields(t *testing.T) {
	type doc struct {
		Name  yaml.Node `yaml:"name"`
		Label yaml.Node `yaml:"label"`
	}
	root, err := Parse([]byte("name: a\nlabl: x\nname: b\n? [k]\n: v\nlabel: &l y\n"))
	if err != nil {
		t.Fatal(err)
	}
	var d doc
	var got []string
	Fields(root.Content[0], &d, func(n *yaml.Node, p Problem) {
		s := p.Msg
		if p.Kind == Unknown {
			s += " (" + p.Hint() + ")"
		}
		got = append(got, strings.Join([]string{itoa(n.Line), s}, ": "))
	})
	want := []string{`2: unknown key "labl" (did you mean "label"?)`, `3: key "name" given twice (first on line 1)`, "4: a key must be a plain word, not a list"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d.Name.Value != "a" || d.Name.Line != 1 || d.Label.Value != "y" {
		t.Errorf("decoded %+v %+v", d.Name, d.Label)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestDecodeStrict(t *testing.T) {
	type inner struct {
		RTT string `yaml:"rtt"`
	}
	type cfg struct {
		Name  string  `yaml:"name"`
		Links []inner `yaml:"links"`
	}
	var c cfg
	ps := DecodeStrict([]byte("name: x\nlinks:\n  - {rtt: 1ms, rrt: 2ms}\nnmae: y\n"), &c)
	if len(ps) != 2 || ps[0].Kind != Unknown || ps[0].Key != "rrt" || ps[0].Suggest != "rtt" || ps[0].Line != 3 ||
		ps[1].Key != "nmae" || ps[1].Suggest != "name" || ps[1].Line != 4 {
		t.Errorf("problems %+v", ps)
	}
	if c.Name != "x" || len(c.Links) != 1 || c.Links[0].RTT != "1ms" {
		t.Errorf("decoded %+v", c)
	}
	if ps := DecodeStrict([]byte("name: [\n"), &c); len(ps) != 1 || ps[0].Kind != Syntax || ps[0].Line != 1 {
		t.Errorf("syntax: %+v", ps)
	}
}

func TestClosest(t *testing.T) {
	for _, tc := range []struct{ s, want string }{
		{"inventroy", "inventory"}, {"INVENTORY", "inventory"}, {"secret_evn", "secret_env"}, {"zzzzzz", ""},
	} {
		if got := Closest(tc.s, []string{"inventory", "secret_env", "secret_file"}); got != tc.want {
			t.Errorf("Closest(%q) = %q, want %q", tc.s, got, tc.want)
		}
	}
	if d := Distance("kitten", "sitting"); d != 3 {
		t.Errorf("Distance = %d", d)
	}
}

func TestKindName(t *testing.T) {
	for _, tc := range []struct {
		doc, want string
	}{{"{b: 1}", "a mapping"}, {"[1]", "a list"}, {"~", "empty"}, {"x", "a scalar"}} {
		n, err := Parse([]byte(tc.doc))
		if err != nil {
			t.Fatal(err)
		}
		if got := KindName(n.Content[0]); got != tc.want {
			t.Errorf("KindName(%s) = %q, want %q", tc.doc, got, tc.want)
		}
	}
}
