package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecretFileFlags: both secret file flags refuse what is not a plain file, naming
// the flag and the file (issue 10).
func TestSecretFileFlags(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "secret")
	if err := os.WriteFile(good, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := (&discoveryOptions{secretFile: good}).secret(); s != "s3cret" || err != nil {
		t.Errorf("--scouter-secret-file: %q, %v", s, err)
	}
	if s, err := agentSecret(&agentOptions{secretFile: good}); s != "s3cret" || err != nil {
		t.Errorf("agent --secret-file: %q, %v", s, err)
	}
	for _, path := range []string{"/dev/zero", dir} {
		_, err := (&discoveryOptions{secretFile: path}).secret()
		if err == nil || !strings.Contains(err.Error(), "--scouter-secret-file: "+path+" is a ") {
			t.Errorf("--scouter-secret-file %s: %v", path, err)
		}
		_, err = agentSecret(&agentOptions{secretFile: path})
		if err == nil || !strings.Contains(err.Error(), "--secret-file") || !strings.Contains(err.Error(), path+" is a ") {
			t.Errorf("agent --secret-file %s: %v", path, err)
		}
	}
}

// TestInventoryErrorsSaidOnce: "read inventory: read inventory:" was doubled (issue 10).
func TestInventoryErrorsSaidOnce(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "agents.yaml")
	_, err := (&discoveryOptions{inventory: missing, scouterPort: 8000}).agents(t.Context())
	if err == nil || strings.Count(err.Error(), "read inventory") != 1 || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing inventory: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "agents.yaml")
	if err := os.WriteFile(bad, []byte("agents:\n  - name: a\n    pop: a\n  address: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = (&discoveryOptions{inventory: bad, scouterPort: 8000}).agents(t.Context())
	if err == nil || !strings.HasPrefix(err.Error(), bad+":4: invalid YAML") {
		t.Errorf("YAML error on line 4: %v", err)
	}
}
