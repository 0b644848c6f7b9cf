package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func init() { register(newConfigCmd) }

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Create, locate, check and explain the config file",
		Long: `Every flag of every command can have its default set in a YAML config file:
$XDG_CONFIG_HOME/meshtop/config.yaml, by default ~/.config/meshtop/config.yaml,
or the file named by --config or $MESHTOP_CONFIG.

Precedence: command-line flag > environment variable > config file > default.

Keys are flag names. Top-level keys apply to every command that has the flag;
a section named after a command (live:, snapshot:) applies to that command
only and wins over the top level. "thresholds:" maps metrics to "t1,t2,t3".
Unknown keys are errors with their line number. Secrets are never read from
the file: use the environment or a *-secret-file setting.`,
		Example: `  meshtop config example > ~/.config/meshtop/config.yaml
  meshtop config check
  meshtop config show snapshot`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{noConfigAnnotation: "true"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(newConfigExampleCmd(), newConfigPathCmd(), newConfigCheckCmd(), newConfigShowCmd())
	return cmd
}

func newConfigExampleCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "example",
		Short: "Print a commented config file with every setting and its default",
		Example: `  meshtop config example > ~/.config/meshtop/config.yaml
  meshtop config example | less`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return writeExample(cmd.OutOrStdout(), cmd.Root())
		},
	}
}

func newConfigPathCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "path",
		Short: "Print the path of the config file meshtop reads",
		Long: `Print the path of the config file meshtop reads: --config, else
$MESHTOP_CONFIG, else $XDG_CONFIG_HOME/meshtop/config.yaml, else
~/.config/meshtop/config.yaml. A note on stderr says when no file is there.`,
		Example: `  meshtop config path
  $EDITOR "$(meshtop config path)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, _ := configPath(cmd, os.LookupEnv)
			if path == "" {
				return errors.New("no config file location: neither XDG_CONFIG_HOME nor HOME is set; use --config FILE")
			}
			fmt.Fprintln(cmd.OutOrStdout(), path)
			if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
				fmt.Fprintln(cmd.ErrOrStderr(), "(no file there yet: meshtop uses its defaults)")
			}
			return nil
		},
	}
}

func newConfigCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Check the config file for unknown keys and bad values",
		Example: `  meshtop config check
  meshtop config check --config ./meshtop.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, explicit := configPath(cmd, os.LookupEnv)
			file, err := newSettings(os.LookupEnv).Load(path, explicit, cmd.Root())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if file == nil {
				_, err = fmt.Fprintf(out, "no config file at %s: meshtop uses its defaults\n", path)
				return err
			}
			_, err = fmt.Fprintf(out, "%s: ok, %d settings\n", path, len(file.Settings))
			return err
		},
	}
}

func newConfigShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show COMMAND...",
		Short: "Show a command's effective settings and where each came from",
		Long: `Show the value every flag of a command would have if it ran now (without
command-line flags), and where it came from: env NAME, config FILE:LINE or
default.`,
		Example: `  meshtop config show snapshot
  SP_STACK_ID=my-stack meshtop config show live`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New("name the command whose settings to show, e.g. `meshtop config show snapshot`")
			}
			return nil
		},
		ValidArgsFunction: completeCommandNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			target, rest, err := cmd.Root().Find(args)
			if err != nil || len(rest) > 0 || target == cmd.Root() {
				return fmt.Errorf("no command %q: see `meshtop --help` for the list", args)
			}
			if err := target.ParseFlags(nil); err != nil { // merges inherited flags
				return fmt.Errorf("prepare flags of %s: %w", target.CommandPath(), err)
			}
			path, explicit := configPath(cmd, os.LookupEnv)
			if err := newSettings(os.LookupEnv).ResolveFrom(target, path, explicit); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintf(tw, "FLAG\tVALUE\tFROM\n")
			target.Flags().VisitAll(func(f *pflag.Flag) {
				if exampleSkip[f.Name] || f.Hidden || looksSecret(f.Name) {
					return
				}
				fmt.Fprintf(tw, "--%s\t%s\t%s\n", f.Name, redactURLs(f.Value.String()), flagOrigin(target, f.Name))
			})
			return tw.Flush()
		},
	}
}

// completeCommandNames completes `config show` arguments with the commands that take
// settings, one level at a time (lab, then up).
func completeCommandNames(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	parent := cmd.Root()
	if len(args) > 0 {
		c, rest, err := parent.Find(args)
		if err != nil || len(rest) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		parent = c
	}
	var out []cobra.Completion
	for _, c := range parent.Commands() {
		if c.IsAvailableCommand() && !skipsConfig(c) {
			out = append(out, cobra.CompletionWithDesc(c.Name(), c.Short))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
