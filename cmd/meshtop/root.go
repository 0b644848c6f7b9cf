package main

import (
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// subcommands are registered by each command's own file (init), so that adding a command
// touches one file only.
var subcommands []func() *cobra.Command

func register(f func() *cobra.Command) { subcommands = append(subcommands, f) }

// helpWidth is the column limit of every --help text (help_test.go enforces it).
const helpWidth = 80

// rootExamples are the root's Examples block, one entry per command; an entry shows only
// when its command is registered, so the block never advertises a missing command.
var rootExamples = []struct{ cmd, text string }{
	{"live", "  # Live grid, agents from a static inventory (secret from the environment)\n" +
		"  SCOUTER_SECRET=... meshtop live --inventory agents.yaml"},
	{"serve", "  # One sweeper for the team, the grid over SSH (ssh -p 2222 HOST)\n" +
		"  meshtop serve --inventory agents.yaml --authorized-keys keys"},
	{"history", "  # The last 6 hours from the workshop's InfluxDB\n" +
		"  meshtop history --influx-url http://127.0.0.1:8086 --influx-db metricsdb"},
	{"snapshot", "  # One sweep as a table; exit status 2 if any pair is red (for cron/CI)\n" +
		"  meshtop snapshot --inventory agents.yaml --fail-on red"},
	{"collect", "  # Drop-in for the workshop's collector under Telegraf's inputs.exec\n" +
		"  meshtop collect --inventory agents.yaml"},
	{"lab", "  # A local demo mesh in network namespaces (root)\n" +
		"  sudo meshtop lab"},
	{"config", "  # Start a config file with every setting and its default\n" +
		"  meshtop config example > ~/.config/meshtop/config.yaml"},
	{"completion", "  # Shell completion for the current bash session\n" +
		"  source <(meshtop completion bash)"},
}

func newRootCmd() *cobra.Command {
	// Run the root's PersistentPreRunE (settings resolution) even when a subcommand has
	// its own PersistentPreRunE; cobra otherwise runs only the nearest one.
	cobra.EnableTraverseRunHooks = true
	var configFile string
	root := &cobra.Command{
		Use:   "meshtop",
		Short: "Explore a latency mesh between points of presence",
		Long: `meshtop shows a PoP-to-PoP latency mesh as a colour-thresholded grid,
fed by live probing through Scouter-compatible agents or by InfluxDB history.

Settings: command-line flag > environment > config file > default. The config
file is $XDG_CONFIG_HOME/meshtop/config.yaml (~/.config/meshtop/config.yaml);
see "meshtop config --help".`,
		Version:       buildInfo(debug.ReadBuildInfo).Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return resolveSettings(cmd, os.LookupEnv)
		},
	}
	root.SetVersionTemplate("meshtop {{.Version}}\n")
	root.PersistentFlags().StringVar(&configFile, "config", "",
		"config `FILE` to read settings from (env MESHTOP_CONFIG)")
	_ = root.MarkPersistentFlagFilename("config", "yaml", "yml")

	cmds := make([]*cobra.Command, 0, len(subcommands))
	for _, f := range subcommands {
		cmds = append(cmds, f())
	}
	slices.SortFunc(cmds, func(a, b *cobra.Command) int { return strings.Compare(a.Name(), b.Name()) })
	root.AddCommand(cmds...)

	// cobra adds help and completion lazily in Execute; adding them now puts them in the
	// tree that the help test walks and lets us give them examples.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	polishBuiltinCmds(root)

	var ex []string
	for _, e := range rootExamples {
		if subcommand(root, e.cmd) != nil {
			ex = append(ex, e.text)
		}
	}
	root.Example = strings.Join(ex, "\n\n")

	walkCommands(root, func(c *cobra.Command) {
		note := func(f *pflag.Flag) { noteEnv(c, f) }
		c.Flags().VisitAll(note)
		c.PersistentFlags().VisitAll(note)
	})
	cobra.AddTemplateFunc("wrappedFlagUsages", func(fs *pflag.FlagSet) string {
		return fs.FlagUsagesWrapped(helpWidth)
	})
	root.SetUsageTemplate(usageTemplate)
	registerLabCompletions(root) // completion_lab_linux.go
	registerCompletions(root)    // completion_values.go
	return root
}

// noteEnv appends "(env NAME)" to the help of a flag of c that envBindings covers, unless
// the command's author already wrote it.
func noteEnv(c *cobra.Command, f *pflag.Flag) {
	b := envBindings.For(commandChain(c), f.Name)
	if b == nil || strings.Contains(f.Usage, b.Env[0]) {
		return
	}
	vars := b.Env
	f.Usage += " (env " + strings.Join(vars, ", ") + ")"
}

// usageTemplate is cobra's default with flag help wrapped to helpWidth columns, so a long
// flag description does not spill past an 80-column terminal.
const usageTemplate = `Usage:{{if .Runnable}}
  {{.UseLine}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} [command]{{end}}{{if gt (len .Aliases) 0}}

Aliases:
  {{.NameAndAliases}}{{end}}{{if .HasExample}}

Examples:
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}{{$cmds := .Commands}}{{if eq (len .Groups) 0}}

Available Commands:{{range $cmds}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{else}}{{range $group := .Groups}}

{{.Title}}{{range $cmds}}{{if (and (eq .GroupID $group.ID) (or .IsAvailableCommand (eq .Name "help")))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if not .AllChildCommandsHaveGroup}}

Additional Commands:{{range $cmds}}{{if (and (eq .GroupID "") (or .IsAvailableCommand (eq .Name "help")))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

Flags:
{{wrappedFlagUsages .LocalFlags | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

Global Flags:
{{wrappedFlagUsages .InheritedFlags | trimTrailingWhitespaces}}{{end}}{{if .HasHelpSubCommands}}

Additional help topics:{{range .Commands}}{{if .IsAdditionalHelpTopicCommand}}
  {{rpad .CommandPath .CommandPathPadding}} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableSubCommands}}

Use "{{.CommandPath}} [command] --help" for more information about a command.{{end}}
`
