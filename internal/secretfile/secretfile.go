// Package secretfile reads a secret from a file named by a flag (--scouter-secret-file,
// agent --secret-file) or an inventory entry (secret_file): bounded, from a regular file
// only, never echoing the content. A secret is one line; the newline an editor or `echo`
// leaves is dropped.
package secretfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"syscall"

	"github.com/meshtop/meshtop/internal/scrub"
)

// MaxBytes bounds a secret file. Shared secrets, API keys and passwords are far shorter;
// anything longer is the wrong file (a key store, a log, /dev/zero behind a symlink).
const MaxBytes = 4 << 10

var (
	// ErrEmpty: the file holds nothing but a newline.
	ErrEmpty = errors.New("is empty")
	// ErrLines: the file holds more than one line.
	ErrLines = errors.New("holds more than one line; want the secret alone")
)

// Warnf receives the warning about a file that others can read; it goes to stderr
// unless a program (or test) sets its own. Each path is warned about once.
var Warnf = func(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "meshtop: warning: "+format+"\n", args...)
}

var warned sync.Map // path -> true

// Read returns the secret in the file at path. It refuses what is not a regular file
// (a directory, /dev/zero, /dev/stdin, a named pipe: reading those would hang or never
// end) and files over MaxBytes, and warns once when the file is readable by others, or
// by a group this process is not in. Errors name the file and say what is wrong, never what it holds; callers add
// the flag or key. ErrEmpty and ErrLines are wrapped.
func Read(path string) (string, error) {
	// Stat first: opening a named pipe for reading blocks until a writer comes.
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if err := regular(path, fi); err != nil {
		return "", err
	}
	// O_NONBLOCK: should the path be swapped for a pipe after the Stat, open returns at
	// once, and the second check below refuses it.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return "", err
	}
	if err := regular(path, fi); err != nil {
		return "", err
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxBytes+1))
	if err != nil {
		return "", &fs.PathError{Op: "read", Path: path, Err: err}
	}
	if len(b) > MaxBytes {
		return "", fmt.Errorf("%s is larger than %d KiB: not a secret file", path, MaxBytes>>10)
	}
	if perm := fi.Mode().Perm(); perm&0o004 != 0 || (perm&0o040 != 0 && !ownGroup(fi)) {
		if _, done := warned.LoadOrStore(path, true); !done {
			Warnf("secret file %s is readable by other users (mode %04o); fix with chmod 600 %s", path, perm, path)
		}
	}
	s := strings.TrimRight(string(b), "\r\n")
	switch {
	case s == "":
		return "", fmt.Errorf("%s %w", path, ErrEmpty)
	case strings.ContainsAny(s, "\r\n"):
		return "", fmt.Errorf("%s %w", path, ErrLines)
	}
	scrub.Add(s)
	return s, nil
}

// regular refuses anything but a regular file, saying what it is.
func regular(path string, fi fs.FileInfo) error {
	m := fi.Mode()
	if m.IsRegular() {
		return nil
	}
	what := "not a regular file"
	switch {
	case m.IsDir():
		what = "a directory"
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe"
	case m&fs.ModeCharDevice != 0:
		what = "a character device"
	case m&fs.ModeDevice != 0:
		what = "a device"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	}
	return fmt.Errorf("%s is %s, not a regular file: put the secret alone in a plain file (chmod 600)", path, what)
}

// ownGroup says whether the file's group is one this process is in: a secret shared
// with the service's own group (0640 root:meshtop, a Kubernetes fsGroup) is not
// readable by "other users".
func ownGroup(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	gid := int(st.Gid)
	if gid == os.Getgid() {
		return true
	}
	groups, err := os.Getgroups()
	if err != nil {
		return false
	}
	for _, g := range groups {
		if g == gid {
			return true
		}
	}
	return false
}
