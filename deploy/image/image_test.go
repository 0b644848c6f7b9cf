package main

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeBuild writes an image archive of a stand-in binary and reads it back.
func fakeBuild(t *testing.T) (archive string, files map[string]*tar.Header, data map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "meshtop")
	if err := os.WriteFile(bin, []byte("\x7fELF not really"), 0o755); err != nil {
		t.Fatal(err)
	}
	certs := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(certs, []byte("-----BEGIN CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	archive = filepath.Join(dir, "x.image.tar")
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := WriteArchive(archive, Options{Binary: bin, OS: "linux", Arch: "arm64", Version: "1.2.3", CACerts: certs, Created: created}); err != nil {
		t.Fatal(err)
	}
	c, err := Read(archive)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Tags, " ") != "meshtop:1.2.3" {
		t.Fatalf("tags %v", c.Tags)
	}
	cf := c.Config
	if cf.OS != "linux" || cf.Architecture != "arm64" || cf.Config.User != "65532:65532" ||
		strings.Join(cf.Config.Entrypoint, " ") != Binary || !cf.Created.Time.Equal(created) {
		t.Fatalf("config: os %s arch %s user %q entrypoint %q created %s", cf.OS, cf.Architecture, cf.Config.User, cf.Config.Entrypoint, cf.Created)
	}
	return archive, c.Files, c.Data
}

// The image holds what a static binary needs and nothing else, the binary carries
// CAP_NET_RAW as a permitted-only file capability, and the user exists.
func TestImageContents(t *testing.T) {
	_, files, data := fakeBuild(t)
	bin := files[Binary]
	if bin == nil {
		t.Fatalf("no %s in the image: %v", Binary, files)
	}
	if bin.Mode != 0o755 || bin.Uid != 0 {
		t.Errorf("%s: mode %o uid %d, want 0755 root", Binary, bin.Mode, bin.Uid)
	}
	capb := []byte(bin.PAXRecords[XattrCapability])
	if len(capb) != 20 {
		t.Fatalf("%s: capability xattr %x, want 20 bytes of vfs_cap_data rev 2", Binary, capb)
	}
	magic := binary.LittleEndian.Uint32(capb[0:])
	if capVersion(capb) != 0x02000000 || magic&1 != 0 {
		t.Errorf("capability magic %#x: want revision 2 without the effective flag", magic)
	}
	if perm := binary.LittleEndian.Uint32(capb[4:]); perm != 1<<13 {
		t.Errorf("permitted %#x, want CAP_NET_RAW only", perm)
	}
	if !bytes.Contains(data["/etc/passwd"], []byte("meshtop:x:65532:65532:")) || !bytes.Contains(data["/etc/group"], []byte("meshtop:x:65532:")) {
		t.Errorf("user meshtop missing: %s %s", data["/etc/passwd"], data["/etc/group"])
	}
	if h := files[Home]; h == nil || h.Uid != UID || h.Typeflag != tar.TypeDir {
		t.Errorf("%s is not the user's directory: %+v", Home, h)
	}
	if h := files["/tmp"]; h == nil || h.Mode != 0o1777 {
		t.Errorf("/tmp: %+v", h)
	}
	if len(data["/etc/ssl/certs/ca-certificates.crt"]) == 0 {
		t.Error("no CA bundle")
	}
}

// The same inputs build the same bytes: a release can be rebuilt and compared.
func TestImageReproducible(t *testing.T) {
	a, _, _ := fakeBuild(t)
	b, _, _ := fakeBuild(t)
	x, _ := os.ReadFile(a)
	y, _ := os.ReadFile(b)
	if !bytes.Equal(x, y) {
		t.Fatal("two builds of the same inputs differ")
	}
}

func TestNoImageForDarwin(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.tar")
	if err := run([]string{"--os", "darwin", "--arch", "arm64", "--binary", "/nonexistent", "--out", out}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("an image was written for darwin")
	}
}

// Verify, as the release check runs it, refuses what the release must not ship.
func TestVerifyRefusesAFakeBinary(t *testing.T) {
	archive, _, _ := fakeBuild(t)
	err := Verify(archive, "arm64", "1.2.3")
	if err == nil || !strings.Contains(err.Error(), "is not an ELF binary") || !strings.Contains(err.Error(), "no CA bundle") {
		t.Fatalf("Verify of a stand-in: %v", err)
	}
	if err := Verify(archive, "amd64", "9.9.9"); err == nil || !strings.Contains(err.Error(), "want linux/amd64") || !strings.Contains(err.Error(), "tags") {
		t.Fatalf("Verify for the wrong arch and version: %v", err)
	}
}
