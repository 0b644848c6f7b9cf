package settings

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/meshtop/meshtop/internal/yamlx"
)

// maxFileBytes bounds a config file: settings for every flag of every command fit in a
// few KiB; a file past this is not a config file.
const maxFileBytes = 1 << 20

// File is a parsed config file, checked against the whole command tree. It is applied
// later, once cobra knows which command runs (Apply).
type File struct {
	Path     string
	Settings []Setting
}

// Setting is one flag value from the file.
type Setting struct {
	Section []string // command path below the root, e.g. [live] or [lab up]; nil = shared
	Flag    string   // flag name without dashes
	Key     string   // the key as written, dotted: "live.interval", "thresholds.latency"
	Values  []string // one value, or the items of a YAML list
	List    bool
	Line    int
}

// Load reads and checks the config file. A missing or unreadable default file is no
// error (nil file); a missing named file is.
func (s *Settings) Load(path string, explicit bool, root *cobra.Command) (*File, error) {
	if path == "" {
		return nil, nil
	}
	data, err := yamlx.ReadFile(path, maxFileBytes, "a config file")
	switch {
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		return nil, nil
	case errors.Is(err, fs.ErrPermission) && !explicit:
		// The default location of another user's HOME (sudo -u without -H, a service
		// account): not ours to read, and nobody asked for it. Say so and go on.
		fmt.Fprintf(s.warn(), "meshtop: skipping config file %s: not readable by this user (name one with --config)\n", path)
		return nil, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("config file %s does not exist (write a commented one with `meshtop config example > %s`)", path, path)
	case err != nil:
		return nil, fmt.Errorf("read config file: %w", err)
	}
	// A file anyone can write could point --influx-url (and so INFLUX_PASSWORD) or a
	// secret file at the writer's choice: refuse it, as ssh refuses such a config.
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o002 != 0 {
		return nil, fmt.Errorf("config file %s is writable by every user (mode %04o): "+
			"anyone could redirect meshtop and its credentials; fix with chmod o-w %s",
			path, fi.Mode().Perm(), path)
	}
	return s.Parse(path, data, root)
}

// Apply sets the flags of cmd that are still unset (not on the command line, not from
// the environment) from the file. For each flag the most specific section wins:
// `live.interval` over a shared `interval`. Keys that belong to other commands are
// skipped.
func (f *File) Apply(cmd *cobra.Command, fromEnv map[string]bool) error {
	chain := CommandChain(cmd)
	best := map[string]Setting{}
	for _, st := range f.Settings {
		if len(st.Section) > len(chain) || !slices.Equal(st.Section, chain[:len(st.Section)]) {
			continue
		}
		if cur, ok := best[st.Flag]; ok && len(cur.Section) >= len(st.Section) {
			continue
		}
		best[st.Flag] = st
	}
	names := make([]string, 0, len(best))
	for n := range best {
		names = append(names, n)
	}
	slices.Sort(names)
	fset := cmd.Flags()
	for _, name := range names {
		st := best[name]
		fl := fset.Lookup(name)
		if fl == nil || fl.Changed || fromEnv[name] || peerChanged(fset, fl) {
			continue
		}
		origin := fmt.Sprintf("config %s:%d", f.Path, st.Line)
		if err := setFlag(fl, st.Values, st.List, origin); err != nil {
			return fmt.Errorf("%s:%d: %q: %w", f.Path, st.Line, st.Key, err)
		}
	}
	return nil
}

// Parse reads a config file's YAML and checks every key against the flags of the
// command tree under root. All problems are reported at once, each as "path:line: ...".
// HOME (from Env) expands a leading "~/" in values (YAML has no shell to do it).
func (s *Settings) Parse(path string, data []byte, root *cobra.Command) (*File, error) {
	p := &parser{s: s, path: path, root: root, home: s.getenv("HOME"), seen: map[string]int{}}
	doc, err := yamlx.Parse(data)
	if err != nil {
		var se *yamlx.SyntaxError
		if errors.As(err, &se) && se.Line > 0 {
			return nil, fmt.Errorf("%s:%d: invalid YAML: %s", path, se.Line, se.Msg)
		}
		var pr yamlx.Problem
		if errors.As(err, &pr) {
			return nil, fmt.Errorf("%s:%d: %s", path, pr.Line, pr.Msg)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if doc == nil { // empty file, or comments only
		return &File{Path: path}, nil
	}
	top := yamlx.Resolve(doc.Content[0])
	if yamlx.IsNull(top) {
		return &File{Path: path}, nil
	}
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: want a mapping of settings (key: value), got %s",
			path, top.Line, yamlx.KindName(top))
	}
	p.section(top, root, nil)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return &File{Path: path, Settings: p.out}, nil
}

type parser struct {
	s    *Settings
	path string
	root *cobra.Command
	home string
	errs []error
	out  []Setting
	seen map[string]int // "section\x00flag" -> line, to catch a flag set twice
}

