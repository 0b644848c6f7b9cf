package settings

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Subcommand finds a direct child of cmd by name or alias.
func Subcommand(cmd *cobra.Command, name string) *cobra.Command {
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

// FindFlag finds a flag that a command's section may set: one cmd has (its own or a
// persistent flag of an ancestor) or one of its subcommands has, since a section also
// applies to the commands below it.
func FindFlag(cmd *cobra.Command, name string) *pflag.Flag {
	for c := cmd.Parent(); c != nil; c = c.Parent() {
		if f := c.PersistentFlags().Lookup(name); f != nil {
			return f
		}
	}
	var found *pflag.Flag
	Walk(cmd, func(c *cobra.Command) {
		if found == nil {
			found = ownFlag(c, name)
		}
	})
	return found
}

// FlagsUnder lists every flag declared on cmd or below it, first declaration per name.
func FlagsUnder(cmd *cobra.Command) []*pflag.Flag {
	seen := map[string]bool{}
	var out []*pflag.Flag
	add := func(f *pflag.Flag) {
		if !seen[f.Name] {
			seen[f.Name] = true
			out = append(out, f)
		}
	}
	Walk(cmd, func(c *cobra.Command) {
		c.PersistentFlags().VisitAll(add)
		c.Flags().VisitAll(add)
	})
	return out
}

// Walk calls fn for cmd and every command below it, depth first.
func Walk(cmd *cobra.Command, fn func(*cobra.Command)) {
	fn(cmd)
	for _, c := range cmd.Commands() {
		Walk(c, fn)
	}
}

// IsSliceFlag is true for flags that take a list.
func IsSliceFlag(f *pflag.Flag) bool {
	_, ok := f.Value.(pflag.SliceValue)
	return ok || strings.HasSuffix(f.Value.Type(), "Slice") || strings.HasSuffix(f.Value.Type(), "Array")
}
