package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Settings come from four places, highest first: the command line, the environment
// (envBindings), the config file, the flag's default. The root's PersistentPreRunE
// resolves them for the command about to run, so a command only declares flags and reads
// their values; it never looks at env or the file itself (secrets excepted, see
// config_env.go).
//
// Config file layout: top-level keys are flag names shared by every command that has the
// flag; a top-level key that names a command holds a mapping that applies to that command
// and the commands below it (more specific wins):
//
//	inventory: ~/meshtop/agents.yaml
//	thresholds: {latency: "250,500,1000"}
//	live:
//	  interval: 30s

const (
	// noConfigAnnotation on a command skips env and config resolution for it: commands
	// that must work with a broken config file (config, version, completion, help).
	noConfigAnnotation = "meshtop/no-config"
	// originAnnotation on a flag records where a value not typed on the command line came
	// from ("env SP_STACK_ID", "config /path:12"), for flagOrigin.
	originAnnotation = "meshtop/origin"
	// cobra's (unexported) annotation for MarkFlagsMutuallyExclusive groups.
	mutuallyExclusiveAnnotation = "cobra_annotation_mutually_exclusive"
)

// lookupEnvFunc is os.LookupEnv; tests pass a map.
type lookupEnvFunc func(string) (string, bool)

// resolveSettings fills every flag of cmd that the user did not set on the command line
// from the environment, then from the config file.
func resolveSettings(cmd *cobra.Command, env lookupEnvFunc) error {
	if skipsConfig(cmd) {
		return nil
	}
	path, explicit := configPath(cmd, env)
	return resolveSettingsFrom(cmd, env, path, explicit)
}

// resolveSettingsFrom is resolveSettings with the config file already chosen (`config
// show` chooses it from its own --config, not the target command's).
func resolveSettingsFrom(cmd *cobra.Command, env lookupEnvFunc, path string, explicit bool) error {
	fromEnv, err := applyEnv(cmd, env)
	if err != nil {
		return err
	}
	file, err := loadSettings(path, explicit, cmd.Root(), getenv(env, "HOME"))
	if err != nil || file == nil {
		return err
	}
	return file.apply(cmd, fromEnv)
}

// skipsConfig is true for commands (or children of commands) annotated noConfig.
func skipsConfig(cmd *cobra.Command) bool {
	for c := cmd; c != nil; c = c.Parent() {
		if c.Annotations[noConfigAnnotation] == "true" {
			return true
		}
	}
	// cobra's hidden completion request command and the generated completion scripts.
	return cmd.Name() == cobra.ShellCompRequestCmd || cmd.Name() == cobra.ShellCompNoDescRequestCmd
}

// applyEnv sets flags from envBindings and returns the names it set.
func applyEnv(cmd *cobra.Command, env lookupEnvFunc) (map[string]bool, error) {
	set := map[string]bool{}
	names := make([]string, 0, len(envBindings))
	for name := range envBindings {
		names = append(names, name)
	}
	slices.Sort(names) // deterministic errors
	fset := cmd.Flags()
	for _, name := range names {
		f := fset.Lookup(name)
		if f == nil || f.Changed || name == "config" || peerChanged(fset, f) {
			continue
		}
		for _, v := range envBindings[name] {
			val := getenv(env, v)
			if val == "" {
				continue // set-but-empty counts as unset, as in most shells' ${X:-default}
			}
			if err := setFlag(f, []string{val}, false, "env "+v); err != nil {
				return nil, fmt.Errorf("environment variable %s: %w", v, err)
			}
			set[name] = true
			break
		}
	}
	return set, nil
}

// configPath picks the config file: --config, else $MESHTOP_CONFIG, else
// $XDG_CONFIG_HOME/meshtop/config.yaml, else ~/.config/meshtop/config.yaml (on macOS too:
// terminal users expect ~/.config, not ~/Library). explicit means the user named the
// file, so it must exist.
func configPath(cmd *cobra.Command, env lookupEnvFunc) (path string, explicit bool) {
	if f := cmd.Flags().Lookup("config"); f != nil && f.Changed && f.Value.String() != "" {
		return f.Value.String(), true
	}
	if p := getenv(env, "MESHTOP_CONFIG"); p != "" {
		return p, true
	}
	return defaultConfigPath(env), false
}