// maxProblems bounds the problems reported for one file, so that a wrong file (a
// dashboard, a log) gives a readable answer.
const maxProblems = 50

func (p *parser) errorf(line int, format string, args ...any) {
	switch {
	case len(p.errs) == maxProblems:
		p.errs = append(p.errs, fmt.Errorf("%s: too many problems; stopping here", p.path))
		return
	case len(p.errs) > maxProblems:
		return
	}
	p.errs = append(p.errs, fmt.Errorf("%s:%d: %s", p.path, line, fmt.Sprintf(format, args...)))
}

func (p *parser) group(name string) *Group {
	for i := range p.s.Groups {
		if p.s.Groups[i].Key == name {
			return &p.s.Groups[i]
		}
	}
	return nil
}

// section walks one mapping: the shared top level (cmd = root, path nil) or the section of
// a command (cmd = that command).
func (p *parser) section(n *yaml.Node, cmd *cobra.Command, path []string) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], yamlx.Resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.errorf(k.Line, "keys must be plain names, got %s", yamlx.KindName(k))
			continue
		}
		name := k.Value
		key := strings.Join(append(slices.Clone(path), name), ".")
		if g := p.group(name); g != nil {
			p.groupValues(g, v, cmd, path, key)
			continue
		}
		if sub := Subcommand(cmd, name); sub != nil && (v.Kind == yaml.MappingNode || FindFlag(cmd, name) == nil) {
			if v.Kind != yaml.MappingNode {
				p.errorf(k.Line, "%q is the command `%s`: its settings go in a mapping below it, e.g.\n  %s:\n    flag-name: value",
					key, sub.CommandPath(), name)
				continue
			}
			p.section(v, sub, append(slices.Clone(path), name))
			continue
		}
		if why, ok := p.s.Reserved[name]; ok {
			p.errorf(k.Line, "%q: %s", key, why)
			continue
		}
		if p.s.LooksSecret(name) {
			p.errorf(k.Line, "%q looks like a secret: meshtop never reads secrets from the config file "+
				"(it is too easy to share or commit); %s", key, p.s.SecretAdvice(name))
			continue
		}
		f := FindFlag(cmd, name)
		if f == nil {
			p.unknown(k.Line, key, name, cmd)
			continue
		}
		p.add(k.Line, key, name, f, v, path)
	}
}

// groupValues maps e.g. `thresholds: {latency: "250,500,1000"}` onto --thresholds-latency.
func (p *parser) groupValues(g *Group, v *yaml.Node, cmd *cobra.Command, path []string, key string) {
	if v.Kind != yaml.MappingNode {
		p.errorf(v.Line, "%q: %s", key, g.Want)
		return
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, tv := v.Content[i], yamlx.Resolve(v.Content[i+1])
		mkey := key + "." + k.Value
		name, ok := g.Flag(k.Value)
		if !ok || k.Kind != yaml.ScalarNode {
			p.errorf(k.Line, "%q: %s", mkey, g.Unknown(k.Value))
			continue
		}
		vals, list, ok := p.values(tv, mkey)
		if !ok {
			continue
		}
		joined := strings.Join(vals, ",")
		if list && g.Items > 0 && len(vals) != g.Items {
			p.errorf(tv.Line, "%q: %s, got %d", mkey, g.ItemsWant, len(vals))
			continue
		}
		if g.Check != nil {
			if err := g.Check(joined); err != nil {
				p.errorf(tv.Line, "%q: %v", mkey, err)
				continue
			}
		}
		f := FindFlag(cmd, name)
		if f == nil {
			p.errorf(k.Line, "%q: %s", mkey, noFlag(cmd, name))
			continue
		}
		p.record(k.Line, Setting{Section: path, Flag: name, Key: mkey, Values: []string{joined}, Line: k.Line})
	}
}

// add checks one flag value against the flag's type and checks, and records it.
func (p *parser) add(line int, key, name string, f *pflag.Flag, v *yaml.Node, path []string) {
	vals, list, ok := p.values(v, key)
	if !ok {
		return
	}
	if list && !IsSliceFlag(f) {
		p.errorf(v.Line, "%q: --%s takes one value, not a list", key, name)
		return
	}
	for _, s := range vals {
		if err := p.s.checkValue(f, s); err != nil {
			p.errorf(v.Line, "%q: %v", key, err)
			return
		}
	}
	p.record(line, Setting{Section: path, Flag: name, Key: key, Values: vals, List: list, Line: line})
}

func (p *parser) record(line int, s Setting) {
	id := strings.Join(s.Section, " ") + "\x00" + s.Flag
	if prev, dup := p.seen[id]; dup {
		p.errorf(line, "%q sets --%s again (first set on line %d)", s.Key, s.Flag, prev)
		return
	}
	p.seen[id] = line
	p.out = append(p.out, s)
}

