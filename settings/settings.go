// Package settings resolves every flag of a cobra command tree from four places, highest
// first: the command line, the environment (Bindings), a YAML config file, the flag's
// default. A command only declares flags and reads their values; it never looks at the
// environment or the file itself (secrets excepted: they are never flags).
//
// What is ours on top of cobra and pflag: env bindings keyed by command path and flag,
// a config file checked against the whole command tree (every problem reported at once,
// each as "file:line: ..." with a "did you mean"), values checked when the file is read
// (types, enumerations, URLs without credentials), secrets refused in the file, and the
// origin of every value ("env SP_STACK_ID", "config FILE:LINE") for messages and
// `meshtop config show`.
//
// Config file layout: top-level keys are flag names shared by every command that has the
// flag; a top-level key that names a command holds a mapping that applies to that command
// and the commands below it (more specific wins). A Group maps a key onto a family of
// flags (thresholds: {latency: ...} onto --thresholds-latency).
//
//	inventory: ~/meshtop/agents.yaml
//	thresholds: {latency: "250,500,1000"}
//	live:
//	  interval: 30s
package settings

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

const (
	// NoConfigAnnotation ("true") on a command skips env and config resolution for it and
	// the commands below it: commands that must work with a broken config file (config,
	// version, completion, help).
	NoConfigAnnotation = "meshtop/no-config"
	// originAnnotation on a flag records where a value not typed on the command line came
	// from ("env SP_STACK_ID", "config /path:12"), for Origin.
	originAnnotation = "meshtop/origin"
	// exclusiveAnnotation on a flag lists its mutually exclusive groups (MarkExclusive),
	// space-separated flag names per group.
	exclusiveAnnotation = "meshtop/exclusive"
)

// LookupEnv is os.LookupEnv; tests pass a map.
type LookupEnv func(string) (string, bool)

// Settings is the configuration of the resolver: which env variables bind which flags,
// which keys are secrets, and how values are checked.
type Settings struct {
	// Env looks variables up; nil means os.LookupEnv.
	Env LookupEnv
	// Bindings are the environment variables of flags.
	Bindings Bindings
	// Secrets maps a setting name that holds a secret to the env variable to use instead;
	// the file refuses these keys (and any key that mentions secret or password).
	Secrets map[string]string
	// SecretFlags maps a secret setting name to the flag that reads it from a file, for
	// the advice in the refusal ("scouter-secret" -> "scouter-secret-file").
	SecretFlags map[string]string
	// Reserved are keys the file must not set, with the reason.
	Reserved map[string]string
	// Groups map a key of the file onto a family of flags.
	Groups []Group
	// Checks validate a flag's value when the file is read, by flag name, so that `config
	// check` reports a bad value with its line and not only when the command runs.
	Checks map[string]func(string) error
	// Credentials maps a flag whose value is a URL to the advice given when the URL
	// carries a user or password (URLs with credentials are refused in the file). Every
	// other value that parses as a URL with credentials is refused with general advice.
	Credentials map[string]string
	// Warn receives notes (an unreadable default file skipped); nil means os.Stderr.
	Warn io.Writer
}

// Group maps `Key: {sub: value}` in the file onto flags: `thresholds: {latency: x}` sets
// --thresholds-latency.
type Group struct {
	Key string
	// Flag names the flag for a sub-key, or false when the sub-key is unknown.
	Flag func(sub string) (flag string, ok bool)
	// Unknown says what is wrong with a sub-key Flag does not know.
	Unknown func(sub string) string
	// Want describes a value and gives an example, for a Key that is not a mapping.
	Want string
	// Items, when set, is the number of items a list value must have (ItemsWant says so
	// in words: "want three numbers t1,t2,t3"); the items are joined with commas.
	Items     int
	ItemsWant string
	// Check validates the (joined) value.
	Check func(string) error
}

func (s *Settings) env() LookupEnv {
	if s.Env == nil {
		return os.LookupEnv
	}
	return s.Env
}

func (s *Settings) getenv(name string) string {
	v, _ := s.env()(name)
	return v
}

func (s *Settings) warn() io.Writer {
	if s.Warn == nil {
		return os.Stderr
	}
	return s.Warn
}

// Resolve fills every flag of cmd that the user did not set on the command line from the
// environment, then from the config file (Path).
func (s *Settings) Resolve(cmd *cobra.Command) error {
	if Skips(cmd) {
		return nil
	}
	path, explicit := s.Path(cmd)
	return s.ResolveFrom(cmd, path, explicit)
}

// ResolveFrom is Resolve with the config file already chosen (`config show` chooses it
// from its own --config, not the target command's).
func (s *Settings) ResolveFrom(cmd *cobra.Command, path string, explicit bool) error {
	fromEnv, err := s.applyEnv(cmd)
	if err != nil {
		return err
	}
	file, err := s.Load(path, explicit, cmd.Root())
	if err != nil || file == nil {
		return err
	}
	return file.Apply(cmd, fromEnv)
}

