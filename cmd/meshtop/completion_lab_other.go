//go:build !linux

package main

import "github.com/spf13/cobra"

// registerLabCompletions: the lab is Linux-only.
func registerLabCompletions(*cobra.Command) {}
