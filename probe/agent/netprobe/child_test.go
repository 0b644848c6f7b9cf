//go:build linux

package netprobe

import (
	"os/exec"
	"strings"
	"testing"
)

// runChild re-runs test name of the test binary bin inside network namespace ns, with
// env (NAME=VALUE, the child's cue) set, behind the wrapper command wrap (e.g. setpriv
// to drop root; may be empty). The test fails unless the child's test passed; the
// child's output goes to the log.
func runChild(t *testing.T, ns, bin, name string, env []string, wrap ...string) {
	t.Helper()
	args := append([]string{"netns", "exec", ns}, wrap...)
	args = append(append(append(args, "env"), env...), bin,
		"-test.run=^"+name+"$", "-test.v", "-test.count=1", "-test.timeout=2m")
	out, err := exec.Command("ip", args...).CombinedOutput()
	t.Logf("child in %s:\n%s", ns, out)
	if err != nil || !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("child did not pass: %v", err)
	}
}
