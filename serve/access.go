package serve

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

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
// later.
func (a Access) Check() error {
	if a.AuthorizedKeys == "" {
		return errors.New("--authorized-keys is required: serve has no password login")
	}
	keys, err := readKeys(a.AuthorizedKeys)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
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

// Role decides a key's role; ok is false when the key may not log in.
func (a Access) Role(key gossh.PublicKey) (role Role, fingerprint string, ok bool, err error) {
	fp := gossh.FingerprintSHA256(key)
	keys, err := readKeys(a.AuthorizedKeys)
	if err != nil {
		return "", fp, false, err
	}
	if !keys[fp] {
		return "", fp, false, nil
	}
	if a.Operators != "" {
		ops, err := readFingerprints(a.Operators)
		if err != nil {
			return "", fp, false, err
		}
		if ops[fp] {
			return RoleOperator, fp, true, nil
		}
	}
	if a.Viewers != "" {
		vs, err := readFingerprints(a.Viewers)
		if err != nil {
			return "", fp, false, err
		}
		if !vs[fp] {
			return "", fp, false, nil
		}
	}
	return RoleViewer, fp, true, nil
}

// readKeys returns the SHA256 fingerprints of an authorized_keys file.
func readKeys(path string) (map[string]bool, error) {
	data, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	return parseKeys(path, data)
}

func parseKeys(path string, data []byte) (map[string]bool, error) {
	out := map[string]bool{}
	for n, line := range lines(data) {
		k, _, _, _, err := gossh.ParseAuthorizedKey([]byte(line))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: not an authorized_keys line: %w", path, n, err)
		}
		out[gossh.FingerprintSHA256(k)] = true
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
	for n, line := range lines(data) {
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

// lines yields the non-empty, non-comment lines of data with their 1-based numbers.
func lines(data []byte) map[int]string {
	out := map[int]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), maxAccessFile)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if l != "" && !strings.HasPrefix(l, "#") {
			out[n] = l
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
