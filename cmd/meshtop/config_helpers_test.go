package main

import (
	"github.com/spf13/cobra"

	"github.com/meshtop/meshtop/settings"
)

// parseSettings parses a config file against root's tree, with home for "~/".
func parseSettings(path string, data []byte, root *cobra.Command, home string) (*settings.File, error) {
	s := newSettings(func(k string) (string, bool) {
		if k == "HOME" {
			return home, home != ""
		}
		return "", false
	})
	return s.Parse(path, data, root)
}
