package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/settings"
)

// The example is generated from the command tree, not written by hand, so it lists every
// flag of every command (including ones added after this file) with its real default,
// and can never name a setting that the parser would reject.
//
// Layout rule: a commented-out setting is "#" directly followed by the YAML line ("#key:",
// "#  key:" inside a section); prose is "# " followed by text. Deleting the first "#" of a
// setting line leaves valid YAML with the right indentation.

const exampleHeader = `# meshtop configuration file.
#
# Location: $XDG_CONFIG_HOME/meshtop/config.yaml (default
# ~/.config/meshtop/config.yaml), or the file named by --config or
# $MESHTOP_CONFIG.
#
# Precedence: command-line flag > environment variable > this file > default.
#
# Keys are flag names without the dashes. Top-level keys apply to every command
# that has the flag; a section named after a command applies to that command
# (and the commands below it) and wins over the top level. Unknown keys are
# errors, reported with their line. Values may start with ~/ for your home
# directory; list flags take a YAML list.
#
# Secrets are never read from this file: set SCOUTER_SECRET,
# SP_API_CLIENT_SECRET, INFLUX_USERNAME and INFLUX_PASSWORD in the environment,
# or point a *-secret-file setting at a file only you can read (chmod 600).
#
# Every setting below is commented out and shows its default: delete the "#"
# at the start of a line (and of its section's line) to change it.
`

// exampleSkip are flags that are not settings.
var exampleSkip = map[string]bool{"help": true, "version": true, "config": true}

