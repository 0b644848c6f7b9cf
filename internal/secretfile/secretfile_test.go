package secretfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func write(t *testing.T, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return p
}

func TestRead(t *testing.T) {
	var warnings []string
	saved := Warnf
	Warnf = func(format string, args ...any) { warnings = append(warnings, fmt.Sprintf(format, args...)) }
	t.Cleanup(func() { Warnf = saved })

	if s, err := Read(write(t, "ok", "s3cret\n", 0o600)); s != "s3cret" || err != nil {
		t.Errorf("plain file: %q, %v", s, err)
	}
	if s, err := Read(write(t, "crlf", "s3cret\r\n", 0o400)); s != "s3cret" || err != nil {
		t.Errorf("CRLF: %q, %v", s, err)
	}
	if len(warnings) != 0 {
		t.Errorf("warned about private files: %v", warnings)
	}

	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, want string
		is               error
	}{
		{"dev zero", "/dev/zero", "/dev/zero is a character device, not a regular file", nil},
		{"dev stdin", "/dev/stdin", "/dev/stdin is", nil},
		{"fifo", fifo, fifo + " is a named pipe, not a regular file", nil},
		{"directory", t.TempDir(), "is a directory, not a regular file", nil},
		{"missing", filepath.Join(t.TempDir(), "nope"), "no such file", nil},
		{"too big", write(t, "big", strings.Repeat("x", MaxBytes+1), 0o600), "larger than 4 KiB", nil},
		{"empty", write(t, "empty", "\n", 0o600), "is empty", ErrEmpty},
		{"two lines", write(t, "two", "SECRET-ONE\nSECRET-TWO\n", 0o600), "more than one line", ErrLines},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Read(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Read = %q, %v; want an error saying %q", s, err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			if strings.Contains(err.Error(), "SECRET-") {
				t.Errorf("error %q shows the content", err)
			}
		})
	}

	// Shared with the process's own group (0640 root:meshtop for the service meshtop):
	// no warning.
	group := write(t, "group", "s3cret\n", 0o640)
	if err := os.Chown(group, -1, os.Getgid()); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(group); err != nil || len(warnings) != 0 {
		t.Fatalf("group-readable by our own group: %v, warnings %q", err, warnings)
	}
	shared := write(t, "shared", "s3cret\n", 0o644)
	for range 3 {
		if _, err := Read(shared); err != nil {
			t.Fatal(err)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], shared) || !strings.Contains(warnings[0], "chmod 600") {
		t.Errorf("warnings %q, want one naming the file and the fix", warnings)
	}
}
