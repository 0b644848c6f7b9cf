package inventory

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/meshtop/meshtop/internal/scrub"
	"github.com/meshtop/meshtop/internal/yamlx"
	"github.com/meshtop/meshtop/mesh"
)

// The inventory's shape. Decoding is strict (yamlx.Fields: unknown and duplicate keys
// are problems with their line, and a "did you mean"); the fields stay yaml.Node so that
// validate can say on which line a bad value is. Every problem of the file is reported
// in one go.
type fileDoc struct {
	Agents yaml.Node `yaml:"agents"`
}

// agentDoc is one entry of the agents list; its keys in the order the documentation
// lists them.
type agentDoc struct {
	Name       yaml.Node `yaml:"name"`
	Pop        yaml.Node `yaml:"pop"`
	Address    yaml.Node `yaml:"address"`
	URL        yaml.Node `yaml:"url"`
	SecretEnv  yaml.Node `yaml:"secret_env"`
	SecretFile yaml.Node `yaml:"secret_file"`
	Labels     yaml.Node `yaml:"labels"`
}

type parser struct {
	file   string
	dir    string
	port   int
	remote bool // fetched over HTTP(S): no secret references (ParseRemote)
	errs   []error
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

// present is true for a key the entry gives (even with an empty value).
func present(n *yaml.Node) bool { return n.Kind != 0 }

func (p *parser) document(doc *yaml.Node) []mesh.Agent {
	root := doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			p.errorf(root, "", "the file is empty; want a top-level \"agents:\" list")
			return nil
		}
		root = yamlx.Resolve(root.Content[0])
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(root, "", "the top level is %s; want a mapping with an \"agents:\" list", yamlx.KindName(root))
		return nil
	}
	var top fileDoc
	yamlx.Fields(root, &top, func(n *yaml.Node, pr yamlx.Problem) {
		if pr.Kind == yamlx.Unknown {
			p.errorf(n, "", "unknown key %q at the top level; the only key is \"agents\"", pr.Key)
			return
		}
		p.errorf(n, "", "%s", pr.Msg)
	})
	list := &top.Agents
	if !present(list) {
		if len(p.errs) == 0 {
			p.errorf(root, "", "no \"agents:\" list")
		}
		return nil
	}
	if yamlx.IsNull(list) {
		p.errorf(list, "", "the agents list is empty; list at least one agent")
		return nil
	}
	if list.Kind != yaml.SequenceNode {
		p.errorf(list, "", "agents is %s; want a list of agents (\"- name: ...\")", yamlx.KindName(list))
		return nil
	}
	if len(list.Content) == 0 {
		p.errorf(list, "", "the agents list is empty; list at least one agent")
		return nil
	}
	var agents []mesh.Agent
	names := map[string]int{}
	for i, item := range list.Content {
		a, nameNode, ok := p.agent(yamlx.Resolve(item), i)
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

// agent decodes and validates one list entry. nameNode is non-nil when the entry has a
// usable name (for the duplicate check); ok says the entry is valid as a whole.
func (p *parser) agent(n *yaml.Node, index int) (a mesh.Agent, nameNode *yaml.Node, ok bool) {
	who := fmt.Sprintf("agents[%d]", index)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, who, "an agent is %s; want a mapping with name, pop, address, ...", yamlx.KindName(n))
		return a, nil, false
	}
	// Name the agent in every message when its name is usable, even in messages about
	// keys that come before the name.
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := yamlx.Resolve(n.Content[i]), yamlx.Resolve(n.Content[i+1])
		if k.Value == "name" && v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
			if name := strings.TrimSpace(v.Value); name != "" && strings.IndexFunc(name, badNameRune) < 0 {
				who = fmt.Sprintf("agent %q", name)
			}
			break
		}
	}
	before := len(p.errs)
	var d agentDoc
	yamlx.Fields(n, &d, func(k *yaml.Node, pr yamlx.Problem) {
		if pr.Kind == yamlx.Unknown {
			p.errorf(k, who, "unknown key %q (%s)", pr.Key, pr.Hint())
			return
		}
		p.errorf(k, who, "%s", pr.Msg)
	})
	a, nameNode = p.validate(&d, n, who)
	return a, nameNode, len(p.errs) == before
}

