//go:build linux

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshtop/meshtop/lab"
)

// TestCompletionLabSet: `lab set <TAB>` offers the PoPs of the running lab and --via its
// routers, from the lab's state file only (no lab is built: nothing needs root).
func TestCompletionLabSet(t *testing.T) {
	dir := t.TempDir()
	st := lab.State{Config: lab.Config{Name: "t1",
		Pops:    []lab.PopConfig{{Name: "ams", Org: "Lab AMS"}, {Name: "fra"}, {Name: "nyc"}},
		Routers: []lab.RouterSpec{{Name: "atl", ASN: 64701}, {Name: "us-bb", ASN: 64702}}}}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "t1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "t1", "state.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args    []string
		want    []string
		notWant string
	}{
		{[]string{"lab", "set", "--state-dir", dir, ""}, []string{"ams\tLab AMS", "fra", "nyc", ":4\n"}, ""},
		{[]string{"lab", "set", "--state-dir", dir, "ams", ""}, []string{"fra", "nyc"}, "ams"},
		{[]string{"lab", "set", "--state-dir", dir, "--name", "t1", "ams", "fra", "--via", "atl,"}, []string{"atl,atl", "atl,us-bb"}, ""},
		{[]string{"lab", "set", "--state-dir", filepath.Join(dir, "none"), ""}, []string{":4\n"}, "ams"},
	} {
		got := complete(t, tc.args...)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%v: completion %q lacks %q", tc.args, got, w)
			}
		}
		if tc.notWant != "" && strings.Contains(got, tc.notWant) {
			t.Errorf("%v: completion %q offers %q", tc.args, got, tc.notWant)
		}
	}
}