// writeExample prints a commented config file covering every flag under root.
func writeExample(w io.Writer, root *cobra.Command) error {
	var b strings.Builder
	b.WriteString(exampleHeader)

	// A flag declared by two or more commands is shared (top level); one declared by a
	// single command goes to that command's section.
	users := map[string][]*cobra.Command{}
	first := map[string]*pflag.Flag{}
	walkCommands(root, func(c *cobra.Command) {
		if c == root || c.Hidden || skipsConfig(c) {
			return
		}
		seen := map[string]bool{}
		visit := func(f *pflag.Flag) {
			if !exampleFlag(f) || seen[f.Name] {
				return
			}
			seen[f.Name] = true
			users[f.Name] = append(users[f.Name], c)
			if first[f.Name] == nil {
				first[f.Name] = f
			}
		}
		c.PersistentFlags().VisitAll(visit)
		c.Flags().VisitAll(visit)
	})

	var shared []string
	for name, cs := range users {
		if len(cs) > 1 && !isThresholdFlag(name) {
			shared = append(shared, name)
		}
	}
	slices.Sort(shared)
	if len(shared) > 0 || hasThresholdFlags(first) {
		b.WriteString("\n# Shared settings\n")
	}
	for _, name := range shared {
		var used []string
		for _, c := range users[name] {
			used = append(used, strings.TrimPrefix(c.CommandPath(), root.Name()+" "))
		}
		writeExampleFlag(&b, first[name], 0, "Used by: "+strings.Join(used, ", ")+".")
	}
	if hasThresholdFlags(first) {
		b.WriteString("\n# Colour thresholds per metric, \"t1,t2,t3\":\n" +
			"# value < t1 green, < t2 yellow, < t3 orange, else red.\n#thresholds:\n")
		for _, m := range mesh.Metrics {
			if f := first["thresholds-"+m.String()]; f != nil {
				fmt.Fprintf(&b, "#  %s: %s\n", m.String(), f.DefValue)
			}
		}
	}

	isShared := func(name string) bool { return slices.Contains(shared, name) || isThresholdFlag(name) }
	var section func(c *cobra.Command, depth int)
	section = func(c *cobra.Command, depth int) {
		var own []*pflag.Flag
		visit := func(f *pflag.Flag) {
			if exampleFlag(f) && !isShared(f.Name) && len(users[f.Name]) == 1 && users[f.Name][0] == c &&
				!slices.ContainsFunc(own, func(o *pflag.Flag) bool { return o.Name == f.Name }) {
				own = append(own, f)
			}
		}
		c.PersistentFlags().VisitAll(visit)
		c.Flags().VisitAll(visit)
		var subs []*cobra.Command
		for _, s := range c.Commands() {
			if !s.Hidden && s.Annotations[noConfigAnnotation] != "true" && hasExampleFlags(s, users) {
				subs = append(subs, s)
			}
		}
		if len(own) == 0 && len(subs) == 0 {
			return
		}
		ind := strings.Repeat("  ", depth)
		if depth == 0 {
			fmt.Fprintf(&b, "\n# %s: %s\n", c.CommandPath(), c.Short)
		}
		fmt.Fprintf(&b, "#%s%s:\n", ind, c.Name())
		for _, f := range own {
			writeExampleFlag(&b, f, depth+1, "")
		}
		for _, s := range subs {
			section(s, depth+1)
		}
	}
	for _, c := range root.Commands() {
		if !c.Hidden && c.Annotations[noConfigAnnotation] != "true" {
			section(c, 0)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// hasExampleFlags is true when c or a command below it owns a flag of the example.
func hasExampleFlags(c *cobra.Command, users map[string][]*cobra.Command) bool {
	found := false
	walkCommands(c, func(x *cobra.Command) {
		for _, cs := range users {
			if len(cs) == 1 && cs[0] == x {
				found = true
			}
		}
	})
	return found
}

func exampleFlag(f *pflag.Flag) bool {
	return !exampleSkip[f.Name] && !f.Hidden && f.Deprecated == "" && !looksSecret(f.Name)
}

func isThresholdFlag(name string) bool {
	m, err := mesh.ParseMetric(strings.TrimPrefix(name, "thresholds-"))
	return err == nil && strings.HasPrefix(name, "thresholds-") && name == "thresholds-"+m.String()
}

func hasThresholdFlags(first map[string]*pflag.Flag) bool {
	for name := range first {
		if isThresholdFlag(name) {
			return true
		}
	}
	return false
}

// writeExampleFlag writes the flag's help as prose and "#key: default" below it.
func writeExampleFlag(b *strings.Builder, f *pflag.Flag, depth int, note string) {
	ind := strings.Repeat("  ", depth)
	_, usage := pflag.UnquoteUsage(f)
	text := strings.TrimSpace(usage)
	if text != "" {
		// Capitalise prose, not identifiers such as "public_ip tag".
		if first, _, _ := strings.Cut(text, " "); !strings.ContainsAny(first, "_-.") {
			text = strings.ToUpper(text[:1]) + text[1:]
		}
		if !strings.HasSuffix(text, ".") {
			text += "."
		}
	}
	if note != "" {
		text += " " + note
	}
	if depth == 0 {
		b.WriteString("\n")
	}
	for _, line := range wrapWords(text, helpWidth-len(ind)-3) {
		if depth == 0 {
			fmt.Fprintf(b, "# %s\n", line)
		} else {
			fmt.Fprintf(b, "#%s# %s\n", ind, line)
		}
	}
	v := exampleValue(f)
	switch {
	case v != "":
		fmt.Fprintf(b, "#%s%s: %s\n", ind, f.Name, v)
	case depth == 0: // no default to show: prose, so that uncommenting keeps it a comment
		fmt.Fprintf(b, "# %s: (no default)\n", f.Name)
	default:
		fmt.Fprintf(b, "#%s# %s: (no default)\n", ind, f.Name)
	}
}

// exampleValue renders a flag's default as YAML.
func exampleValue(f *pflag.Flag) string {
	if sv, ok := f.Value.(pflag.SliceValue); ok && settings.IsSliceFlag(f) {
		items := sv.GetSlice()
		if f.DefValue == "[]" || f.DefValue == "" {
			items = nil
		}
		q := make([]string, len(items))
		for i, it := range items {
			q[i] = yamlScalar(it)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	switch {
	case f.Value.Type() == "string":
		return yamlScalar(f.DefValue)
	case f.DefValue == "<nil>" || f.DefValue == "":
		return "" // e.g. an IP flag without default: no value would parse back
	}
	return f.DefValue
}

func yamlScalar(s string) string {
	if s == "" {
		return `""`
	}
	out, err := yaml.Marshal(s)
	if err != nil || strings.Count(string(out), "\n") > 1 {
		return strconv.Quote(s) // a YAML double-quoted string reads Go escapes alike
	}
	return strings.TrimSuffix(string(out), "\n")
}

// wrapWords splits text into lines of at most width columns (longer words stay whole).
func wrapWords(text string, width int) []string {
	var lines []string
	cur := ""
	for _, w := range strings.Fields(text) {
		if cur != "" && len(cur)+1+len(w) > width {
			lines = append(lines, cur)
			cur = ""
		}
		if cur != "" {
			cur += " "
		}
		cur += w
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}
