package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/meshtop/meshtop/mesh"
)

// settingsFile is a parsed config file, checked against the whole command tree. It is
// applied later, once cobra knows which command runs (settingsFile.apply).
type settingsFile struct {
	path     string
	settings []setting
}

// setting is one flag value from the file.
type setting struct {
	section []string // command path below the root, e.g. [live] or [lab up]; nil = shared
	flag    string   // flag name without dashes
	key     string   // the key as written, dotted: "live.interval", "thresholds.latency"
	values  []string // one value, or the items of a YAML list
	list    bool
	line    int
}

// The flags a config file must not set: they steer cobra itself or the file lookup.
var configReserved = map[string]string{
	"help":    "help is not a setting",
	"version": "version is not a setting",
	"config":  "the config file cannot name another config file; use --config or MESHTOP_CONFIG",
}

// parseSettings reads a config file's YAML and checks every key against the flags of the
// command tree under root. All problems are reported at once, each as "path:line: ...".
// home expands a leading "~/" in values (YAML has no shell to do it).
func parseSettings(path string, data []byte, root *cobra.Command, home string) (*settingsFile, error) {
	p := &settingsParser{path: path, root: root, home: home, seen: map[string]int{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, p.yamlError(err)
	}
	if len(doc.Content) == 0 { // empty file, or comments only
		return &settingsFile{path: path}, nil
	}
	top := resolveAlias(doc.Content[0])
	if top.Kind == yaml.ScalarNode && top.Tag == "!!null" {
		return &settingsFile{path: path}, nil
	}
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: want a mapping of settings (key: value), got %s",
			path, top.Line, kindName(top))
	}
	p.section(top, root, nil)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return &settingsFile{path: path, settings: p.out}, nil
}

type settingsParser struct {
	path string
	root *cobra.Command
	home string
	errs []error
	out  []setting
	seen map[string]int // "section\x00flag" -> line, to catch a flag set twice
}

func (p *settingsParser) errorf(line int, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s:%d: %s", p.path, line, fmt.Sprintf(format, args...)))
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError turns "yaml: line 3: did not find expected key" into "path:3: ...", the same
// shape as every other config error.
func (p *settingsParser) yamlError(err error) error {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("%s:%s: invalid YAML: %s", p.path, m[1], m[2])
	}
	return fmt.Errorf("%s: invalid YAML: %w", p.path, err)
}

// section walks one mapping: the shared top level (cmd = root, path nil) or the section of
// a command (cmd = that command).
func (p *settingsParser) section(n *yaml.Node, cmd *cobra.Command, path []string) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolveAlias(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.errorf(k.Line, "keys must be plain names, got %s", kindName(k))
			continue
		}
		name := k.Value
		key := strings.Join(append(slices.Clone(path), name), ".")
		if name == "thresholds" {
			p.thresholds(v, cmd, path, key)
			continue
		}
		if sub := subcommand(cmd, name); sub != nil && (v.Kind == yaml.MappingNode || findFlag(cmd, name) == nil) {
			if v.Kind != yaml.MappingNode {
				p.errorf(k.Line, "%q is the command `%s`: its settings go in a mapping below it, e.g.\n  %s:\n    flag-name: value",
					key, sub.CommandPath(), name)
				continue
			}
			p.section(v, sub, append(slices.Clone(path), name))
			continue
		}
		if why, ok := configReserved[name]; ok {
			p.errorf(k.Line, "%q: %s", key, why)
			continue
		}
		if looksSecret(name) {
			p.errorf(k.Line, "%q looks like a secret: meshtop never reads secrets from the config file "+
				"(it is too easy to share or commit); %s", key, secretAdvice(name))
			continue
		}
		f := findFlag(cmd, name)
		if f == nil {
			p.unknown(k.Line, key, name, cmd)
			continue
		}
		p.add(k.Line, key, name, f, v, path)
	}
}

