package main

import (
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// complete runs `meshtop __complete args...` on the real command tree.
func complete(t *testing.T, args ...string) string {
	t.Helper()
	isolateEnv(t)
	root := newRootCmd()
	var out strings.Builder
	root.SetOut(&out)
	root.SetErr(io.Discard) // cobra's "Completion ended with directive" note
	root.SetArgs(append([]string{"__complete"}, args...))
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// TestCompletionFlagValues: enumerated flags complete their values (not files), file
// flags files, other flags nothing (issue 9).
func TestCompletionFlagValues(t *testing.T) {
	const noFile, fileExt, files, dirs = ":4\n", ":8\n", ":0\n", ":16\n"
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"live", "--metric", ""}, []string{"latency\t", "jitter\t", "jitter-ms\t", "loss\t", noFile}},
		{[]string{"snapshot", "--metric", "l"}, []string{"latency\t", "loss\t", noFile}},
		{[]string{"live", "--stat", ""}, []string{"last\t", "mean\t", "max\t", "p95\t", noFile}},
		{[]string{"snapshot", "--format", ""}, []string{"table\t", "json\t", "csv\t", noFile}},
		{[]string{"snapshot", "--fail-on", ""}, []string{"yellow\t", "orange\t", "red\t", noFile}},
		{[]string{"snapshot", "--source", ""}, []string{"live\t", "influx\t", noFile}},
		{[]string{"live", "--palette", ""}, []string{"default\t", "colorblind\t", noFile}},
		{[]string{"snapshot", "--trace-proto", ""}, []string{"ICMP\t", "TCP\t", noFile}},
		{[]string{"collect", "--utility", ""}, []string{"ping\t", "traceroute\t", "both\t", noFile}},
		{[]string{"live", "--inventory", ""}, []string{"yaml\nyml\n" + fileExt}},
		{[]string{"snapshot", "--scouter-secret-file", ""}, []string{files}},
		{[]string{"agent", "--tls-cert", ""}, []string{"pem\ncrt\n" + fileExt}},
		{[]string{"live", "--stack-id", ""}, []string{noFile}},
		{[]string{"live", "--interval", ""}, []string{noFile}},
	} {
		got := complete(t, tc.args...)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%v: completion %q lacks %q", tc.args, got, w)
			}
		}
	}
}

// TestEnumFlagsExist: every entry of enumFlags is a real flag, so the table cannot rot.
func TestEnumFlagsExist(t *testing.T) {
	root := newRootCmd()
	for name := range enumFlags {
		found := false
		walkCommands(root, func(c *cobra.Command) {
			if c.Flags().Lookup(name) != nil || c.PersistentFlags().Lookup(name) != nil {
				found = true
			}
		})
		if !found {
			t.Errorf("enumFlags names --%s, which no command has", name)
		}
	}
}
