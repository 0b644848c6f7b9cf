package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVersionFromSourceBuild builds meshtop the way a user does from a git checkout (no
// ldflags) and checks that `meshtop version` shows the revision Go stamped into it. The
// source is copied into a fresh repository: Go stamps only where .git is a directory,
// which a git worktree's is not.
func TestVersionFromSourceBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	top, err := exec.Command(git, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	src := strings.TrimSpace(string(top))
	files, err := exec.Command(git, "-C", src, "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range strings.Split(strings.TrimSpace(string(files)), "\n") {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			continue // deleted in the working tree
		}
		dst := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=true", "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.invalid",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.invalid", "GIT_CONFIG_GLOBAL=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	run(git, "init", "-q")
	run(git, "add", "-A")
	run(git, "commit", "-q", "-m", "source build")
	rev := strings.TrimSpace(run(git, "rev-parse", "HEAD"))
	bin := filepath.Join(t.TempDir(), "meshtop")
	run("go", "build", "-o", bin, "./cmd/meshtop")
	out := run(bin, "version")
	if !strings.Contains(out, "commit:   "+rev+"\n") {
		t.Errorf("meshtop version from a source build:\n%s\nwant commit %s", out, rev)
	}
	if strings.Contains(out, "date:     unknown") {
		t.Errorf("no commit date:\n%s", out)
	}
}
