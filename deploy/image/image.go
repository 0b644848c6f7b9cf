package main

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// The image, layer by layer (no base image: nothing can be pulled at build time, and a
// static binary needs none):
//
//   - /usr/bin/meshtop, root-owned 0755, with the file capability cap_net_raw+p
//     (the xattr security.capability in the layer's tar header; see internal/rawcap
//     for why permitted only, and how the agent makes it effective);
//   - /etc/ssl/certs/ca-certificates.crt (for --record to an https InfluxDB, an https
//     inventory, StackPath), /etc/passwd and /etc/group with the user meshtop
//     (65532, distroless's "nonroot" number), /etc/nsswitch.conf (hosts: files dns,
//     so Go's resolver reads /etc/hosts first as everywhere else);
//   - /tmp (1777) and /var/lib/meshtop (0700, the user's home and serve's state dir,
//     where it keeps its SSH host key unless a volume is mounted there).
//
// It runs as 65532:65532. Root is not needed: `serve`, `live`, `snapshot` need no
// privilege, and the agent needs only CAP_NET_RAW, which `--cap-add NET_RAW` grants
// through the file capability (Docker gives a non-root user no capability otherwise).

// Defaults.
const (
	DefaultCACerts = "/etc/ssl/certs/ca-certificates.crt"
	UID            = 65532
	Binary         = "/usr/bin/meshtop"
	Home           = "/var/lib/meshtop"
	Repository     = "meshtop"
)

// Options say what to build.
type Options struct {
	Binary, OS, Arch, Version, Commit, CACerts string
	Created                                    time.Time // zero: the binary's mtime
}

// Tags are the names an archive loads as: one, so that manifest.json (and the archive)
// is the same bytes on every build of the same inputs.
func Tags(version string) []string {
	return []string{Repository + ":" + version}
}

// capNetRawPermitted is struct vfs_cap_data, revision 2 (linux/capability.h): magic and
// flags (no VFS_CAP_FLAGS_EFFECTIVE), then permitted and inheritable for capabilities
// 0-31 and 32-63. CAP_NET_RAW is 13.
func capNetRawPermitted() []byte {
	const vfsCapRevision2 = 0x02000000
	b := make([]byte, 20)
	binary.LittleEndian.PutUint32(b[0:], vfsCapRevision2)
	binary.LittleEndian.PutUint32(b[4:], 1<<13)
	return b
}

// XattrCapability is the PAX record that carries a file capability in a layer.
const XattrCapability = "SCHILY.xattr.security.capability"

type entry struct {
	name     string
	mode     int64
	uid, gid int
	dir      bool
	data     []byte
	pax      map[string]string
}

// layer is one uncompressed tar of entries, all stamped with t.
func layer(entries []entry, t time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name: strings.TrimPrefix(e.name, "/"), Mode: e.mode, Uid: e.uid, Gid: e.gid,
			ModTime: t, Typeflag: tar.TypeReg, Size: int64(len(e.data)), Format: tar.FormatPAX,
			PAXRecords: e.pax,
		}
		if e.dir {
			h.Typeflag, h.Size, h.Name = tar.TypeDir, 0, h.Name+"/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tar %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("tar %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Build makes the image.
func Build(o Options) (v1.Image, error) {
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return nil, fmt.Errorf("read the binary: %w", err)
	}
	if o.Created.IsZero() {
		st, err := os.Stat(o.Binary)
		if err != nil {
			return nil, err
		}
		o.Created = st.ModTime()
	}
	o.Created = o.Created.UTC().Truncate(time.Second)
	certs, err := os.ReadFile(o.CACerts)
	if err != nil {
		return nil, fmt.Errorf("read the CA bundle (Debian: apt-get install ca-certificates): %w", err)
	}
	u := fmt.Sprint(UID)
	system := []entry{
		{name: "/etc", mode: 0o755, dir: true},
		{name: "/etc/passwd", mode: 0o644, data: []byte("root:x:0:0:root:/root:/sbin/nologin\nmeshtop:x:" + u + ":" + u + ":meshtop:" + Home + ":/sbin/nologin\n")},
		{name: "/etc/group", mode: 0o644, data: []byte("root:x:0:\nmeshtop:x:" + u + ":\n")},
		{name: "/etc/nsswitch.conf", mode: 0o644, data: []byte("hosts: files dns\n")},
		{name: "/etc/ssl", mode: 0o755, dir: true},
		{name: "/etc/ssl/certs", mode: 0o755, dir: true},
		{name: "/etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: certs},
		{name: "/tmp", mode: 0o1777, dir: true},
		{name: "/var", mode: 0o755, dir: true},
		{name: "/var/lib", mode: 0o755, dir: true},
		{name: Home, mode: 0o700, uid: UID, gid: UID, dir: true},
	}
	app := []entry{
		{name: "/usr", mode: 0o755, dir: true},
		{name: "/usr/bin", mode: 0o755, dir: true},
		{name: Binary, mode: 0o755, data: bin, pax: map[string]string{XattrCapability: string(capNetRawPermitted())}},
	}
	img := empty.Image
	// Two layers: the system files change rarely, the binary every release.
	for _, es := range [][]entry{system, app} {
		b, err := layer(es, o.Created)
		if err != nil {
			return nil, err
		}
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
		if err != nil {
			return nil, err
		}
		if img, err = mutate.Append(img, mutate.Addendum{Layer: l, History: v1.History{
			Created: v1.Time{Time: o.Created}, CreatedBy: "meshtop deploy/image", Comment: es[len(es)-1].name,
		}}); err != nil {
			return nil, err
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = o.OS, o.Arch
	if o.Arch == "arm64" {
		cf.Variant = "v8"
	}
	labels := map[string]string{
		"org.opencontainers.image.title":       "meshtop",
		"org.opencontainers.image.description": "Latency mesh between points of presence: Scouter-compatible agent, live grid, SSH serve",
		"org.opencontainers.image.version":     o.Version,
		"org.opencontainers.image.licenses":    "MIT",
		"org.opencontainers.image.source":      "https://github.com/meshtop/meshtop",
	}
	if o.Commit != "" {
		labels["org.opencontainers.image.revision"] = o.Commit
	}
	cf.Config = v1.Config{
		User:       u + ":" + u,
		Entrypoint: []string{Binary},
		Cmd:        []string{"--help"},
		WorkingDir: Home,
		Env: []string{
			"PATH=/usr/bin",
			"HOME=" + Home,
			// serve keeps its host key here (its --state-dir default).
			"STATE_DIRECTORY=" + Home,
		},
		ExposedPorts: map[string]struct{}{"8000/tcp": {}, "2222/tcp": {}},
		Labels:       labels,
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	return mutate.CreatedAt(img, v1.Time{Time: o.Created})
}

// WriteArchive builds the image and writes it as a docker-archive tagged Tags(version).
func WriteArchive(path string, o Options) error {
	img, err := Build(o)
	if err != nil {
		return err
	}
	refs := map[name.Tag]v1.Image{}
	for _, t := range Tags(o.Version) {
		tag, err := name.NewTag(t, name.WithDefaultRegistry(""))
		if err != nil {
			return fmt.Errorf("tag %s: %w", t, err)
		}
		refs[tag] = img
	}
	tmp := path + ".tmp"
	if err := tarball.MultiWriteToFile(tmp, refs); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}
