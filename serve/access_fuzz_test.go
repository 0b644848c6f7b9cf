package serve

import (
	"net"
	"strings"
	"testing"
	"time"
)

// FuzzAccessFiles feeds arbitrary bytes to the authorized_keys and role-list parsers:
// never a panic, and whatever they accept is a SHA256 fingerprint.
func FuzzAccessFiles(f *testing.F) {
	f.Add([]byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl op@laptop\n"))
	f.Add([]byte("# comment\n\n256 SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU op (ED25519)\n"))
	f.Add([]byte("command=\"x\",no-pty ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"))
	f.Add([]byte("SHA256:\nssh-rsa !!!\n\x00\xff"))
	f.Add([]byte("from=\"10.0.0.0/8,!10.1.*\",expiry-time=\"20990101Z\",restrict,pty ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"))
	f.Add([]byte("cert-authority,principals=\"a\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"))
	remote := &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 22}
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := parseKeys("f", data)
		if err != nil && !strings.HasPrefix(err.Error(), "f:") {
			t.Fatalf("error without file:line: %v", err)
		}
		for _, k := range keys {
			if !strings.HasPrefix(k.fp, "SHA256:") || len(k.fp) <= len("SHA256:") || !strings.HasPrefix(k.where, "f:") {
				t.Fatalf("accepted %+v", k)
			}
			if ok, why := k.admits(remote, time.Now()); ok == (why != "") || (k.refuse != "" && ok) {
				t.Fatalf("line %+v: admits %v (%q)", k, ok, why)
			}
		}
		got, err := parseFingerprints("f", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f:") {
				t.Fatalf("error without file:line: %v", err)
			}
			return
		}
		for fp := range got {
			if !strings.HasPrefix(fp, "SHA256:") || len(fp) <= len("SHA256:") {
				t.Fatalf("accepted %q", fp)
			}
		}
	})
}
