// Package yamlx is the one YAML style of meshtop's files (config, inventory, lab config):
// exactly one document, strict decoding (unknown and duplicate keys are errors), and
// every problem located by line, with a "did you mean" for misspelt keys. It wraps
// gopkg.in/yaml.v3 and adds what that library leaves to its callers: the true line of a
// syntax error, its unmarshal errors as values, kind names for messages, aliases
// resolved, suggestions.
package yamlx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Problem is one thing wrong in a file, at a line (0 when unknown).
type Problem struct {
	Line int
	// Kind says what went wrong, so callers can word it their way.
	Kind ProblemKind
	// Key is the key concerned (Unknown, Duplicate), Type the Go type it was decoded into.
	Key, Type string
	// First is the line of the first occurrence (Duplicate).
	First int
	// Known lists the keys the mapping takes (Unknown), Suggest the closest one, if any.
	Known   []string
	Suggest string
	// Msg is yaml.v3's own text for the problem, without the line.
	Msg string
}

// ProblemKind classifies a Problem.
type ProblemKind int

const (
	// Syntax: the text is not YAML.
	Syntax ProblemKind = iota
	// Unknown: a key the structure does not have.
	Unknown
	// Duplicate: a key given twice in one mapping.
	Duplicate
	// Type: a value of the wrong kind (a list where a number goes, ...).
	Type
	// Documents: more than one YAML document.
	Documents
)

func (p Problem) Error() string {
	if p.Line > 0 {
		return fmt.Sprintf("line %d: %s", p.Line, p.Msg)
	}
	return p.Msg
}

// SyntaxError is a YAML syntax error with the line it is on.
type SyntaxError struct {
	Line int    // 1-based; 0 when unknown
	Msg  string // yaml.v3's message without "yaml: line N: "
}

func (e *SyntaxError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: invalid YAML: %s", e.Line, e.Msg)
	}
	return "invalid YAML: " + e.Msg
}

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// maxSearchBytes: past this size a file gets yaml.v3's line without the search for the
// true one (each of its ~log2(lines) steps parses a prefix of the file again).
const maxSearchBytes = 128 << 10

