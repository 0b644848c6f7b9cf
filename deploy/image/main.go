// Command image builds meshtop's OCI container image from a release binary, without a
// Docker daemon and without pulling a base image: every layer is made here, from
// scratch. goreleaser runs it after each build (.goreleaser.yaml, builds.hooks.post);
// for a linux binary it writes dist/meshtop_VERSION_linux_ARCH.image.tar, a
// docker-archive that `podman load -i` and `docker load -i` accept, tagged
// meshtop:VERSION. Other systems get no image.
//
//	go run ./deploy/image --binary dist/meshtop_linux_amd64_v1/meshtop --os linux \
//	    --arch amd64 --version 1.2.3 --created 2026-01-02T03:04:05Z --out dist/x.image.tar
//	go run ./deploy/image --verify dist/x.image.tar --arch amd64 --version 1.2.3
//
// What is in it, and why, is in image.go.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	var o Options
	var created, out, verify string
	fs.StringVar(&o.Binary, "binary", "", "the meshtop binary (static, linux)")
	fs.StringVar(&o.OS, "os", "linux", "GOOS of the binary; no image for anything but linux")
	fs.StringVar(&o.Arch, "arch", "", "GOARCH of the binary (amd64, arm64)")
	fs.StringVar(&o.Version, "version", "dev", "version, for the tags and labels")
	fs.StringVar(&o.Commit, "commit", "", "commit, for the labels")
	fs.StringVar(&o.CACerts, "ca-certs", DefaultCACerts, "CA bundle to ship (PEM)")
	fs.StringVar(&created, "created", "", "creation time (RFC 3339; default: the binary's mtime, which goreleaser sets to the commit's)")
	fs.StringVar(&out, "out", "", "write the docker-archive here")
	fs.StringVar(&verify, "verify", "", "check this archive instead of building (with --arch, --version)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if verify != "" {
		if err := Verify(verify, o.Arch, o.Version); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "image: %s ok (linux/%s, %s, user %d, cap_net_raw+p)\n", verify, o.Arch, strings.Join(Tags(o.Version), " "), UID)
		return nil
	}
	if o.OS != "linux" {
		fmt.Fprintf(os.Stderr, "image: no container image for %s/%s\n", o.OS, o.Arch)
		return nil
	}
	if o.Binary == "" || o.Arch == "" || out == "" {
		return fmt.Errorf("--binary, --arch and --out are required")
	}
	if created != "" {
		t, err := time.Parse(time.RFC3339, created)
		if err != nil {
			return fmt.Errorf("--created: %w", err)
		}
		o.Created = t
	}
	if err := WriteArchive(out, o); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "image: wrote %s (%s/%s, tags %v)\n", out, o.OS, o.Arch, Tags(o.Version))
	return nil
}
