//go:build linux

package main

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/meshtop/meshtop/lab"
)

// registerLabCompletions completes `lab set POP_A POP_B` with the PoPs of the running lab
// and its --via with the lab's routers, read from the state the lab package keeps
// (STATE-DIR/NAME/state.json): nothing goes to the network or a control socket.
func registerLabCompletions(root *cobra.Command) {
	set, _, err := root.Find([]string{"lab", "set"})
	if err != nil || set.Name() != "set" {
		return
	}
	if set.ValidArgsFunction == nil {
		set.ValidArgsFunction = func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) >= 2 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			st := runningLab(cmd)
			if st == nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []cobra.Completion
			for _, p := range st.Config.Pops {
				if !slices.Contains(args, p.Name) {
					out = append(out, cobra.CompletionWithDesc(p.Name, p.Org))
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		}
	}
	if set.Flags().Lookup("via") != nil {
		_ = set.RegisterFlagCompletionFunc("via", func(cmd *cobra.Command, _ []string, typed string) ([]cobra.Completion, cobra.ShellCompDirective) {
			st := runningLab(cmd)
			if st == nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			// --via takes a comma-separated list: complete its last item.
			done := ""
			if i := strings.LastIndex(typed, ","); i >= 0 {
				done = typed[:i+1]
			}
			var out []cobra.Completion
			for _, r := range st.Config.Routers {
				out = append(out, cobra.CompletionWithDesc(done+r.Name, r.Org))
			}
			return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
		})
	}
}

// runningLab is the lab `lab set` would act on (--name, else the only one running), or
// nil.
func runningLab(cmd *cobra.Command) *lab.State {
	dir := lab.DefaultStateDir
	if f := cmd.Flag("state-dir"); f != nil {
		dir = f.Value.String()
	}
	name := ""
	if f := cmd.Flag("name"); f != nil {
		name = f.Value.String()
	}
	if name == "" {
		names, err := lab.Labs(dir)
		if err != nil || len(names) != 1 {
			return nil
		}
		name = names[0]
	}
	st, err := lab.LoadState(dir, name)
	if err != nil {
		return nil
	}
	return st
}
