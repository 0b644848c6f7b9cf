package main

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
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
	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(archive) })
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || strings.Join(m[0].RepoTags, " ") != "meshtop:1.2.3 meshtop:latest" {
		t.Fatalf("manifest.json: %+v", m)
	}
	img, err := tarball.ImageFromPath(archive, nil)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	files, data = map[string]*tar.Header{}, map[string][]byte{}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(tr)
			files["/"+strings.TrimSuffix(h.Name, "/")], data["/"+h.Name] = h, b
		}
		rc.Close()
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != "arm64" || cf.Config.User != "65532:65532" ||
		strings.Join(cf.Config.Entrypoint, " ") != Binary || !cf.Created.Time.Equal(created) {
		t.Fatalf("config: os %s arch %s user %q entrypoint %q created %s", cf.OS, cf.Architecture, cf.Config.User, cf.Config.Entrypoint, cf.Created)
	}
	return archive, files, data
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
	if magic&0xff000000 != 0x02000000 || magic&1 != 0 {
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