// values reads a scalar or a list of scalars.
func (p *parser) values(v *yaml.Node, key string) (vals []string, list, ok bool) {
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			p.errorf(v.Line, "%q has no value (remove the line to keep the default)", key)
			return nil, false, false
		}
		return []string{p.expandHome(v.Value)}, false, true
	case yaml.SequenceNode:
		for _, it := range v.Content {
			it = yamlx.Resolve(it)
			if it.Kind != yaml.ScalarNode || it.Tag == "!!null" {
				p.errorf(it.Line, "%q: list items must be plain values, got %s", key, yamlx.KindName(it))
				return nil, true, false
			}
			vals = append(vals, p.expandHome(it.Value))
		}
		return vals, true, true
	}
	p.errorf(v.Line, "%q: want a value or a list, got %s", key, yamlx.KindName(v))
	return nil, false, false
}

func (p *parser) expandHome(s string) string {
	if p.home != "" && strings.HasPrefix(s, "~/") {
		return filepath.Join(p.home, s[2:])
	}
	return s
}

// unknown reports a key that is neither a flag nor a command, with a "did you mean".
func (p *parser) unknown(line int, key, name string, cmd *cobra.Command) {
	var cands []string
	for _, f := range FlagsUnder(cmd) {
		cands = append(cands, f.Name)
	}
	for _, c := range cmd.Commands() {
		cands = append(cands, c.Name())
	}
	if cmd == p.root || cmd.Parent() == nil {
		for _, g := range p.s.Groups {
			cands = append(cands, g.Key)
		}
	}
	msg := fmt.Sprintf("unknown setting %q: %s", key, noFlag(cmd, name))
	if cmd.Parent() == nil {
		msg += " and no command is named " + name
	}
	if s := yamlx.Closest(name, cands); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	p.errorf(line, "%s", msg)
}

// noFlag says that the scope of a section lacks a flag.
func noFlag(cmd *cobra.Command, name string) string {
	if cmd.Parent() == nil {
		return "no meshtop command has a --" + name + " flag"
	}
	return "`" + cmd.CommandPath() + "` has no --" + name + " flag"
}

// LooksSecret is true for keys that would hold a secret value. Names ending in -file
// point at a secret and are fine.
func (s *Settings) LooksSecret(name string) bool {
	if strings.HasSuffix(name, "-file") {
		return false
	}
	if _, ok := s.Secrets[name]; ok {
		return true
	}
	l := strings.ToLower(name)
	return strings.Contains(l, "secret") || strings.Contains(l, "password")
}

// SecretAdvice says where a secret goes instead of the config file. Every flag it names
// exists (SecretFlags; a test walks the command tree).
func (s *Settings) SecretAdvice(name string) string {
	env := s.Secrets[name]
	file := s.SecretFlags[name]
	switch {
	case env != "" && file != "":
		return fmt.Sprintf("set env %s, or put the secret in a file (chmod 600) and set %s", env, file)
	case env != "":
		return fmt.Sprintf("set env %s", env)
	}
	return "use the environment or a *-file setting that names a file with mode 0600"
}

// checkValue parses a value the way the flag will, for the common flag types, and runs
// the flag's check, so that a bad value is reported with its line when the file is read
// and not only when a command that has the flag runs. Custom flag types are checked
// when applied.
func (s *Settings) checkValue(f *pflag.Flag, v string) error {
	var err error
	typ := strings.TrimSuffix(strings.TrimSuffix(f.Value.Type(), "Slice"), "Array")
	switch typ {
	case "bool":
		_, err = strconv.ParseBool(v)
	case "duration":
		_, err = time.ParseDuration(v)
	case "int", "int8", "int16", "int32", "int64", "count":
		_, err = strconv.ParseInt(v, 0, 64)
	case "uint", "uint8", "uint16", "uint32", "uint64":
		_, err = strconv.ParseUint(v, 0, 64)
	case "float32", "float64":
		_, err = strconv.ParseFloat(v, 64)
	}
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) {
			err = ne.Err
		}
		return fmt.Errorf("invalid %s %q for --%s: %v", typ, v, f.Name, err)
	}
	if u, err := url.Parse(v); err == nil && u.User != nil && u.Host != "" {
		// Never echo the value: it holds the password.
		advice := s.Credentials[f.Name]
		if advice == "" {
			advice = "give credentials through the environment"
		}
		return fmt.Errorf("--%s: the URL carries a user name or password, which do not belong in a "+
			"config file; remove them from the URL and %s", f.Name, advice)
	}
	// The default is valid by definition (fail-on: "" means off).
	if check := s.Checks[f.Name]; check != nil && v != f.DefValue {
		if err := check(v); err != nil {
			return fmt.Errorf("invalid value for --%s: %w", f.Name, err)
		}
	}
	return nil
}
