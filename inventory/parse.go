package inventory

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/meshtop/meshtop/mesh"
)

// Keys of one agent entry, in the order the documentation lists them.
var agentKeys = []string{"name", "pop", "address", "url", "secret_env", "secret_file", "labels"}

// parser walks the node tree by hand rather than decoding into a struct: that way every
// problem (unknown key, duplicate key, wrong type, bad value) carries the line of the
// offending node, and all of them are reported in one go.
type parser struct {
	file string
	dir  string
	port int
	errs []error
}

func (p *parser) errorf(n *yaml.Node, agent, format string, args ...any) {
	if len(p.errs) == maxErrors {
		p.errs = append(p.errs, &Error{File: p.file, Msg: "too many problems; stopping here"})
	}
	if len(p.errs) > maxErrors {
		return
	}
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Agent: agent, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) joined() error {
	if len(p.errs) == 1 {
		return p.errs[0]
	}
	return errors.Join(p.errs...)
}

// resolve follows aliases (*anchor) so that anchored entries validate like written ones.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
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

// pairs returns the key/value pairs of a mapping node, reporting duplicate keys.
func (p *parser) pairs(m *yaml.Node, agent string) [][2]*yaml.Node {
	var out [][2]*yaml.Node
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := resolve(m.Content[i]), resolve(m.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, agent, "a key must be a plain word, not %s", kindName(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.errorf(k, agent, "key %q given twice (first on line %d)", k.Value, first)
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out
}

func (p *parser) document(doc *yaml.Node) []mesh.Agent {
	root := doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			p.errorf(root, "", "the file is empty; want a top-level \"agents:\" list")
			return nil
		}
		root = resolve(root.Content[0])
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(root, "", "the top level is %s; want a mapping with an \"agents:\" list", kindName(root))
		return nil
	}
	var list *yaml.Node
	for _, kv := range p.pairs(root, "") {
		if kv[0].Value != "agents" {
			p.errorf(kv[0], "", "unknown key %q at the top level; the only key is \"agents\"", kv[0].Value)
			continue
		}
		list = kv[1]
	}
	if list == nil {
		if len(p.errs) == 0 {
			p.errorf(root, "", "no \"agents:\" list")
		}
		return nil
	}
	if list.Kind == yaml.ScalarNode && list.Tag == "!!null" {
		p.errorf(list, "", "the agents list is empty; list at least one agent")
		return nil
	}
	if list.Kind != yaml.SequenceNode {
		p.errorf(list, "", "agents is %s; want a list of agents (\"- name: ...\")", kindName(list))
		return nil
	}
	if len(list.Content) == 0 {
		p.errorf(list, "", "the agents list is empty; list at least one agent")
		return nil
	}
	var agents []mesh.Agent
	names := map[string]int{}
	for i, item := range list.Content {
		a, nameNode, ok := p.agent(resolve(item), i)
		if nameNode != nil {
			if first, dup := names[a.Name]; dup {
				p.errorf(nameNode, fmt.Sprintf("agent %q", a.Name), "name used twice (first on line %d); names must be unique, they become src_slug", first)
				ok = false
			} else {
				names[a.Name] = nameNode.Line
			}
		}
		if ok {
			agents = append(agents, a)
		}
	}
	return agents
}

