package serve

import (
	"strings"
	"testing"
)

// FuzzAccessFiles feeds arbitrary bytes to the authorized_keys and role-list parsers:
// never a panic, and whatever they accept is a SHA256 fingerprint.
func FuzzAccessFiles(f *testing.F) {
	f.Add([]byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl op@laptop\n"))
	f.Add([]byte("# comment\n\n256 SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU op (ED25519)\n"))
	f.Add([]byte("command=\"x\",no-pty ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"))
	f.Add([]byte("SHA256:\nssh-rsa !!!\n\x00\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, parse := range []func(string, []byte) (map[string]bool, error){parseKeys, parseFingerprints} {
			got, err := parse("f", data)
			if err != nil {
				if !strings.HasPrefix(err.Error(), "f:") {
					t.Fatalf("error without file:line: %v", err)
				}
				continue
			}
			for fp := range got {
				if !strings.HasPrefix(fp, "SHA256:") || len(fp) <= len("SHA256:") {
					t.Fatalf("accepted %q", fp)
				}
			}
		}
	})
}
