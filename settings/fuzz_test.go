package settings

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// fuzzTree is a command tree with flags of every kind a config file can set.
func fuzzTree() (*cobra.Command, *Settings) {
	root := &cobra.Command{Use: "meshtop"}
	root.PersistentFlags().String("config", "", "")
	live := &cobra.Command{Use: "live", Run: func(*cobra.Command, []string) {}}
	f := live.Flags()
	f.String("inventory", "", "")
	f.Duration("interval", 10*time.Second, "")
	f.Int("count", 5, "")
	f.Bool("traceroute", false, "")
	f.StringSlice("pops", nil, "")
	f.String("metric", "latency", "")
	f.String("influx-url", "http://127.0.0.1:8086", "")
	f.String("thresholds-latency", "250,500,1000", "")
	f.IP("bind", nil, "")
	lab := &cobra.Command{Use: "lab"}
	up := &cobra.Command{Use: "up", Run: func(*cobra.Command, []string) {}}
	up.Flags().Int("agents", 3, "")
	lab.AddCommand(up)
	root.AddCommand(live, lab)
	s := &Settings{
		Env:      func(k string) (string, bool) { return map[string]string{"HOME": "/home/u"}[k], k == "HOME" },
		Secrets:  map[string]string{"scouter-secret": "SCOUTER_SECRET"},
		Reserved: map[string]string{"config": "no"},
		Groups: []Group{{Key: "thresholds", Flag: func(sub string) (string, bool) { return "thresholds-" + sub, sub == "latency" },
			Unknown: func(sub string) string { return "unknown metric " + sub }, Want: "want a mapping", Items: 3, ItemsWant: "want three"}},
		Checks: map[string]func(string) error{"metric": func(v string) error {
			if v != "latency" && v != "loss" {
				return errBadMetric
			}
			return nil
		}},
	}
	return root, s
}

var errBadMetric = errorString("want latency or loss")

type errorString string

func (e errorString) Error() string { return string(e) }

// FuzzConfigParse: no config file makes the parser panic or hang; every error is
// located in the file; a secret value is never repeated; what is accepted applies.
func FuzzConfigParse(f *testing.F) {
	for _, s := range []string{
		"inventory: ~/agents.yaml\nlive:\n  interval: 30s\n  pops: [ams, fra]\nlab:\n  up:\n    agents: 5\n",
		"thresholds:\n  latency: [1, 2, 3]\n",
		"thresholds: 1,2,3\n", "live: 30s\n", "- a\n- b\n", "", "# c\n", "~\n",
		"scouter-secret: hunter2\n", "config: x\n", "metric: latncy\n", "influx-url: http://u:pw@h:8086\n",
		"live:\n  interval: soon\n  count: many\n  traceroute: maybe\n  bind: not-an-ip\n",
		"live:\n  inventory: [a, b]\n  interval:\n  pops: {a: b}\n",
		"a: &a {b: *a}\n", strings.Repeat("live:\n  ", 3000) + "x: 1\n", strings.Repeat("{", 10000),
		"live:\n  interval: 1s\n  interval: 2s\n", "\x00: \x1b[2J\n", "? [k]\n: v\n",
		"live:\n  pops: [" + strings.Repeat("x,", 50000) + "]\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		root, s := fuzzTree()
		file, err := s.Parse("fuzz.yaml", []byte(doc), root)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if strings.HasPrefix(line, "fuzz.yaml") && strings.Contains(doc, "hunter2") && strings.Contains(line, "hunter2") {
					t.Fatalf("error repeats a secret: %q", line)
				}
			}
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		live, _, _ := root.Find([]string{"live"})
		_ = file.Apply(live, nil) // may refuse a value (an IP), never panic
	})
}