// validate checks the values of one decoded entry (n is the entry, for "missing").
func (p *parser) validate(d *agentDoc, n *yaml.Node, who string) (a mesh.Agent, nameNode *yaml.Node) {
	// The name first: every later message then says which agent it is about.
	if v, has := p.str(&d.Name, "name", who); has {
		switch {
		case v == "":
			p.errorf(&d.Name, who, "name is empty")
		case strings.IndexFunc(v, badNameRune) >= 0:
			p.errorf(&d.Name, who, "name %q must not contain spaces or control characters", v)
		default:
			a.Name = v
			nameNode = &d.Name
		}
	} else if !present(&d.Name) {
		p.errorf(n, who, "name is missing")
	}

	if v, has := p.str(&d.Pop, "pop", who); has {
		switch {
		case v == "":
			p.errorf(&d.Pop, who, "pop is empty")
		case !popRE.MatchString(v):
			if popRE.MatchString(strings.ToLower(v)) {
				p.errorf(&d.Pop, who, "pop %q must be lower case (a-z, 0-9, -)", v)
			} else {
				p.errorf(&d.Pop, who, "pop %q: want a PoP code of a-z, 0-9 and -, starting with a letter or digit", v)
			}
		default:
			a.Pop = v
		}
	} else if !present(&d.Pop) {
		p.errorf(n, who, "pop is missing")
	}

	if v, has := p.str(&d.Address, "address", who); has {
		if msg := checkAddress(v); msg != "" {
			p.errorf(&d.Address, who, "%s", msg)
		} else {
			a.Address = v
		}
	} else if !present(&d.Address) {
		p.errorf(n, who, "address is missing (the IP or host name the other agents ping)")
	}

	if v, has := p.str(&d.URL, "url", who); has {
		if u, msg := checkURL(v); msg != "" {
			p.errorf(&d.URL, who, "%s", msg)
		} else {
			a.URL = u
		}
	} else if a.Address != "" {
		a.URL = "http://" + net.JoinHostPort(a.Address, strconv.Itoa(p.port))
	}

	if present(&d.Labels) {
		a.Labels = p.labels(&d.Labels, who)
	}

	envName, hasEnv := p.str(&d.SecretEnv, "secret_env", who)
	fileName, hasFile := p.str(&d.SecretFile, "secret_file", who)
	switch {
	case p.remote && (hasEnv || hasFile):
		n := &d.SecretEnv
		if hasFile {
			n = &d.SecretFile
		}
		p.errorf(n, who, "an inventory fetched from a URL may not name secrets (secret_env, secret_file): its server would choose what of this machine is sent where; agents use the shared secret (SCOUTER_SECRET or --scouter-secret-file)")
	case hasEnv && hasFile:
		p.errorf(&d.SecretFile, who, "give secret_env or secret_file, not both")
	case hasEnv:
		if s, msg := secretFromEnv(envName); msg != "" {
			p.errorf(&d.SecretEnv, who, "%s", msg)
		} else {
			a.Secret = s
			scrub.Add(s) // never shown in text from outside (secret files register themselves)
		}
	case hasFile:
		if s, msg := secretFromFile(p.dir, fileName); msg != "" {
			p.errorf(&d.SecretFile, who, "%s", msg)
		} else {
			a.Secret = s
		}
	}
	return a, nameNode
}

// str reads a string-valued key. has is false when the key is absent or unusable (the
// problem is then already reported).
func (p *parser) str(n *yaml.Node, key, who string) (string, bool) {
	if !present(n) {
		return "", false
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, who, "%s is %s; want a single value", key, yamlx.KindName(n))
		return "", false
	}
	return strings.TrimSpace(n.Value), true
}

func (p *parser) labels(n *yaml.Node, who string) map[string]string {
	if yamlx.IsNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, who, "labels is %s; want a mapping such as {region: na}", yamlx.KindName(n))
		return nil
	}
	out := map[string]string{}
	for _, kv := range yamlx.Pairs(n, func(k *yaml.Node, msg string) { p.errorf(k, who, "%s", msg) }) {
		k, v := kv.Key.Value, kv.Value
		if strings.TrimSpace(k) == "" {
			p.errorf(kv.Key, who, "a label name is empty")
			continue
		}
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			p.errorf(v, who, "label %q is %s; want a single value", k, yamlx.KindName(v))
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
