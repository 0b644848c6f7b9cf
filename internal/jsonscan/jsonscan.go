// Package jsonscan walks JSON bytes without decoding them, so that what came from
// outside (an agent's answer, InfluxDB's) can be measured before encoding/json turns it
// into Go values: 8 MiB of `{},` costs a few microseconds to count and ~1.4 GB to
// decode. A Visitor gives the walk's nodes their meaning (which list holds entries,
// rows, hops) and stops it with an error when something is over its limit.
//
// Malformed JSON ends the walk quietly (Walk returns nil): encoding/json then says what
// is wrong in its own words.
package jsonscan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unsafe"
)

// Node is where in a document a value is; the Visitor gives nodes their meaning.
type Node int

// Kind is the kind of a JSON value.
type Kind int

// Kinds of values.
const (
	Object Kind = iota
	Array
	String
	Literal // a number, true, false or null
)

// Visitor receives a walk. An error from any method stops it and is Walk's result.
type Visitor interface {
	// Child is the node of the value of key in the object at n. Keys are unescaped:
	// encoding/json matches "r\u0065sults" to a field "results" (and case-insensitively,
	// which the visitor decides). key is valid only during the call: it may share the
	// document's bytes.
	Child(n Node, key string) (Node, error)
	// Elem is called before the i-th element (from 1) of the array at n and gives its node.
	Elem(n Node, i int) (Node, error)
	// Value is called at the start of every value at n: objects and arrays with raw nil,
	// strings with their raw content (between the quotes, escapes kept), literals as they
	// are.
	Value(n Node, k Kind, raw []byte) error
	// End is called after an object or array at n with its count of members or elements.
	End(n Node, k Kind, count int) error
}

// Limits bound a walk whatever the visitor says.
type Limits struct {
	Depth  int // containers nested at most this deep
	String int // bytes of one string (or key), escapes counted as written
}

// TooDeepError is a document nested deeper than Limits.Depth.
type TooDeepError struct{ Max int }

func (e *TooDeepError) Error() string { return fmt.Sprintf("nests deeper than %d levels", e.Max) }

// TooLongError is a string longer than Limits.String.
type TooLongError struct{ Len int }

func (e *TooLongError) Error() string {
	if e.Len >= 1<<20 {
		return fmt.Sprintf("holds a string of %d MiB", e.Len>>20)
	}
	return fmt.Sprintf("holds a string of %d KiB", e.Len>>10)
}

// delim are the bytes that end a literal.
var delim = [256]bool{',': true, ':': true, ']': true, '}': true, ' ': true, '\t': true, '\r': true, '\n': true}

type walk struct {
	b   []byte
	i   int
	lim Limits
	v   Visitor
	err error
	bad bool // malformed
}

// Walk walks data, its top value at root.
func Walk(data []byte, root Node, lim Limits, v Visitor) error {
	w := &walk{b: data, lim: lim, v: v}
	w.value(root, 0)
	return w.err
}

func (w *walk) stop() bool { return w.err != nil || w.bad }

func (w *walk) fail(err error) {
	if w.err == nil && err != nil {
		w.err = err
	}
}

func (w *walk) ws() {
	for w.i < len(w.b) && (w.b[w.i] == ' ' || w.b[w.i] == '\n' || w.b[w.i] == '\r' || w.b[w.i] == '\t') {
		w.i++
	}
}

func (w *walk) value(n Node, depth int) {
	w.ws()
	if w.i >= len(w.b) {
		w.bad = true
		return
	}
	switch w.b[w.i] {
	case '{', '[':
		if depth >= w.lim.Depth {
			w.fail(&TooDeepError{w.lim.Depth})
			return
		}
		k := Object
		if w.b[w.i] == '[' {
			k = Array
		}
		if w.fail(w.v.Value(n, k, nil)); w.stop() {
			return
		}
		count := w.container(n, k, depth)
		if !w.stop() {
			w.fail(w.v.End(n, k, count))
		}
	case '"':
		raw := w.str()
		if !w.stop() {
			w.fail(w.v.Value(n, String, raw))
		}
	default:
		start := w.i
		for w.i < len(w.b) && !delim[w.b[w.i]] {
			w.i++
		}
		if w.i == start {
			// A delimiter where a value belongs (`[,`, `{"a":}`): not JSON, and a
			// visitor is never handed an empty literal to look into.
			w.bad = true
			return
		}
		w.fail(w.v.Value(n, Literal, w.b[start:w.i]))
	}
}

// str scans a string and returns its raw content.
func (w *walk) str() []byte {
	start := w.i + 1
	for w.i++; w.i < len(w.b); w.i++ {
		switch w.b[w.i] {
		case '\\':
			w.i++
		case '"':
			raw := w.b[start:w.i]
			w.i++
			if len(raw) > w.lim.String {
				w.fail(&TooLongError{len(raw)})
			}
			return raw
		}
	}
	w.bad = true
	return nil
}

// container scans the members of an object or the elements of an array.
func (w *walk) container(n Node, k Kind, depth int) int {
	closing := byte('}')
	if k == Array {
		closing = ']'
	}
	w.i++ // { or [
	count := 0
	for first := true; !w.stop(); first = false {
		w.ws()
		if first && w.i < len(w.b) && w.b[w.i] == closing {
			w.i++
			return 0
		}
		count++
		child := n
		if k == Object {
			if w.i >= len(w.b) || w.b[w.i] != '"' {
				w.bad = true
				return count
			}
			raw := w.str()
			if w.stop() {
				return count
			}
			var key string
			if len(raw) > 0 {
				key = unsafe.String(&raw[0], len(raw)) // read only, during Child
			}
			if bytes.IndexByte(raw, '\\') >= 0 {
				var u string
				if json.Unmarshal([]byte(`"`+string(raw)+`"`), &u) == nil {
					key = u
				}
			}
			w.ws()
			if w.i >= len(w.b) || w.b[w.i] != ':' {
				w.bad = true
				return count
			}
			w.i++
			var err error
			child, err = w.v.Child(n, key)
			if w.fail(err); w.stop() {
				return count
			}
		} else {
			var err error
			child, err = w.v.Elem(n, count)
			if w.fail(err); w.stop() {
				return count
			}
		}
		w.value(child, depth+1)
		if w.stop() {
			return count
		}
		w.ws()
		if w.i < len(w.b) && w.b[w.i] == ',' {
			w.i++
			continue
		}
		if w.i < len(w.b) && w.b[w.i] == closing {
			w.i++
			return count
		}
		w.bad = true
	}
	return count
}
