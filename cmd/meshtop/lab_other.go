//go:build !linux

package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func init() { register(newLabCmd) }

// newLabCmd explains that the lab is Linux-only: it is built from network namespaces and
// TUN devices.
func newLabCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "lab",
		Short:   "Build a local lab WAN of PoPs (Linux only)",
		Example: "  sudo meshtop lab      # on a Linux machine",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("meshtop lab needs Linux (network namespaces and TUN devices); run it on a Linux machine or VM")
		},
	}
}
