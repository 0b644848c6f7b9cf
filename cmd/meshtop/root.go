package main

import (
	"slices"

	"github.com/spf13/cobra"
)

// subcommands are registered by each command's own file (init), so that adding a command
// touches one file only.
var subcommands []func() *cobra.Command

func register(f func() *cobra.Command) { subcommands = append(subcommands, f) }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "meshtop",
		Short: "Explore a latency mesh between points of presence",
		Long: `meshtop shows a PoP-to-PoP latency mesh as a colour-thresholded grid,
fed by live probing through Scouter-compatible agents or by InfluxDB history.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmds := make([]*cobra.Command, 0, len(subcommands))
	for _, f := range subcommands {
		cmds = append(cmds, f())
	}
	slices.SortFunc(cmds, func(a, b *cobra.Command) int {
		if a.Name() < b.Name() {
			return -1
		}
		return 1
	})
	root.AddCommand(cmds...)
	return root
}
