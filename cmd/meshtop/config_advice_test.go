package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestSecretAdviceNamesRealFlags: every flag a "looks like a secret" refusal tells the
// user to set exists, on the command it names (it once named a --client-secret-file that
// never existed; issue 10).
func TestSecretAdviceNamesRealFlags(t *testing.T) {
	root := newRootCmd()
	flagRE := regexp.MustCompile("--([a-z0-9-]+)(?: of `meshtop ([a-z ]+)`)?")
	s := newSettings(nil)
	names := []string{"some-password", "token-secret"}
	for name := range secretEnv {
		names = append(names, name)
	}
	for _, name := range names {
		advice := s.SecretAdvice(name)
		if !strings.Contains(advice, "env ") && !strings.Contains(advice, "environment") {
			t.Errorf("advice for %q names no environment variable: %s", name, advice)
		}
		for _, m := range flagRE.FindAllStringSubmatch(advice, -1) {
			flag, on := m[1], m[2]
			found := false
			walkCommands(root, func(c *cobra.Command) {
				if on != "" && c.CommandPath() != "meshtop "+on {
					return
				}
				if c.Flags().Lookup(flag) != nil || c.PersistentFlags().Lookup(flag) != nil {
					found = true
				}
			})
			if !found {
				t.Errorf("advice for %q names --%s (on %q), which does not exist: %s", name, flag, on, advice)
			}
		}
	}
	if a := s.SecretAdvice("client-secret"); strings.Contains(a, "-file") {
		t.Errorf("client-secret advice offers a file flag: %s", a)
	}
}