// thresholds maps `thresholds: {latency: "250,500,1000"}` onto --thresholds-latency etc.
func (p *settingsParser) thresholds(v *yaml.Node, cmd *cobra.Command, path []string, key string) {
	if v.Kind != yaml.MappingNode {
		p.errorf(v.Line, "%q: want a mapping of metric to \"t1,t2,t3\", e.g.\n  thresholds:\n    latency: 250,500,1000", key)
		return
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, tv := v.Content[i], resolveAlias(v.Content[i+1])
		mkey := key + "." + k.Value
		m, err := mesh.ParseMetric(k.Value)
		if err != nil || k.Kind != yaml.ScalarNode {
			p.errorf(k.Line, "%q: unknown metric %q (want %s)", mkey, k.Value, mesh.MetricNames())
			continue
		}
		name := "thresholds-" + m.String()
		vals, list, ok := p.values(tv, mkey)
		if !ok {
			continue
		}
		joined := strings.Join(vals, ",")
		if list && len(vals) != 3 {
			p.errorf(tv.Line, "%q: want three numbers t1,t2,t3, got %d", mkey, len(vals))
			continue
		}
		if _, err := mesh.ParseThresholds(joined); err != nil {
			p.errorf(tv.Line, "%q: %v", mkey, err)
			continue
		}
		f := findFlag(cmd, name)
		if f == nil {
			p.errorf(k.Line, "%q: %s", mkey, noFlag(cmd, name))
			continue
		}
		p.record(k.Line, setting{section: path, flag: name, key: mkey, values: []string{joined}, line: k.Line})
	}
}

// add checks one flag value against the flag's type and records it.
func (p *settingsParser) add(line int, key, name string, f *pflag.Flag, v *yaml.Node, path []string) {
	vals, list, ok := p.values(v, key)
	if !ok {
		return
	}
	if list && !isSliceFlag(f) {
		p.errorf(v.Line, "%q: --%s takes one value, not a list", key, name)
		return
	}
	for _, s := range vals {
		if err := checkValue(f, s); err != nil {
			p.errorf(v.Line, "%q: %v", key, err)
			return
		}
	}
	p.record(line, setting{section: path, flag: name, key: key, values: vals, list: list, line: line})
}

func (p *settingsParser) record(line int, s setting) {
	id := strings.Join(s.section, " ") + "\x00" + s.flag
	if prev, dup := p.seen[id]; dup {
		p.errorf(line, "%q sets --%s again (first set on line %d)", s.key, s.flag, prev)
		return
	}
	p.seen[id] = line
	p.out = append(p.out, s)
}

// values reads a scalar or a list of scalars.
func (p *settingsParser) values(v *yaml.Node, key string) (vals []string, list, ok bool) {
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			p.errorf(v.Line, "%q has no value (remove the line to keep the default)", key)
			return nil, false, false
		}
		return []string{p.expandHome(v.Value)}, false, true
	case yaml.SequenceNode:
		for _, it := range v.Content {
			it = resolveAlias(it)
			if it.Kind != yaml.ScalarNode || it.Tag == "!!null" {
				p.errorf(it.Line, "%q: list items must be plain values, got %s", key, kindName(it))
				return nil, true, false
			}
			vals = append(vals, p.expandHome(it.Value))
		}
		return vals, true, true
	}
	p.errorf(v.Line, "%q: want a value or a list, got %s", key, kindName(v))
	return nil, false, false
}

func (p *settingsParser) expandHome(s string) string {
	if p.home != "" && strings.HasPrefix(s, "~/") {
		return filepath.Join(p.home, s[2:])
	}
	return s
}

