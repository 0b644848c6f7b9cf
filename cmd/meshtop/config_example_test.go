package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/meshtop/meshtop/mesh"
)

// settingLine is a commented-out setting: "#" directly followed by a key or by the
// two-space indentation of a section (prose is "# " and one space).
var settingLine = regexp.MustCompile(`(?m)^#(\S|  )`)

// uncomment turns every commented-out setting of the example into a live one, as a user
// would by deleting the "#".
func uncomment(example string) string {
	return settingLine.ReplaceAllString(example, "$1")
}

func exampleOf(t *testing.T, root *cobra.Command) string {
	t.Helper()
	var b strings.Builder
	if err := writeExample(&b, root); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestConfigExampleRoundTrip(t *testing.T) {
	root, _ := fakeTree(t)
	ex := exampleOf(t, root)
	if _, err := parseSettings("example.yaml", []byte(ex), root, ""); err != nil {
		t.Fatalf("the example as printed does not parse: %v", err)
	}
	live := uncomment(ex)
	// Every setting is commented out: the uncommented file must differ, or the settingLine
	// convention broke and this test would check nothing.
	if live == ex {
		t.Fatal("uncommenting changed nothing")
	}
	for _, want := range []string{
		"\ninventory: \"\"\n", "\nthresholds:\n  latency: 250,500,1000\n", "\nlive:\n", "  interval: 10s\n",
		"  pops: []\n", "\nlab:\n", "\n  prefix: mt-\n", "\n  up:\n", "\n    agents: 3\n", "  influx-db: metricsdb\n",
		"  scouter-secret-file: \"\"\n",
	} {
		if !strings.Contains(live, want) {
			t.Errorf("uncommented example lacks %q:\n%s", want, live)
		}
	}
	for _, skip := range []string{"\nconfig:", "help:", "version:"} {
		if strings.Contains(live, skip) {
			t.Errorf("example has %q, which is not a setting", skip)
		}
	}

	// Uncommented, it is a valid file that sets every flag to its default.
	isolateEnv(t)
	path := writeFile(t, t.TempDir()+"/config.yaml", live)
	root, got := fakeTree(t)
	root.SetArgs([]string{"live", "--config", path})
	if err := root.Execute(); err != nil {
		t.Fatalf("uncommented example:\n%s\nerror: %v", live, err)
	}
	if got.interval != 10*time.Second || got.count != 5 || got.inventory != "" || len(got.pops) != 0 ||
		got.thresholds["jitter"] != mesh.DefaultThresholds()[mesh.JitterPct].String() {
		t.Errorf("uncommented example changed defaults: %+v", got)
	}
	if o := got.origin["interval"]; !strings.HasPrefix(o, "config ") {
		t.Errorf("interval origin %q, want the example file", o)
	}
}

// TestConfigExampleRealTree checks `meshtop config example` against the real commands:
// it must parse once uncommented and name every flag that a config file may set.
func TestConfigExampleRealTree(t *testing.T) {
	root := newRootCmd()
	ex := uncomment(exampleOf(t, root))
	if _, err := parseSettings("example.yaml", []byte(ex), root, ""); err != nil {
		t.Fatalf("uncommented `meshtop config example` does not parse:\n%v", err)
	}
	walkCommands(root, func(c *cobra.Command) {
		if c.Hidden || skipsConfig(c) {
			return
		}
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if !exampleFlag(f) {
				return
			}
			key := f.Name
			if isThresholdFlag(f.Name) {
				key = strings.TrimPrefix(f.Name, "thresholds-")
			}
			if !regexp.MustCompile(`(?m)^\s*(# )?` + regexp.QuoteMeta(key) + `:`).MatchString(ex) {
				t.Errorf("`meshtop config example` lacks --%s of %s", f.Name, c.CommandPath())
			}
		})
	})
}

func TestConfigExampleCommand(t *testing.T) {
	root, _ := fakeTree(t)
	var out strings.Builder
	root.SetOut(&out)
	root.SetArgs([]string{"config", "example"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "# meshtop configuration file.") || !strings.Contains(out.String(), "#live:") {
		t.Errorf("config example printed:\n%s", out.String())
	}
}