// defaultConfigPath is where meshtop looks when no file is named; "" when neither
// XDG_CONFIG_HOME nor HOME is set.
func defaultConfigPath(env lookupEnvFunc) string {
	// The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
	if x := getenv(env, "XDG_CONFIG_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "meshtop", "config.yaml")
	}
	if h := getenv(env, "HOME"); h != "" {
		return filepath.Join(h, ".config", "meshtop", "config.yaml")
	}
	return ""
}

// loadSettings reads and checks the config file. A missing or unreadable default file is
// no error (nil file); a missing named file is.
func loadSettings(path string, explicit bool, root *cobra.Command, home string) (*settingsFile, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		return nil, nil
	case errors.Is(err, fs.ErrPermission) && !explicit:
		// The default location of another user's HOME (sudo -u without -H, a service
		// account): not ours to read, and nobody asked for it. Say so and go on.
		fmt.Fprintf(os.Stderr, "meshtop: skipping config file %s: not readable by this user (name one with --config)\n", path)
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
	return parseSettings(path, data, root, home)
}

// apply sets the flags of cmd that are still unset (not on the command line, not from the
// environment) from the file. For each flag the most specific section wins: `live.interval`
// over a shared `interval`. Keys that belong to other commands are skipped.
func (s *settingsFile) apply(cmd *cobra.Command, fromEnv map[string]bool) error {
	chain := commandChain(cmd)
	best := map[string]setting{}
	for _, st := range s.settings {
		if len(st.section) > len(chain) || !slices.Equal(st.section, chain[:len(st.section)]) {
			continue
		}
		if cur, ok := best[st.flag]; ok && len(cur.section) >= len(st.section) {
			continue
		}
		best[st.flag] = st
	}
	names := make([]string, 0, len(best))
	for n := range best {
		names = append(names, n)
	}
	slices.Sort(names)
	fset := cmd.Flags()
	for _, name := range names {
		st := best[name]
		f := fset.Lookup(name)
		if f == nil || f.Changed || fromEnv[name] || peerChanged(fset, f) {
			continue
		}
		origin := fmt.Sprintf("config %s:%d", s.path, st.line)
		if err := setFlag(f, st.values, st.list, origin); err != nil {
			return fmt.Errorf("%s:%d: %q: %w", s.path, st.line, st.key, err)
		}
	}
	return nil
}

// setFlag sets a flag from env or the config file and marks it Changed, so that code
// asking cmd.Flags().Changed(...) ("did the user choose this?") and cobra's required-flag
// check treat a configured value like a typed one. flagOrigin tells them apart.
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

// peerChanged is true when a flag that is mutually exclusive with f is already set: a
// higher-precedence choice of one member of the group (say --stack-id on the command line)
// overrides a lower one of another member (inventory in the config file) instead of
// tripping cobra's "none of the others can be" check.
func peerChanged(fset *pflag.FlagSet, f *pflag.Flag) bool {
	for _, group := range f.Annotations[mutuallyExclusiveAnnotation] {
		for _, peer := range strings.Fields(group) {
			if pf := fset.Lookup(peer); peer != f.Name && pf != nil && pf.Changed {
				return true
			}
		}
	}
	return false
}

// flagOrigin says where a flag's value came from: "flag", "env NAME", "config PATH:LINE"
// or "default". For error messages such as "--stack-id (from env SP_STACK_ID) ...".
func flagOrigin(cmd *cobra.Command, name string) string {
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

// commandChain is cmd's path below the root: [] for the root, [lab up] for `meshtop lab up`.
func commandChain(cmd *cobra.Command) []string {
	var chain []string
	for c := cmd; c.Parent() != nil; c = c.Parent() {
		chain = append([]string{c.Name()}, chain...)
	}
	return chain
}

func getenv(env lookupEnvFunc, name string) string {
	v, _ := env(name)
	return v
}
