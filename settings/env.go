package settings

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// Binding names the environment variables that set a flag; the first non-empty one wins.
type Binding struct {
	// Command is the command path below the root the binding is for ("agent", "lab up"),
	// including the commands below it; "" binds the flag of every command. The most
	// specific binding of a flag wins, so `agent`'s --max-tests can read
	// SCOUTER_MAX_TEST_COUNT while other commands' --max-tests do not.
	Command string
	Flag    string
	Env     []string
	// Value turns the variable's text into the flag's (API_PORT=8000 into --listen :8000)
	// and checks it; nil passes it as is. Its error is shown after "NAME=value: ".
	Value func(string) (string, error)
}

// Bindings is the table of env bindings, the one place env names live, so that --help,
// `meshtop config example` and the README can list them.
type Bindings []Binding

// For returns the binding of flag for the command path chain, nil when there is none.
func (b Bindings) For(chain []string, flag string) *Binding {
	path := strings.Join(chain, " ")
	var best *Binding
	for i := range b {
		x := &b[i]
		if x.Flag != flag || !(x.Command == "" || x.Command == path || strings.HasPrefix(path, x.Command+" ")) {
			continue
		}
		if best == nil || len(x.Command) > len(best.Command) {
			best = x
		}
	}
	return best
}

// Vars lists every variable of the table, sorted.
func (b Bindings) Vars() []string {
	var out []string
	for _, x := range b {
		for _, v := range x.Env {
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	slices.Sort(out)
	return out
}

// applyEnv sets flags of cmd from the environment and returns the names it set.
func (s *Settings) applyEnv(cmd *cobra.Command) (map[string]bool, error) {
	chain := CommandChain(cmd)
	set := map[string]bool{}
	var names []string
	for _, x := range s.Bindings {
		if !slices.Contains(names, x.Flag) {
			names = append(names, x.Flag)
		}
	}
	slices.Sort(names) // deterministic errors
	fset := cmd.Flags()
	for _, name := range names {
		b := s.Bindings.For(chain, name)
		f := fset.Lookup(name)
		if b == nil || f == nil || f.Changed || name == "config" || peerChanged(fset, f) {
			continue
		}
		for _, v := range b.Env {
			val := s.getenv(v)
			if val == "" {
				continue // set-but-empty counts as unset, as in most shells' ${X:-default}
			}
			if b.Value != nil {
				conv, err := b.Value(val)
				if err != nil {
					return nil, fmt.Errorf("environment variable %s=%q: %w", v, val, err)
				}
				val = conv
			}
			if err := setFlag(f, []string{val}, false, "env "+v); err != nil {
				return nil, fmt.Errorf("environment variable %s: %w", v, err)
			}
			set[name] = true
			break
		}
	}
	return set, nil
}