// Parse reads exactly one YAML document into a node tree. An empty document (nothing or
// comments only) gives a nil node and no error. A syntax error is a *SyntaxError with
// the line the problem is on; a second document is a Problem of kind Documents.
func Parse(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, SyntaxErr(data, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, SyntaxErr(data, err)
	default:
		return nil, Problem{Line: extra.Line, Kind: Documents, Msg: "a second YAML document (---) is not allowed"}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return &doc, nil
}

// SyntaxErr turns yaml.v3's syntax error into a *SyntaxError on the right line.
//
// yaml.v3 reports the line where the enclosing construct started, and for parser (not
// scanner) errors one less than that: "agents:\n  - name: a\n   pop: b" says line 1
// although line 3 is wrong. The true line is the first line at which a prefix of the
// file fails the same way, so SyntaxErr looks for it from the reported line on.
func SyntaxErr(data []byte, err error) error {
	m := lineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return &SyntaxError{Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	reported, _ := strconv.Atoi(m[1])
	msg := m[2]
	if len(data) > maxSearchBytes {
		return &SyntaxError{Line: max(reported, 1), Msg: msg}
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	fails := func(n int) bool {
		perr := parseAll(bytes.Join(lines[:n], nil))
		if perr == nil {
			return false
		}
		pm := lineRE.FindStringSubmatch(perr.Error())
		return pm != nil && pm[2] == msg
	}
	// Binary search for the first failing prefix: a prefix that ends before the problem
	// parses, or fails differently (at its end); every longer one fails the same way.
	lo, hi := max(reported, 1), len(lines)
	if lo > hi || !fails(hi) {
		return &SyntaxError{Line: max(reported, 1), Msg: msg}
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return &SyntaxError{Line: lo, Msg: msg}
}

func parseAll(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

var (
	unknownRE   = regexp.MustCompile(`^field (.+) not found in type (\S+)$`)
	duplicateRE = regexp.MustCompile(`^mapping key "(.*)" already defined at line (\d+)$`)
)

// DecodeStrict decodes one YAML document into v with unknown keys refused
// (yaml.v3's KnownFields) and returns every problem found, sorted by line. Decoding
// goes on past a problem, so v holds what could be decoded. v's struct fields may be
// yaml.Node to keep a value's line and kind for the caller's Validate.
func DecodeStrict(data []byte, v any) []Problem {
	if _, err := Parse(data); err != nil {
		var p Problem
		if errors.As(err, &p) {
			return []Problem{p}
		}
		var se *SyntaxError
		errors.As(err, &se)
		return []Problem{{Line: se.Line, Kind: Syntax, Msg: "invalid YAML: " + se.Msg}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(v)
	if err == nil || errors.Is(err, io.EOF) {
		return nil
	}
	return problems(err, keysOf(reflect.TypeOf(v)))
}

// DecodeNodeStrict decodes a node into v with unknown keys refused, for UnmarshalYAML
// methods (yaml.v3's Node.Decode has no KnownFields). Lines are kept.
func DecodeNodeStrict(n *yaml.Node, v any) error {
	// Re-encode the node for a decoder of its own; its lines then count from the node's
	// first line, so problems are moved back to the file's lines (exact for block
	// style, the first line of the node for flow style).
	out, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(out))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		ps := problems(err, keysOf(reflect.TypeOf(v)))
		errs := make([]error, len(ps))
		for i, p := range ps {
			if p.Line > 0 {
				p.Line += n.Line - 1
			}
			errs[i] = p
		}
		return errors.Join(errs...)
	}
	return nil
}

// problems turns a decode error into Problems.
func problems(err error, keys map[string][]string) []Problem {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return []Problem{{Kind: Type, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	var out []Problem
	for _, e := range te.Errors {
		p := Problem{Kind: Type, Msg: e}
		if m := lineRE.FindStringSubmatch(e); m != nil {
			p.Line, _ = strconv.Atoi(m[1])
			p.Msg = m[2]
		}
		if m := unknownRE.FindStringSubmatch(p.Msg); m != nil {
			p.Kind, p.Key, p.Type = Unknown, m[1], m[2]
			p.Known = keys[m[2]]
			p.Suggest = Closest(p.Key, p.Known)
		} else if m := duplicateRE.FindStringSubmatch(p.Msg); m != nil {
			p.Kind, p.Key = Duplicate, m[1]
			p.First, _ = strconv.Atoi(m[2])
		}
		out = append(out, p)
	}
	slices.SortStableFunc(out, func(a, b Problem) int { return a.Line - b.Line })
	return out
}

// keysOf maps the name yaml.v3 gives each struct type reachable from t ("lab.Config")
// to its YAML keys, in declaration order, for suggestions.
func keysOf(t reflect.Type) map[string][]string {
	out := map[string][]string{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t == reflect.TypeOf(yaml.Node{}) {
			return
		}
		if _, done := out[t.String()]; done {
			return
		}
		out[t.String()] = nil
		var keys []string
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			keys = append(keys, name)
			walk(f.Type)
		}
		out[t.String()] = keys
	}
	if t != nil {
		walk(t)
	}
	return out
}

// Resolve follows aliases (*anchor), so that an aliased value validates like a written one.
func Resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// IsNull is true for an explicit null ("key:" with nothing after it, ~, null).
func IsNull(n *yaml.Node) bool {
	n = Resolve(n)
	return n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// KindName names a node's kind for messages: "a mapping", "a list", "a scalar",
// "empty" (null).
func KindName(n *yaml.Node) string {
	n = Resolve(n)
	if n == nil {
		return "missing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return "a scalar"
	}
	return "unknown YAML"
}

// Pair is one key and its value (aliases resolved) of a mapping node.
type Pair struct{ Key, Value *yaml.Node }

// Pairs lists a mapping's entries. Keys that are not scalars and keys given twice are
// reported through bad (with the key's node and a message) and left out.
func Pairs(m *yaml.Node, bad func(n *yaml.Node, msg string)) []Pair {
	var out []Pair
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := Resolve(m.Content[i]), Resolve(m.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			bad(k, "a key must be a plain word, not "+KindName(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			bad(k, fmt.Sprintf("key %q given twice (first on line %d)", k.Value, first))
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, Pair{k, v})
	}
	return out
}

// Closest returns the candidate within edit distance 2 of s (case ignored), if any; the
// first of equally close ones.
func Closest(s string, cands []string) string {
	best, bestD := "", 3
	ls := strings.ToLower(s)
	for _, c := range cands {
		if d := Distance(ls, strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// Distance is the Levenshtein edit distance of two strings, by bytes; keys are short,
// so the O(n*m) table is fine.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Fields decodes a mapping node strictly into a struct whose fields are yaml.Node: each
// key goes to the field its `yaml` tag names, keeping the value's line and kind for the
// caller's Validate. Unknown keys (with a suggestion), duplicate keys and keys that are
// not plain scalars are reported through bad, with the key's node, and skipped; decoding
// goes on, so one pass finds every problem. Unlike yaml.v3's KnownFields decoding, a
// duplicate key does not drop the whole mapping, and no line is lost on the way.
func Fields(m *yaml.Node, v any, bad func(n *yaml.Node, p Problem)) {
	rv := reflect.ValueOf(v).Elem()
	rt := rv.Type()
	index := map[string]int{}
	var known []string
	for i := range rt.NumField() {
		f := rt.Field(i)
		if !f.IsExported() || f.Type != reflect.TypeOf(yaml.Node{}) {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		index[name] = i
		known = append(known, name)
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, val := Resolve(m.Content[i]), Resolve(m.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			bad(k, Problem{Line: k.Line, Kind: Type, Msg: "a key must be a plain word, not " + KindName(k)})
			continue
		}
		if first, dup := seen[k.Value]; dup {
			bad(k, Problem{Line: k.Line, Kind: Duplicate, Key: k.Value, First: first,
				Msg: fmt.Sprintf("key %q given twice (first on line %d)", k.Value, first)})
			continue
		}
		seen[k.Value] = k.Line
		fi, ok := index[k.Value]
		if !ok {
			p := Problem{Line: k.Line, Kind: Unknown, Key: k.Value, Type: rt.String(), Known: known,
				Suggest: Closest(k.Value, known)}
			p.Msg = fmt.Sprintf("unknown key %q", k.Value)
			bad(k, p)
			continue
		}
		rv.Field(fi).Set(reflect.ValueOf(*val))
	}
}

// Hint is the parenthesised advice for an unknown key: `did you mean "x"?`, else the
// list of known keys.
func (p Problem) Hint() string {
	if p.Suggest != "" {
		return fmt.Sprintf("did you mean %q?", p.Suggest)
	}
	return "known: " + strings.Join(p.Known, ", ")
}
