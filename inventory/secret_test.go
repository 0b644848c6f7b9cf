package inventory

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestSecretFileNotRegular: secret_file pointing at a device or a pipe is refused at
// once, with the line, instead of reading /dev/zero until memory runs out or waiting on
// /dev/stdin forever (issue 10).
func TestSecretFileNotRegular(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	const ok = "agents:\n  - name: ok-0\n    pop: ok\n    address: 127.0.0.1\n"
	for _, tc := range []struct{ path, want string }{
		{"/dev/zero", "/dev/zero is a character device, not a regular file"},
		{"/dev/stdin", "/dev/stdin is"},
		{fifo, "is a named pipe, not a regular file"},
	} {
		_, err := Parse([]byte(ok+"    secret_file: "+tc.path+"\n"), "inv.yaml", 8000)
		if err == nil || !strings.Contains(err.Error(), `inv.yaml:5: agent "ok-0": secret_file: cannot read the secret`) ||
			!strings.Contains(err.Error(), tc.want) {
			t.Errorf("secret_file %s: err %v, want line 5 and %q", tc.path, err, tc.want)
		}
	}
}
