package serve

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// Role is what a session may do.
type Role string

// Roles. A viewer only looks; an operator may also ask for a sweep now (`r`), within the
// team's rate limit.
const (
	RoleViewer   Role = "viewer"
	RoleOperator Role = "operator"
)

// Access says who may log in and in which role. Keys must be in AuthorizedKeys; a key
// whose fingerprint is in Operators is an operator. When Viewers is set, every other key
// must be in it too (an authorized_keys file shared with other services need not let
// everyone in). The files are read on every login, so adding a key needs no restart.
type Access struct {
	AuthorizedKeys string // OpenSSH authorized_keys format
	Operators      string // optional: SHA256 fingerprints or public-key lines, one a line
	Viewers        string // optional: the same format
}

// maxAccessFile bounds each access file.
const maxAccessFile = 1 << 20

// Check reads every file once, so that a typo is an error at start, not a refused login
// later. Lines that admit nobody (an option serve cannot honour) are not errors, since
// the file may be sshd's too: Lint lists them.
func (a Access) Check() error {
	if a.AuthorizedKeys == "" {
		return errors.New("--authorized-keys is required: serve has no password login")
	}
	keys, err := readKeys(a.AuthorizedKeys)
	if err != nil {
		return err
	}
	usable := 0
	for _, k := range keys {
		if k.refuse == "" {
			usable++
		}
	}
	if usable == 0 {
		if len(keys) > 0 {
			return fmt.Errorf("%s: no key may log in: %s", a.AuthorizedKeys, keys[0].refuse)
		}
		return fmt.Errorf("%s: no keys: nobody could log in", a.AuthorizedKeys)
	}
	for _, f := range []string{a.Operators, a.Viewers} {
		if f != "" {
			if _, err := readFingerprints(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// Lint lists, as FILE:LINE: why, the authorized_keys lines that admit nobody and the
// options that are not honoured as sshd would, for the log at start.
func (a Access) Lint() []string {
	keys, err := readKeys(a.AuthorizedKeys)
	if err != nil {
		return nil
	}
	var out []string
	for _, k := range keys {
		switch {
		case k.refuse != "":
			out = append(out, k.where+": admits nobody: "+k.refuse)
		case k.note != "":
			out = append(out, k.where+": "+k.note)
		}
	}
	return out
}

// Grant is what a key may do once it logged in.
type Grant struct {
	Role        Role
	Fingerprint string
	// NoPty: the line that admitted the key says restrict or no-pty; serve has nothing
	// but a terminal to offer it.
	NoPty bool
	Line  string // FILE:LINE that admitted the key
}

// Authorize decides whether key may log in from remote at now, and as what. ok false
// with a reason is a refusal (why names the line and the option); err is an access
// file that cannot be read. Like sshd, the first line of the key whose options admit
// the connection decides.
func (a Access) Authorize(key gossh.PublicKey, remote net.Addr, now time.Time) (g Grant, ok bool, why string, err error) {
	g.Fingerprint = gossh.FingerprintSHA256(key)
	if _, cert := key.(*gossh.Certificate); cert {
		return g, false, "certificates are not accepted", nil
	}
	keys, err := readKeys(a.AuthorizedKeys)
	if err != nil {
		return g, false, "", err
	}
	var line *keyLine
	for i := range keys {
		if keys[i].fp != g.Fingerprint {
			continue
		}
		admit, reason := keys[i].admits(remote, now)
		if admit {
			line = &keys[i]
			break
		}
		if why == "" {
			why = reason
		}
	}
	if line == nil {
		if why == "" {
			why = "unknown key"
		}
		return g, false, why, nil
	}
	g.NoPty, g.Line = line.noPty, line.where
	if a.Operators != "" {
		ops, err := readFingerprints(a.Operators)
		if err != nil {
			return g, false, "", err
		}
		if ops[g.Fingerprint] {
			g.Role = RoleOperator
			return g, true, "", nil
		}
	}
	if a.Viewers != "" {
		vs, err := readFingerprints(a.Viewers)
		if err != nil {
			return g, false, "", err
		}
		if !vs[g.Fingerprint] {
			return g, false, "not in " + a.Viewers, nil
		}
	}
	g.Role = RoleViewer
	return g, true, "", nil
}

// readKeys reads an authorized_keys file.
func readKeys(path string) ([]keyLine, error) {
	data, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	return parseKeys(path, data)
}

func parseKeys(path string, data []byte) ([]keyLine, error) {
	var out []keyLine
	for _, l := range lines(data) {
		k, err := parseKeyLine(fmt.Sprintf("%s:%d", path, l.n), l.text)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: not an authorized_keys line: %w", path, l.n, err)
		}
		out = append(out, k)
	}
	return out, nil
}

// readFingerprints reads a role list: each line a fingerprint as `ssh-keygen -lf`
// prints it ("256 SHA256:... comment (ED25519)" or just "SHA256:..."), or a public key.
func readFingerprints(path string) (map[string]bool, error) {
	data, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	return parseFingerprints(path, data)
}

func parseFingerprints(path string, data []byte) (map[string]bool, error) {
	out := map[string]bool{}
	for _, l := range lines(data) {
		n, line := l.n, l.text
		found := false
		for f := range strings.FieldsSeq(line) {
			if strings.HasPrefix(f, "SHA256:") && len(f) > len("SHA256:") {
				out[f], found = true, true
				break
			}
		}
		if !found {
			k, _, _, _, err := gossh.ParseAuthorizedKey([]byte(line))
			if err != nil {
				return nil, fmt.Errorf("%s:%d: want a SHA256 fingerprint or a public key", path, n)
			}
			out[gossh.FingerprintSHA256(k)] = true
		}
	}
	return out, nil
}

// numbered is a line of a file with its 1-based number.
type numbered struct {
	n    int
	text string
}

// lines returns the non-empty, non-comment lines of data in order.
func lines(data []byte) []numbered {
	var out []numbered
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), maxAccessFile)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, numbered{n, l})
		}
	}
	return out
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read access file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read access file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxAccessFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxAccessFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxAccessFile)
	}
	return data, nil
}
