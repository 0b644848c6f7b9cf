package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The README's check: every shell block of README.md (and docs/deploy.md) is valid
// shell, and every meshtop command in it (typed, run with `go run ./cmd/meshtop`, or
// inside `podman run`/`docker run` after the image) is parsed by the real command tree,
// so a renamed flag or command breaks the suite, not a newcomer's first try. A README
// block says before it how it is checked:
//
//	<!-- readme-check: run -->                  run here, as it is
//	<!-- readme-check: flags (TEST FILES...) --> checked as above; the files named run
//	                                             its commands for real and must exist
//
// A README block without one fails the check.

// shBlock is one ```sh block.
type shBlock struct {
	file  string
	line  int
	mode  string   // "run", "flags"
	refs  []string // files the annotation names
	text  string
	words [][]string // its simple commands
}

var (
	checkRE = regexp.MustCompile(`^<!-- readme-check: (run|flags)(?: \((.*)\))? -->$`)
	refRE   = regexp.MustCompile(`[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+|[A-Za-z0-9_-]+\.(?:go|sh)\b`)
	heredoc = regexp.MustCompile(`<<-?\s*'?"?([A-Za-z_]+)'?"?`)
)

func shBlocks(t *testing.T, path string, annotated bool) []shBlock {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	var out []shBlock
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```sh" {
			continue
		}
		blk := shBlock{file: filepath.Base(path), line: i + 1, mode: "flags"}
		j := i - 1
		for j >= 0 && strings.TrimSpace(lines[j]) == "" {
			j--
		}
		if j >= 0 {
			if m := checkRE.FindStringSubmatch(strings.TrimSpace(lines[j])); m != nil {
				blk.mode = m[1]
				blk.refs = refRE.FindAllString(m[2], -1)
			} else if annotated {
				t.Errorf("%s:%d: a shell block without <!-- readme-check: run|flags (...) --> before it", path, i+1)
			}
		}
		var body []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			body = append(body, lines[i])
		}
		blk.text = strings.Join(body, "\n") + "\n"
		blk.words = shellCommands(blk.text)
		out = append(out, blk)
	}
	return out
}

// shellCommands splits a script into simple commands (words, quotes removed), leaving
// out comments, here-documents, redirections and $(...) substitutions' insides. It is
// not a shell: it knows what a README uses.
func shellCommands(script string) [][]string {
	var cmds [][]string
	var words []string
	var cur strings.Builder
	inWord := false
	flushWord := func() {
		if inWord {
			words = append(words, cur.String())
		}
		cur.Reset()
		inWord = false
	}
	flushCmd := func() {
		flushWord()
		if len(words) > 0 {
			cmds = append(cmds, words)
		}
		words = nil
	}
	lines := strings.Split(strings.ReplaceAll(script, "\\\n", " "), "\n")
	for li := 0; li < len(lines); li++ {
		line := lines[li]
		if m := heredoc.FindStringSubmatch(line); m != nil {
			line = line[:strings.Index(line, "<<")]
			for li+1 < len(lines) && strings.TrimSpace(lines[li+1]) != m[1] {
				li++
			}
			li++ // the delimiter
		}
		var quote rune
		depth := 0
		for k := 0; k < len(line); k++ {
			c := rune(line[k])
			switch {
			case quote != 0:
				if c == quote {
					quote = 0
				} else {
					cur.WriteRune(c)
				}
				inWord = true
			case depth > 0:
				if c == '(' {
					depth++
				} else if c == ')' {
					depth--
				}
				if depth == 0 {
					cur.WriteString("$SUBST")
				}
			case c == '\'' || c == '"':
				quote, inWord = c, true
			case c == '$' && k+1 < len(line) && line[k+1] == '(':
				depth, inWord = 1, true
				k++
			case c == '#' && !inWord:
				k = len(line)
			case c == ' ' || c == '\t':
				flushWord()
			case c == '|' || c == ';' || c == '&':
				flushCmd()
			case c == '>' || c == '<':
				// A redirection: drop it, its file descriptor (2>) and its target.
				if inWord && strings.Trim(cur.String(), "0123456789") == "" {
					cur.Reset()
					inWord = false
				}
				flushWord()
				for k+1 < len(line) && (line[k+1] == '>' || line[k+1] == '&' || line[k+1] == ' ') {
					k++
				}
				for k+1 < len(line) && line[k+1] != ' ' && line[k+1] != ';' && line[k+1] != '|' {
					k++
				}
			default:
				cur.WriteRune(c)
				inWord = true
			}
		}
		flushCmd()
	}
	return cmds
}

var (
	assignRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	imageRE  = regexp.MustCompile(`^([^\s/]+/)*meshtop:[^\s]+$`)
)

// meshtopArgs returns the arguments of meshtop in a simple command, or nil.
func meshtopArgs(w []string) []string {
	for len(w) > 0 && (assignRE.MatchString(w[0]) || w[0] == "sudo" || w[0] == "env" || w[0] == "exec") {
		w = w[1:]
	}
	switch {
	case len(w) == 0:
		return nil
	case w[0] == "meshtop":
		return w[1:]
	case len(w) >= 3 && w[0] == "go" && w[1] == "run" && w[2] == "./cmd/meshtop":
		return w[3:]
	case len(w) >= 2 && (w[0] == "podman" || w[0] == "docker") && w[1] == "run":
		for i, x := range w {
			if imageRE.MatchString(x) {
				return w[i+1:]
			}
		}
	}
	return nil
}

// parseArgs parses args with the real command tree (as --help: nothing runs).
func parseArgs(args []string) error {
	a := make([]string, 0, len(args)+1)
	for _, x := range args {
		if strings.Contains(x, "$") {
			x = "x" // a shell variable's value: a string flag takes anything
		}
		a = append(a, x)
	}
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append(a, "--help"))
	if err := root.Execute(); err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(out.String()))
	}
	return nil
}

func TestReadmeCommands(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	blocks := shBlocks(t, filepath.Join(repo, "README.md"), true)
	blocks = append(blocks, shBlocks(t, filepath.Join(repo, "docs", "deploy.md"), false)...)
	if len(blocks) < 8 {
		t.Fatalf("%d shell blocks found: the parser is lost", len(blocks))
	}
	var bin string
	invocations := 0
	for _, b := range blocks {
		where := fmt.Sprintf("%s:%d", b.file, b.line)
		if out, err := exec.Command("bash", "-n", "-c", b.text).CombinedOutput(); err != nil {
			t.Errorf("%s: not valid shell: %v\n%s", where, err, out)
		}
		for _, ref := range b.refs {
			if _, err := os.Stat(filepath.Join(repo, ref)); err != nil {
				if _, err2 := os.Stat(filepath.Join(repo, "cmd", "meshtop", ref)); err2 != nil {
					t.Errorf("%s: the annotation names %s, which is not in the repository", where, ref)
				}
			}
		}
		for _, w := range b.words {
			args := meshtopArgs(w)
			if args == nil {
				continue
			}
			invocations++
			if err := parseArgs(args); err != nil {
				t.Errorf("%s: meshtop %s: %v", where, strings.Join(args, " "), err)
			}
		}
		if b.mode != "run" {
			continue
		}
		if bin == "" {
			bin = buildBinary(t)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", b.text)
		cmd.Dir = t.TempDir()
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"), "MESHTOP_CONFIG=", "XDG_CONFIG_HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil || len(bytes.TrimSpace(out)) == 0 {
			t.Errorf("%s: running the block: %v\n%s", where, err, out)
		}
	}
	if invocations < 10 {
		t.Errorf("only %d meshtop invocations found: the parser is lost", invocations)
	}
}

// The check can fail: a flag that does not exist, a bad block, an unannotated block.
func TestReadmeCheckCatches(t *testing.T) {
	if err := parseArgs([]string{"live", "--discover", "dns://x", "--no-such-flag"}); err == nil {
		t.Error("an unknown flag passed")
	}
	if err := parseArgs([]string{"no-such-command"}); err == nil {
		t.Error("an unknown command passed")
	}
	cmds := shellCommands("export X=1 # a comment\nSECRET=$(head -c 3 /dev/urandom | od) meshtop live \\\n  --inventory 'a b.yaml' >/dev/null 2>&1 && echo ok\n" +
		"cat > f <<'YAML'\nmeshtop: not a command\nYAML\npodman run -d --network host -e A=\"$B\" registry.example.net/meshtop:1.0.0 agent --pop x\n")
	var got []string
	for _, c := range cmds {
		if a := meshtopArgs(c); a != nil {
			got = append(got, strings.Join(a, " "))
		}
	}
	if want := "live --inventory a b.yaml|agent --pop x"; strings.Join(got, "|") != want {
		t.Errorf("meshtop commands %q, want %q (from %q)", strings.Join(got, "|"), want, cmds)
	}
}
