package yamlx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.yaml")
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(small, []byte("a: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(big, []byte(strings.Repeat("#", 2048+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(small, 2048, "a config file"); err != nil || string(b) != "a: 1\n" {
		t.Fatalf("small: %q, %v", b, err)
	}
	if _, err := ReadFile(big, 2048, "a config file"); err == nil || !strings.Contains(err.Error(), "larger than 2 KiB: not a config file") {
		t.Fatalf("big: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), 2048, "x"); !os.IsNotExist(err) {
		t.Fatalf("missing: %v", err)
	}
}
