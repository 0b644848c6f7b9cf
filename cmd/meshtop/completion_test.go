package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const completionHelperEnv = "MESHTOP_COMPLETION_HELPER"

// TestCompletionHelperProcess is not a test: the shell tests below run the test binary
// as `meshtop` through it. It does nothing in a normal run.
func TestCompletionHelperProcess(t *testing.T) {
	if os.Getenv(completionHelperEnv) != "1" {
		return
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	root := newRootCmd()
	root.SetArgs(args)
	code := 0
	if err := root.Execute(); err != nil {
		os.Stderr.WriteString("meshtop: " + err.Error() + "\n")
		code = 1
	}
	// syscall.Exit, not os.Exit: the testing package treats os.Exit(0) inside a test as a
	// failure and would print PASS/FAIL lines into the completion output.
	syscall.Exit(code)
}

// shellWithMeshtop runs script in shell with a `meshtop` function that calls this test
// binary as the meshtop command, so the generated completion scripts call back into the
// real command tree exactly as an installed binary would.
func shellWithMeshtop(t *testing.T, shell, fn, script string) string {
	t.Helper()
	path, err := exec.LookPath(shell)
	if err != nil {
		t.Skipf("%s is not installed", shell)
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	isolateEnv(t)
	cmd := exec.Command(path, "-c", fn+"\n"+script)
	cmd.Env = append(os.Environ(), "MESHTOP_TEST_BIN="+bin)
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", shell, err, out)
	}
	return string(out)
}

const helperCall = `MESHTOP_COMPLETION_HELPER=1 "$MESHTOP_TEST_BIN" -test.run='^TestCompletionHelperProcess$' -- `

func TestCompletionBash(t *testing.T) {
	fn := `meshtop() { ` + helperCall + `"$@"; }`
	// Drive the completion function the way readline would: COMP_WORDS/COMP_CWORD set,
	// then the function registered with `complete -F`.
	out := shellWithMeshtop(t, "bash", fn, `
# The script needs the bash-completion package; use it when installed, else a minimal
# stand-in for the one function the script calls.
if [ -r /usr/share/bash-completion/bash_completion ]; then
	source /usr/share/bash-completion/bash_completion
else
	_get_comp_words_by_ref() {
		cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}
		words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD
	}
fi
source <(meshtop completion bash)
complete -p meshtop
try() {
	COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	__start_meshtop 2>/dev/null
	echo "[$*] ${COMPREPLY[*]}"
}
try meshtop con
try meshtop config ""
try meshtop config show --conf
try meshtop live --metric ""
try meshtop snapshot --format j
`)
	for _, want := range []string{
		"complete -o default -F __start_meshtop meshtop",
		"[meshtop con] config",
		"[meshtop config ] check",
		"example",
		"[meshtop config show --conf] --config",
		"[meshtop live --metric ] health latency jitter jitter-ms loss",
		"[meshtop snapshot --format j] json",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("bash completion output lacks %q:\n%s", want, out)
		}
	}
}

func TestCompletionFish(t *testing.T) {
	fn := `function meshtop; env MESHTOP_COMPLETION_HELPER=1 $MESHTOP_TEST_BIN '-test.run=^TestCompletionHelperProcess$' -- $argv; end`
	out := shellWithMeshtop(t, "fish", fn, `
meshtop completion fish | source
echo "[con]"; complete -C"meshtop con"
echo "[config]"; complete -C"meshtop config "
echo "[stat]"; complete -C"meshtop live --stat "
`)
	for _, want := range []string{"[con]\nconfig\t", "[config]\n", "example\t", "path\t", "show\t", "[stat]\nlast\t", "p95\t"} {
		if !strings.Contains(out, want) {
			t.Errorf("fish completion output lacks %q:\n%s", want, out)
		}
	}
}

func TestCompletionZsh(t *testing.T) {
	fn := `meshtop() { ` + helperCall + `"$@"; }`
	dir := t.TempDir()
	script := filepath.Join(dir, "_meshtop")
	// zsh completion runs only inside the line editor, so check that the script parses,
	// loads under compinit and registers itself for meshtop; its __complete call is the
	// same as bash's and fish's, tested above.
	out := shellWithMeshtop(t, "zsh", fn, `
meshtop completion zsh > `+script+` || exit 1
zsh -n `+script+` || exit 1
autoload -U compinit && compinit -u -D
source `+script+`
echo "registered: ${_comps[meshtop]}"
`)
	if !strings.Contains(out, "registered: _meshtop") {
		t.Errorf("zsh completion did not register:\n%s", out)
	}
}

// TestCompletionConfigFlagCompletesYAML: --config offers files, filtered to YAML.
func TestCompletionConfigFlagCompletesYAML(t *testing.T) {
	isolateEnv(t)
	root := newRootCmd()
	var out strings.Builder
	root.SetOut(&out)
	root.SetErr(io.Discard) // cobra's "Completion ended with directive" note
	root.SetArgs([]string{"__complete", "config", "check", "--config", ""})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	// cobra prints the extensions, then ":8" (ShellCompDirectiveFilterFileExt).
	if got := out.String(); !strings.Contains(got, "yaml\nyml\n:8") {
		t.Errorf("--config completion = %q, want yaml/yml file filter", got)
	}
}

// TestCompletionConfigShowCommands: `config show <TAB>` offers the commands that take
// settings, and their subcommands one level down.
func TestCompletionConfigShowCommands(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    []string
		notWant string
	}{
		{args: []string{"config", "show", ""}, want: []string{"live\tfake live", "snapshot\t", "lab\t"}, notWant: "version"},
		{args: []string{"config", "show", "lab", ""}, want: []string{"up\tfake lab up"}, notWant: "live"},
	} {
		isolateEnv(t)
		root, _ := fakeTree(t)
		var out strings.Builder
		root.SetOut(&out)
		root.SetErr(io.Discard) // cobra's "Completion ended with directive" note
		root.SetArgs(append([]string{"__complete"}, tc.args...))
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%v: completion %q lacks %q", tc.args, out.String(), w)
			}
		}
		if strings.Contains(out.String(), tc.notWant) {
			t.Errorf("%v: completion %q offers %q", tc.args, out.String(), tc.notWant)
		}
	}
}
