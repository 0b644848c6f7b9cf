package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/settings"
)

// Settings come from four places, highest first: the command line, the environment
// (envBindings), the config file, the flag's default. The root's PersistentPreRunE
// resolves them for the command about to run (package settings), so a command only
// declares flags and reads their values; it never looks at env or the file itself
// (secrets excepted, see config_env.go).

// noConfigAnnotation on a command skips env and config resolution for it: commands
// that must work with a broken config file (config, version, completion, help).
const noConfigAnnotation = settings.NoConfigAnnotation

// lookupEnvFunc is os.LookupEnv; tests pass a map.
type lookupEnvFunc = settings.LookupEnv

// The keys a config file must not set: they steer cobra itself or the file lookup.
var configReserved = map[string]string{
	"help":    "help is not a setting",
	"version": "version is not a setting",
	"config":  "the config file cannot name another config file; use --config or MESHTOP_CONFIG",
}

// thresholdGroup maps `thresholds: {latency: "250,500,1000"}` onto --thresholds-latency.
var thresholdGroup = settings.Group{
	Key: "thresholds",
	Flag: func(sub string) (string, bool) {
		m, err := mesh.ParseMetric(sub)
		if err != nil {
			return "", false
		}
		return "thresholds-" + m.String(), true
	},
	Unknown: func(sub string) string {
		return fmt.Sprintf("unknown metric %q (want %s)", sub, mesh.MetricNames())
	},
	Want:      "want a mapping of metric to \"t1,t2,t3\", e.g.\n  thresholds:\n    latency: 250,500,1000",
	Items:     3,
	ItemsWant: "want three numbers t1,t2,t3",
	Check: func(s string) error {
		_, err := mesh.ParseThresholds(s)
		return err
	},
}

// newSettings is meshtop's settings layer with env from env.
func newSettings(env lookupEnvFunc) *settings.Settings {
	return &settings.Settings{
		Env:         env,
		Bindings:    envBindings,
		Secrets:     secretEnv,
		SecretFlags: secretFileFlags,
		Reserved:    configReserved,
		Groups:      []settings.Group{thresholdGroup},
		Checks:      valueChecks(),
		Credentials: urlCredentialAdvice,
		Warn:        os.Stderr,
	}
}

// resolveSettings fills every flag of cmd that the user did not set on the command line
// from the environment, then from the config file.
func resolveSettings(cmd *cobra.Command, env lookupEnvFunc) error {
	return newSettings(env).Resolve(cmd)
}

// configPath picks the config file (settings.Settings.Path).
func configPath(cmd *cobra.Command, env lookupEnvFunc) (path string, explicit bool) {
	return newSettings(env).Path(cmd)
}

// defaultConfigPath is where meshtop looks when no file is named.
func defaultConfigPath(env lookupEnvFunc) string { return newSettings(env).DefaultPath() }

// flagOrigin says where a flag's value came from: "flag", "env NAME", "config PATH:LINE"
// or "default".
func flagOrigin(cmd *cobra.Command, name string) string { return settings.Origin(cmd, name) }

func skipsConfig(cmd *cobra.Command) bool { return settings.Skips(cmd) }

func walkCommands(cmd *cobra.Command, fn func(*cobra.Command)) { settings.Walk(cmd, fn) }

func subcommand(cmd *cobra.Command, name string) *cobra.Command {
	return settings.Subcommand(cmd, name)
}

func looksSecret(name string) bool { return newSettings(nil).LooksSecret(name) }

func commandChain(cmd *cobra.Command) []string { return settings.CommandChain(cmd) }
