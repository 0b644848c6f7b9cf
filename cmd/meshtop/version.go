package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Stamped by the release build (.goreleaser.yaml):
//
//	-ldflags "-X main.version=1.2.3 -X main.commit=<sha> -X main.date=<commit date, RFC 3339>"
//
// The date is the commit's, not the build's, so a release build is reproducible. A plain
// `go build` leaves them empty and buildInfo falls back to what the Go toolchain recorded
// (module version for `go install ...@v1.2.3`, VCS revision and time for a checkout).
var (
	version string
	commit  string
	date    string
)

func init() { register(newVersionCmd) }

// versionInfo is what `meshtop version` prints.
type versionInfo struct {
	Version, Commit, Date, Go, Platform string
}

// buildInfo merges the ldflags stamps with the toolchain's build info. read is
// debug.ReadBuildInfo, passed in so tests can feed their own.
func buildInfo(read func() (*debug.BuildInfo, bool)) versionInfo {
	v := versionInfo{
		Version:  version,
		Commit:   commit,
		Date:     date,
		Go:       runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi, ok := read(); ok {
		if v.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			// "v1.2.3" from the module proxy; releases say "1.2.3" (goreleaser's .Version).
			v.Version = strings.TrimPrefix(bi.Main.Version, "v")
		}
		// What `go build` in a git checkout records (-buildvcs, on by default).
		vcs := map[string]string{}
		for _, s := range bi.Settings {
			vcs[s.Key] = s.Value
		}
		if v.Commit == "" && vcs["vcs.revision"] != "" {
			v.Commit = vcs["vcs.revision"]
			if vcs["vcs.modified"] == "true" {
				v.Commit += "-dirty"
			}
		}
		if v.Date == "" {
			v.Date = vcs["vcs.time"]
		}
		if bi.GoVersion != "" {
			v.Go = bi.GoVersion
		}
	}
	// Say "unknown" rather than print an empty field that looks like a formatting bug.
	for _, f := range []*string{&v.Version, &v.Commit, &v.Date} {
		if *f == "" {
			*f = "unknown"
		}
	}
	if v.Version == "unknown" {
		v.Version = "dev"
	}
	return v
}

func (v versionInfo) write(w io.Writer) error {
	c := v.Commit
	if c == "unknown" {
		// Go records the revision only when it builds inside a git checkout whose .git is
		// a directory: not for `go run`, -buildvcs=false, a source tarball or a git worktree.
		c += " (no VCS stamp: built by go run, with -buildvcs=false, or outside a git checkout)"
	}
	_, err := fmt.Fprintf(w, "meshtop %s\ncommit:   %s\ndate:     %s\ngo:       %s\nplatform: %s\n",
		v.Version, c, v.Date, v.Go, v.Platform)
	return err
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print version, commit, commit date and Go version",
		Example: `  meshtop version
  meshtop --version   # version only`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{noConfigAnnotation: "true"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return buildInfo(debug.ReadBuildInfo).write(cmd.OutOrStdout())
		},
	}
}
