package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// File flags whose names do not end in -file, with the extensions to offer (none: any
// file).
var fileFlags = map[string][]string{
	"inventory": {"yaml", "yml"},
	"config":    {"yaml", "yml"},
	"tls-cert":  {"pem", "crt"},
	"tls-key":   {"pem", "key"},
	"asn-db":    {"mmdb"},
}

// registerCompletions gives every flag of the tree a value completion, unless its
// command registered one itself: enumerated flags offer their values (enumFlags), file
// flags files, directory flags directories, and every other flag nothing, so that
// `meshtop live --metric <TAB>` no longer lists the files of the current directory.
func registerCompletions(root *cobra.Command) {
	done := map[*pflag.Flag]bool{}
	walkCommands(root, func(c *cobra.Command) {
		visit := func(f *pflag.Flag) {
			if done[f] {
				return
			}
			done[f] = true
			if _, has := c.GetFlagCompletionFunc(f.Name); has || f.Value.Type() == "bool" {
				return
			}
			if _, has := f.Annotations[cobra.BashCompFilenameExt]; has {
				return
			}
			if _, has := f.Annotations[cobra.BashCompSubdirsInDir]; has {
				return
			}
			_ = c.RegisterFlagCompletionFunc(f.Name, flagCompletion(f))
		}
		// Flags(), not LocalNonPersistentFlags(): that would merge inherited flags in early.
		c.Flags().VisitAll(visit)
		c.PersistentFlags().VisitAll(visit)
	})
}

// flagCompletion picks the completion of one flag.
func flagCompletion(f *pflag.Flag) cobra.CompletionFunc {
	if e, ok := enumFlags[f.Name]; ok {
		out := make([]cobra.Completion, len(e.values))
		for i, v := range e.values {
			out[i] = v
			if i < len(e.help) {
				out[i] = cobra.CompletionWithDesc(v, e.help[i])
			}
		}
		return cobra.FixedCompletions(out, cobra.ShellCompDirectiveNoFileComp)
	}
	if ext, ok := fileFlags[f.Name]; ok || strings.HasSuffix(f.Name, "-file") || strings.Contains(f.Usage, "`FILE`") {
		if len(ext) == 0 {
			return cobra.FixedCompletions(nil, cobra.ShellCompDirectiveDefault)
		}
		return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return ext, cobra.ShellCompDirectiveFilterFileExt
		}
	}
	if strings.Contains(f.Usage, "`DIR`") || strings.HasSuffix(f.Name, "-dir") {
		return cobra.FixedCompletions(nil, cobra.ShellCompDirectiveFilterDirs)
	}
	return cobra.NoFileCompletions
}
