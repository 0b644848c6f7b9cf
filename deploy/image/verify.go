package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Contents is an image archive read back: its tags, config, and every file.
type Contents struct {
	Tags   []string
	Config *v1.ConfigFile
	Files  map[string]*tar.Header // "/usr/bin/meshtop"
	Data   map[string][]byte
}

// Read reads a docker-archive written by WriteArchive.
func Read(path string) (*Contents, error) {
	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(path) })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(m) != 1 {
		return nil, fmt.Errorf("%s holds %d images, want 1", path, len(m))
	}
	img, err := tarball.ImageFromPath(path, nil)
	if err != nil {
		return nil, err
	}
	c := &Contents{Tags: m[0].RepoTags, Files: map[string]*tar.Header{}, Data: map[string][]byte{}}
	if c.Config, err = img.ConfigFile(); err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			return nil, err
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rc.Close()
				return nil, err
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				rc.Close()
				return nil, err
			}
			name := "/" + strings.TrimSuffix(h.Name, "/")
			c.Files[name], c.Data[name] = h, b
		}
		rc.Close()
	}
	return c, nil
}

// Verify checks an archive as the release ships it: tags, platform, user, entry
// point, the binary (for arch, with its file capability) and the files beside it.
func Verify(path, arch, version string) error {
	c, err := Read(path)
	if err != nil {
		return err
	}
	var problems []string
	bad := func(f string, a ...any) { problems = append(problems, fmt.Sprintf(f, a...)) }
	if want := strings.Join(Tags(version), " "); strings.Join(c.Tags, " ") != want {
		bad("tags %v, want %s", c.Tags, want)
	}
	cf := c.Config
	if cf.OS != "linux" || cf.Architecture != arch {
		bad("platform %s/%s, want linux/%s", cf.OS, cf.Architecture, arch)
	}
	if cf.Config.User != fmt.Sprintf("%d:%d", UID, UID) {
		bad("user %q, want %d:%d", cf.Config.User, UID, UID)
	}
	if strings.Join(cf.Config.Entrypoint, " ") != Binary {
		bad("entry point %q, want %s", cf.Config.Entrypoint, Binary)
	}
	h := c.Files[Binary]
	switch {
	case h == nil:
		bad("no %s", Binary)
	default:
		if h.Mode != 0o755 || h.Uid != 0 || h.Gid != 0 {
			bad("%s: mode %o owner %d:%d, want 0755 root", Binary, h.Mode, h.Uid, h.Gid)
		}
		if capb := []byte(h.PAXRecords[XattrCapability]); !bytes.Equal(capb, capNetRawPermitted()) {
			bad("%s: file capability %x, want cap_net_raw+p (%x)", Binary, capb, capNetRawPermitted())
		}
		want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[arch]
		if f, err := elf.NewFile(bytes.NewReader(c.Data[Binary])); err != nil {
			bad("%s is not an ELF binary: %v", Binary, err)
		} else if f.Machine != want {
			bad("%s is for %s, want %s", Binary, f.Machine, want)
		} else if f.Section(".interp") != nil {
			bad("%s is dynamically linked (has an interpreter): not static", Binary)
		}
	}
	if !bytes.Contains(c.Data["/etc/passwd"], fmt.Appendf(nil, "meshtop:x:%d:%d:", UID, UID)) {
		bad("/etc/passwd has no user meshtop (%d)", UID)
	}
	if len(c.Data["/etc/ssl/certs/ca-certificates.crt"]) < 1000 {
		bad("no CA bundle in /etc/ssl/certs/ca-certificates.crt")
	}
	if d := c.Files[Home]; d == nil || d.Uid != UID {
		bad("%s is not the user's", Home)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %s", path, strings.Join(problems, "; "))
	}
	return nil
}

// capVersion reads the revision of a vfs_cap_data (for tests).
func capVersion(b []byte) uint32 { return binary.LittleEndian.Uint32(b) & 0xff000000 }