// Path picks the config file: --config, else $MESHTOP_CONFIG, else
// $XDG_CONFIG_HOME/meshtop/config.yaml, else ~/.config/meshtop/config.yaml (on macOS too:
// terminal users expect ~/.config, not ~/Library). explicit means the user named the
// file, so it must exist.
func (s *Settings) Path(cmd *cobra.Command) (path string, explicit bool) {
	if f := cmd.Flags().Lookup("config"); f != nil && f.Changed && f.Value.String() != "" {
		return f.Value.String(), true
	}
	if p := s.getenv("MESHTOP_CONFIG"); p != "" {
		return p, true
	}
	return s.DefaultPath(), false
}

// DefaultPath is where meshtop looks when no file is named; "" when neither
// XDG_CONFIG_HOME nor HOME is set.
func (s *Settings) DefaultPath() string {
	// The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
	if x := s.getenv("XDG_CONFIG_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "meshtop", "config.yaml")
	}
	if h := s.getenv("HOME"); h != "" {
		return filepath.Join(h, ".config", "meshtop", "config.yaml")
	}
	return ""
}

// Skips is true for commands (or children of commands) annotated NoConfigAnnotation,
// and for cobra's completion request commands.
func Skips(cmd *cobra.Command) bool {
	for c := cmd; c != nil; c = c.Parent() {
		if c.Annotations[NoConfigAnnotation] == "true" {
			return true
		}
	}
	return cmd.Name() == cobra.ShellCompRequestCmd || cmd.Name() == cobra.ShellCompNoDescRequestCmd
}

// NoConfig annotates c so that settings are not resolved for it.
func NoConfig(c *cobra.Command) {
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[NoConfigAnnotation] = "true"
}

// MarkExclusive makes flags of cmd mutually exclusive (cobra's
// MarkFlagsMutuallyExclusive) and records the group, so that a value chosen for one
// member at a higher precedence (--stack-id on the command line) overrides a lower one
// of another member (inventory in the config file) instead of tripping cobra's check.
func MarkExclusive(cmd *cobra.Command, names ...string) {
	cmd.MarkFlagsMutuallyExclusive(names...)
	group := strings.Join(names, " ")
	for _, n := range names {
		if f := cmd.Flags().Lookup(n); f != nil {
			if f.Annotations == nil {
				f.Annotations = map[string][]string{}
			}
			f.Annotations[exclusiveAnnotation] = append(f.Annotations[exclusiveAnnotation], group)
		}
	}
}

// peerChanged is true when a flag that is mutually exclusive with f is already set.
func peerChanged(fset *pflag.FlagSet, f *pflag.Flag) bool {
	for _, group := range f.Annotations[exclusiveAnnotation] {
		for _, peer := range strings.Fields(group) {
			if pf := fset.Lookup(peer); peer != f.Name && pf != nil && pf.Changed {
				return true
			}
		}
	}
	return false
}

// setFlag sets a flag from env or the config file and marks it Changed, so that code
// asking cmd.Flags().Changed(...) ("did the user choose this?") and cobra's required-flag
// check treat a configured value like a typed one. Origin tells them apart.
func setFlag(f *pflag.Flag, vals []string, list bool, origin string) error {
	var err error
	switch sv, ok := f.Value.(pflag.SliceValue); {
	case list && ok:
		err = sv.Replace(vals)
	case list:
		err = f.Value.Set(strings.Join(vals, ","))
	default:
		err = f.Value.Set(vals[0])
	}
	if err != nil {
		return fmt.Errorf("invalid value for --%s: %w", f.Name, err)
	}
	f.Changed = true
	if f.Annotations == nil {
		f.Annotations = map[string][]string{}
	}
	f.Annotations[originAnnotation] = []string{origin}
	return nil
}

// Origin says where a flag's value came from: "flag", "env NAME", "config PATH:LINE" or
// "default". For error messages such as "--stack-id (from env SP_STACK_ID) ...".
func Origin(cmd *cobra.Command, name string) string {
	f := cmd.Flags().Lookup(name)
	switch {
	case f == nil:
		return ""
	case len(f.Annotations[originAnnotation]) > 0:
		return f.Annotations[originAnnotation][0]
	case f.Changed:
		return "flag"
	}
	return "default"
}

// CommandChain is cmd's path below the root: [] for the root, [lab up] for `meshtop lab up`.
func CommandChain(cmd *cobra.Command) []string {
	var chain []string
	for c := cmd; c.Parent() != nil; c = c.Parent() {
		chain = append(chain, c.Name())
	}
	slices.Reverse(chain)
	return chain
}