// agent validates one list entry. nameNode is non-nil when the entry has a usable name
// (for the duplicate check); ok says the entry is valid as a whole.
func (p *parser) agent(n *yaml.Node, index int) (a mesh.Agent, nameNode *yaml.Node, ok bool) {
	who := fmt.Sprintf("agents[%d]", index)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, who, "an agent is %s; want a mapping with name, pop, address, ...", kindName(n))
		return a, nil, false
	}
	// Name the agent in every message when its name is usable, even in messages about
	// keys that come before the name.
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Value == "name" && v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
			if name := strings.TrimSpace(v.Value); name != "" && strings.IndexFunc(name, badNameRune) < 0 {
				who = fmt.Sprintf("agent %q", name)
			}
			break
		}
	}
	before := len(p.errs)
	fields := map[string]*yaml.Node{}
	for _, kv := range p.pairs(n, who) {
		k := kv[0].Value
		if !slices.Contains(agentKeys, k) {
			p.errorf(kv[0], who, "unknown key %q (%s)", k, suggest(k))
			continue
		}
		fields[k] = kv[1]
	}
	// The name first: every later message then says which agent it is about.
	if v, has := p.str(fields, "name", who); has {
		switch {
		case v == "":
			p.errorf(fields["name"], who, "name is empty")
		case strings.IndexFunc(v, badNameRune) >= 0:
			p.errorf(fields["name"], who, "name %q must not contain spaces or control characters", v)
		default:
			a.Name = v
			nameNode = fields["name"]
		}
	} else if _, present := fields["name"]; !present {
		p.errorf(n, who, "name is missing")
	}

	if v, has := p.str(fields, "pop", who); has {
		switch {
		case v == "":
			p.errorf(fields["pop"], who, "pop is empty")
		case !popRE.MatchString(v):
			if popRE.MatchString(strings.ToLower(v)) {
				p.errorf(fields["pop"], who, "pop %q must be lower case (a-z, 0-9, -)", v)
			} else {
				p.errorf(fields["pop"], who, "pop %q: want a PoP code of a-z, 0-9 and -, starting with a letter or digit", v)
			}
		default:
			a.Pop = v
		}
	} else if _, present := fields["pop"]; !present {
		p.errorf(n, who, "pop is missing")
	}

	if v, has := p.str(fields, "address", who); has {
		if msg := checkAddress(v); msg != "" {
			p.errorf(fields["address"], who, "%s", msg)
		} else {
			a.Address = v
		}
	} else if _, present := fields["address"]; !present {
		p.errorf(n, who, "address is missing (the IP or host name the other agents ping)")
	}

	if v, has := p.str(fields, "url", who); has {
		if u, msg := checkURL(v); msg != "" {
			p.errorf(fields["url"], who, "%s", msg)
		} else {
			a.URL = u
		}
	} else if a.Address != "" {
		a.URL = "http://" + net.JoinHostPort(a.Address, strconv.Itoa(p.port))
	}

	if lab, present := fields["labels"]; present {
		a.Labels = p.labels(lab, who)
	}

	envName, hasEnv := p.str(fields, "secret_env", who)
	fileName, hasFile := p.str(fields, "secret_file", who)
	switch {
	case hasEnv && hasFile:
		p.errorf(fields["secret_file"], who, "give secret_env or secret_file, not both")
	case hasEnv:
		if s, msg := secretFromEnv(envName); msg != "" {
			p.errorf(fields["secret_env"], who, "%s", msg)
		} else {
			a.Secret = s
		}
	case hasFile:
		if s, msg := secretFromFile(p.dir, fileName); msg != "" {
			p.errorf(fields["secret_file"], who, "%s", msg)
		} else {
			a.Secret = s
		}
	}
	return a, nameNode, len(p.errs) == before
}

// str reads a string-valued key. has is false when the key is absent or unusable (the
// problem is then already reported).
func (p *parser) str(fields map[string]*yaml.Node, key, who string) (string, bool) {
	n, present := fields[key]
	if !present {
		return "", false
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, who, "%s is %s; want a single value", key, kindName(n))
		return "", false
	}
	return strings.TrimSpace(n.Value), true
}

func (p *parser) labels(n *yaml.Node, who string) map[string]string {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, who, "labels is %s; want a mapping such as {region: na}", kindName(n))
		return nil
	}
	out := map[string]string{}
	for _, kv := range p.pairs(n, who) {
		k, v := kv[0].Value, kv[1]
		if strings.TrimSpace(k) == "" {
			p.errorf(kv[0], who, "a label name is empty")
			continue
		}
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			p.errorf(v, who, "label %q is %s; want a single value", k, kindName(v))
			continue
		}
		out[k] = v.Value
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func badNameRune(r rune) bool {
	return r <= ' ' || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x2028 || r == 0x2029 || r == 0xa0
}

// suggest names the known key closest to a misspelt one, else lists them all.
func suggest(k string) string {
	best, bestD := "", 3
	for _, known := range agentKeys {
		if d := distance(strings.ToLower(k), known); d < bestD {
			best, bestD = known, d
		}
	}
	if best == "" {
		return "known: " + strings.Join(agentKeys, ", ")
	}
	return fmt.Sprintf("did you mean %q?", best)
}

// distance is the Levenshtein edit distance; keys are short, so the O(n*m) table is fine.
func distance(a, b string) int {
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
