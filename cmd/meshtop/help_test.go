package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// helpProblems renders `--help` of every command under root and lists what breaks the
// house rules: a Short and an Example on every command, no help line wider than
// helpWidth columns. newRoot builds a fresh tree per command, as a real run would.
func helpProblems(newRoot func() *cobra.Command) []string {
	var problems []string
	var paths [][]string
	walkCommands(newRoot(), func(c *cobra.Command) {
		if c.Hidden || c.Name() == cobra.ShellCompRequestCmd || c.Name() == cobra.ShellCompNoDescRequestCmd {
			return
		}
		paths = append(paths, commandChain(c))
		if c.Short == "" {
			problems = append(problems, fmt.Sprintf("%s: no Short description", c.CommandPath()))
		}
		if strings.TrimSpace(c.Example) == "" {
			problems = append(problems, fmt.Sprintf("%s: no Example", c.CommandPath()))
		}
	})
	for _, p := range paths {
		root := newRoot()
		var out strings.Builder
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(append(p, "--help"))
		name := strings.Join(append([]string{"meshtop"}, p...), " ")
		if err := root.Execute(); err != nil {
			problems = append(problems, fmt.Sprintf("%s --help: %v", name, err))
			continue
		}
		for i, line := range strings.Split(out.String(), "\n") {
			if w := displayWidth(line); w > helpWidth {
				problems = append(problems, fmt.Sprintf("%s --help line %d is %d columns (max %d): %q",
					name, i+1, w, helpWidth, line))
			}
		}
	}
	return problems
}

// displayWidth counts columns as a terminal shows them: tabs to the next multiple of 8.
// Help text is ASCII in practice; a rune per column is close enough for the rest.
func displayWidth(s string) int {
	w := 0
	for _, r := range s {
		if r == '\t' {
			w += 8 - w%8
			continue
		}
		w++
	}
	return w
}

// TestHelpFitsAndHasExamples walks the real command tree. It fails when any command,
// including ones added by other files, lacks Short or Example or has a help line wider
// than 80 columns; the failure names the command.
func TestHelpFitsAndHasExamples(t *testing.T) {
	for _, p := range helpProblems(newRootCmd) {
		t.Error(p)
	}
}

// TestHelpCheckerCatchesProblems makes sure the checker above can fail.
func TestHelpCheckerCatchesProblems(t *testing.T) {
	bad := func() *cobra.Command {
		root := &cobra.Command{Use: "meshtop", Short: "root", Example: "  meshtop"}
		root.AddCommand(
			&cobra.Command{Use: "noexample", Short: "no example", Run: func(*cobra.Command, []string) {}},
			&cobra.Command{Use: "wide", Short: "wide", Example: "  meshtop wide " + strings.Repeat("x", 80),
				Run: func(*cobra.Command, []string) {}},
			&cobra.Command{Use: "tabbed", Short: "tabbed", Example: "\t" + strings.Repeat("y", 75),
				Run: func(*cobra.Command, []string) {}},
			&cobra.Command{Use: "fine", Short: "fine", Example: "  meshtop fine", Run: func(*cobra.Command, []string) {}},
		)
		return root
	}
	got := strings.Join(helpProblems(bad), "\n")
	for _, want := range []string{"meshtop noexample: no Example", "meshtop wide --help line", "meshtop tabbed --help line"} {
		if !strings.Contains(got, want) {
			t.Errorf("checker missed %q; it reported:\n%s", want, got)
		}
	}
	if strings.Contains(got, "meshtop fine") {
		t.Errorf("checker blamed a fine command:\n%s", got)
	}
}

// TestHelpWrapsLongFlagUsage checks that the root's usage template wraps flag help.
func TestHelpWrapsLongFlagUsage(t *testing.T) {
	saved := subcommands
	subcommands = []func() *cobra.Command{func() *cobra.Command {
		c := &cobra.Command{Use: "long", Short: "long flag help", Example: "  meshtop long",
			RunE: func(*cobra.Command, []string) error { return nil }}
		c.Flags().String("some-flag", "", strings.Repeat("a very long description ", 8))
		return c
	}}
	t.Cleanup(func() { subcommands = saved })
	for _, p := range helpProblems(newRootCmd) {
		t.Error(p)
	}
}

func TestHelpRootListsCommandsAndExamples(t *testing.T) {
	root, _ := fakeTree(t)
	var out strings.Builder
	root.SetOut(&out)
	root.SetArgs([]string{"--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Examples:", "meshtop live --inventory agents.yaml", "meshtop config example >",
		"Available Commands:", "  config ", "  version ", "  completion ",
		"--config FILE",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("root help lacks %q:\n%s", want, out.String())
		}
	}
	// The examples block must not advertise commands that do not exist.
	if strings.Contains(out.String(), "meshtop history --influx-url") == (subcommand(root, "history") == nil) {
		t.Errorf("history example shown iff history exists: got\n%s", out.String())
	}
	if strings.Contains(out.String(), "sudo meshtop lab") != (subcommand(root, "lab") != nil) {
		t.Errorf("lab example shown iff lab exists: got\n%s", out.String())
	}
}

func TestHelpMentionsEnv(t *testing.T) {
	root, _ := fakeTree(t)
	var out strings.Builder
	root.SetOut(&out)
	root.SetArgs([]string{"live", "--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`\(env\s+SP_STACK_ID\)`).MatchString(out.String()) ||
		!regexp.MustCompile(`\(env\s+SCOUTER_WORKLOAD_ID\)`).MatchString(out.String()) {
		t.Errorf("live --help does not name the env bindings:\n%s", out.String())
	}
}