// unknown reports a key that is neither a flag nor a command, with a "did you mean".
func (p *settingsParser) unknown(line int, key, name string, cmd *cobra.Command) {
	var cands []string
	for _, f := range flagsUnder(cmd) {
		cands = append(cands, f.Name)
	}
	for _, c := range cmd.Commands() {
		cands = append(cands, c.Name())
	}
	if cmd == p.root || cmd.Parent() == nil {
		cands = append(cands, "thresholds")
	}
	msg := fmt.Sprintf("unknown setting %q: %s", key, noFlag(cmd, name))
	if cmd.Parent() == nil {
		msg += " and no command is named " + name
	}
	if s := closest(name, cands); s != "" {
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

// looksSecret is true for keys that would hold a secret value. Names ending in -file
// point at a secret and are fine.
func looksSecret(name string) bool {
	if strings.HasSuffix(name, "-file") {
		return false
	}
	if _, ok := secretEnv[name]; ok {
		return true
	}
	l := strings.ToLower(name)
	return strings.Contains(l, "secret") || strings.Contains(l, "password")
}

func secretAdvice(name string) string {
	env := secretEnv[name]
	switch {
	case env != "" && strings.Contains(name, "secret"):
		return fmt.Sprintf("set env %s, or put the secret in a file (chmod 600) and set %s-file", env, name)
	case env != "":
		return fmt.Sprintf("set env %s", env)
	}
	return "use the environment or a *-file setting that names a file with mode 0600"
}

// subcommand finds a direct child of cmd by name or alias.
func subcommand(cmd *cobra.Command, name string) *cobra.Command {
	for _, c := range cmd.Commands() {
		if c.Name() == name || c.HasAlias(name) {
			return c
		}
	}
	return nil
}

// ownFlag looks a flag up among those declared on c itself (local or persistent).
func ownFlag(c *cobra.Command, name string) *pflag.Flag {
	if f := c.Flags().Lookup(name); f != nil {
		return f
	}
	return c.PersistentFlags().Lookup(name)
}

// findFlag finds a flag that a command's section may set: one cmd has (its own or a
// persistent flag of an ancestor) or one of its subcommands has, since a section also
// applies to the commands below it.
func findFlag(cmd *cobra.Command, name string) *pflag.Flag {
	for c := cmd.Parent(); c != nil; c = c.Parent() {
		if f := c.PersistentFlags().Lookup(name); f != nil {
			return f
		}
	}
	var found *pflag.Flag
	walkCommands(cmd, func(c *cobra.Command) {
		if found == nil {
			found = ownFlag(c, name)
		}
	})
	return found
}

// flagsUnder lists every flag declared on cmd or below it, first declaration per name.
func flagsUnder(cmd *cobra.Command) []*pflag.Flag {
	seen := map[string]bool{}
	var out []*pflag.Flag
	add := func(f *pflag.Flag) {
		if !seen[f.Name] {
			seen[f.Name] = true
			out = append(out, f)
		}
	}
	walkCommands(cmd, func(c *cobra.Command) {
		c.PersistentFlags().VisitAll(add)
		c.Flags().VisitAll(add)
	})
	return out
}

// walkCommands calls fn for cmd and every command below it, depth first.
func walkCommands(cmd *cobra.Command, fn func(*cobra.Command)) {
	fn(cmd)
	for _, c := range cmd.Commands() {
		walkCommands(c, fn)
	}
}

func isSliceFlag(f *pflag.Flag) bool {
	_, ok := f.Value.(pflag.SliceValue)
	return ok || strings.HasSuffix(f.Value.Type(), "Slice") || strings.HasSuffix(f.Value.Type(), "Array")
}

// checkValue parses a value the way the flag will, for the common flag types, so that a
// bad value is reported with its line when the file is read and not only when a command
// that has the flag runs. Custom flag types are checked when applied.
func checkValue(f *pflag.Flag, s string) error {
	var err error
	typ := strings.TrimSuffix(strings.TrimSuffix(f.Value.Type(), "Slice"), "Array")
	switch typ {
	case "bool":
		_, err = strconv.ParseBool(s)
	case "duration":
		_, err = time.ParseDuration(s)
	case "int", "int8", "int16", "int32", "int64", "count":
		_, err = strconv.ParseInt(s, 0, 64)
	case "uint", "uint8", "uint16", "uint32", "uint64":
		_, err = strconv.ParseUint(s, 0, 64)
	case "float32", "float64":
		_, err = strconv.ParseFloat(s, 64)
	default:
		return nil
	}
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) {
			err = ne.Err
		}
		return fmt.Errorf("invalid %s %q for --%s: %v", typ, s, f.Name, err)
	}
	return nil
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
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
			return "nothing (null)"
		}
		return "a value"
	}
	return "something else"
}

// closest returns the candidate within edit distance 2 of s, if any. Hand-rolled: cobra
// keeps its Levenshtein unexported and it is ten lines.
func closest(s string, cands []string) string {
	best, bestD := "", 3
	for _, c := range cands {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
