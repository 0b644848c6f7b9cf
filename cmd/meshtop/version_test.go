package main

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionInfo(t *testing.T) {
	vcs := func(mainVersion string, settings ...string) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) {
			bi := &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Version: mainVersion}}
			for i := 0; i+1 < len(settings); i += 2 {
				bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
			}
			return bi, true
		}
	}
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	cases := []struct {
		name                  string
		stamp                 [3]string // version, commit, date from -ldflags
		read                  func() (*debug.BuildInfo, bool)
		version, commit, date string
		goVersion             string
	}{
		{name: "release stamps win", stamp: [3]string{"1.2.3", "abc123", "2026-11-24T10:00:00Z"},
			read:    vcs("v9.9.9", "vcs.revision", "fff", "vcs.time", "2000-01-01T00:00:00Z"),
			version: "1.2.3", commit: "abc123", date: "2026-11-24T10:00:00Z", goVersion: "go1.99.1"},
		{name: "go install module version", read: vcs("v0.4.0"),
			version: "0.4.0", commit: "unknown", date: "unknown", goVersion: "go1.99.1"},
		{name: "checkout with vcs info", read: vcs("(devel)", "vcs.revision", "deadbeef", "vcs.time", "2026-01-02T03:04:05Z", "vcs.modified", "true"),
			version: "dev", commit: "deadbeef-dirty", date: "2026-01-02T03:04:05Z", goVersion: "go1.99.1"},
		{name: "vcs.modified before vcs.revision", read: vcs("(devel)", "vcs.modified", "true", "vcs.revision", "cafe01"),
			version: "dev", commit: "cafe01-dirty", date: "unknown", goVersion: "go1.99.1"},
		{name: "nothing known", read: none,
			version: "dev", commit: "unknown", date: "unknown", goVersion: runtime.Version()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			saved := [3]string{version, commit, date}
			version, commit, date = tc.stamp[0], tc.stamp[1], tc.stamp[2]
			t.Cleanup(func() { version, commit, date = saved[0], saved[1], saved[2] })
			v := buildInfo(tc.read)
			if v.Version != tc.version || v.Commit != tc.commit || v.Date != tc.date || v.Go != tc.goVersion {
				t.Errorf("got %+v, want version %s commit %s date %s go %s", v, tc.version, tc.commit, tc.date, tc.goVersion)
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	saved := [3]string{version, commit, date}
	version, commit, date = "1.2.3", "abc123", "2026-11-24T10:00:00Z"
	t.Cleanup(func() { version, commit, date = saved[0], saved[1], saved[2] })

	for _, args := range [][]string{{"version"}, {"--version"}} {
		root, _ := fakeTree(t)
		var out strings.Builder
		root.SetOut(&out)
		root.SetArgs(args)
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		want := []string{"meshtop 1.2.3"}
		if args[0] == "version" {
			want = append(want, "commit:   abc123", "date:     2026-11-24T10:00:00Z", "go:       go1.",
				"platform: "+runtime.GOOS+"/"+runtime.GOARCH)
		}
		for _, w := range want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("meshtop %s printed %q, lacks %q", strings.Join(args, " "), out.String(), w)
			}
		}
	}
}

// TestVersionIgnoresBrokenConfig: `meshtop version` is what a user runs when reporting a
// problem, so it must work even when the config file is broken.
func TestVersionIgnoresBrokenConfig(t *testing.T) {
	if _, err := run(t, "not-a-setting: 1\n", nil, "version"); err != nil {
		t.Fatalf("version with a broken config: %v", err)
	}
	if _, err := run(t, "not-a-setting: 1\n", nil, "live"); err == nil {
		t.Fatal("the broken config is not broken: this test proves nothing")
	}
}
