package jsonscan

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// recorder writes the walk's events as text; node 1 is the value of key "list".
type recorder struct{ b strings.Builder }

func (r *recorder) Child(n Node, key string) (Node, error) {
	fmt.Fprintf(&r.b, "key %s;", key)
	if key == "list" {
		return 1, nil
	}
	return 0, nil
}

func (r *recorder) Elem(n Node, i int) (Node, error) {
	fmt.Fprintf(&r.b, "elem %d of %d;", i, n)
	if n == 1 && i > 2 {
		return 0, errors.New("too many")
	}
	return 2, nil
}

func (r *recorder) Value(n Node, k Kind, raw []byte) error {
	fmt.Fprintf(&r.b, "value %d %d %s;", n, k, raw)
	return nil
}

func (r *recorder) End(n Node, k Kind, count int) error {
	fmt.Fprintf(&r.b, "end %d %d %d;", n, k, count)
	return nil
}

func TestWalk(t *testing.T) {
	lim := Limits{Depth: 4, String: 16}
	for _, tt := range []struct{ in, events, err string }{
		{`{"list":[1,"a"],"x":null}`, `value 0 0 ;key list;value 1 1 ;elem 1 of 1;value 2 3 1;elem 2 of 1;value 2 2 a;end 1 1 2;key x;value 0 3 null;end 0 0 2;`, ""},
		{`{"l\u0069st":[]}`, `value 0 0 ;key list;value 1 1 ;end 1 1 0;end 0 0 1;`, ""},
		{`{"list":[1,2,3]}`, ``, "too many"},
		{`[[[[[1]]]]]`, ``, "nests deeper than 4 levels"},
		{`"12345678901234567"`, ``, "holds a string of 0 KiB"},
		{`{"list":[1,`, ``, ""}, // malformed: left to encoding/json
		// A delimiter where a value belongs stops the walk before a visitor sees an
		// empty literal (the fuzzer found a visitor indexing raw[0]).
		{`[,1]`, `value 0 1 ;elem 1 of 0;`, ""},
		{`{"list":}`, `value 0 0 ;key list;`, ""},
	} {
		r := &recorder{}
		err := Walk([]byte(tt.in), 0, lim, r)
		if (err == nil) != (tt.err == "") || (err != nil && err.Error() != tt.err) {
			t.Errorf("%s: error %v, want %q", tt.in, err, tt.err)
		}
		if tt.events != "" && r.b.String() != tt.events {
			t.Errorf("%s:\n got %s\nwant %s", tt.in, r.b.String(), tt.events)
		}
	}
}
