package settings

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestBindingsFor(t *testing.T) {
	b := Bindings{
		{Flag: "max-tests", Env: []string{"ANY"}},
		{Command: "agent", Flag: "max-tests", Env: []string{"SCOUTER_MAX_TEST_COUNT"}},
		{Command: "lab", Flag: "name", Env: []string{"LAB_NAME"}},
	}
	for _, tc := range []struct {
		chain      []string
		flag, want string
	}{
		{[]string{"agent"}, "max-tests", "SCOUTER_MAX_TEST_COUNT"},
		{[]string{"snapshot"}, "max-tests", "ANY"},
		{[]string{"agentx"}, "max-tests", "ANY"},
		{[]string{"lab", "up"}, "name", "LAB_NAME"},
		{[]string{"live"}, "name", ""},
	} {
		got := ""
		if x := b.For(tc.chain, tc.flag); x != nil {
			got = x.Env[0]
		}
		if got != tc.want {
			t.Errorf("For(%v, %s) = %q, want %q", tc.chain, tc.flag, got, tc.want)
		}
	}
	if v := strings.Join(b.Vars(), " "); v != "ANY LAB_NAME SCOUTER_MAX_TEST_COUNT" {
		t.Errorf("Vars = %s", v)
	}
}

// TestResolvePrecedence: flag > env > file > default, and the origin of each.
func TestResolvePrecedence(t *testing.T) {
	env := map[string]string{"A_ENV": "from-env", "HOME": t.TempDir()}
	s := &Settings{
		Env:      func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Bindings: Bindings{{Flag: "a", Env: []string{"A_ENV"}}, {Flag: "b", Env: []string{"B_ENV"}}},
	}
	root := &cobra.Command{Use: "root"}
	var a, b, c, d string
	run := &cobra.Command{Use: "run", RunE: func(*cobra.Command, []string) error { return nil }}
	run.Flags().StringVar(&a, "a", "def", "")
	run.Flags().StringVar(&b, "b", "def", "")
	run.Flags().StringVar(&c, "c", "def", "")
	run.Flags().StringVar(&d, "d", "def", "")
	root.AddCommand(run)
	if err := run.ParseFlags([]string{"--d", "typed"}); err != nil {
		t.Fatal(err)
	}
	file, err := s.Parse("f.yaml", []byte("a: file-a\nrun:\n  b: file-b\n  d: file-d\n"), root)
	if err != nil {
		t.Fatal(err)
	}
	fromEnv, err := s.applyEnv(run)
	if err != nil {
		t.Fatal(err)
	}
	if err := file.Apply(run, fromEnv); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, got, want, origin string }{
		{"a", a, "from-env", "env A_ENV"},
		{"b", b, "file-b", "config f.yaml:3"},
		{"c", c, "def", "default"},
		{"d", d, "typed", "flag"},
	} {
		if tc.got != tc.want || Origin(run, tc.name) != tc.origin {
			t.Errorf("--%s = %q from %q, want %q from %q", tc.name, tc.got, Origin(run, tc.name), tc.want, tc.origin)
		}
	}
}
