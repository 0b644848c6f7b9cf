package main

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/settings"
)

// fakeValues is what the fake commands saw when they ran.
type fakeValues struct {
	cmd        string
	inventory  string
	stackID    string
	workloadID string
	influxURL  string
	interval   time.Duration
	count      int
	traceroute bool
	pops       []string
	bind       net.IP
	agents     int
	thresholds map[string]string
	origin     map[string]string
}

// fakeTree swaps the registered commands for a fake tree shaped like the real one (the
// real commands are written in parallel and may not compile) and returns newRootCmd()
// plus where the running command's values land.
func fakeTree(t *testing.T) (*cobra.Command, *fakeValues) {
	t.Helper()
	got := &fakeValues{}
	leaf := func(name string, flags func(c *cobra.Command)) func() *cobra.Command {
		return func() *cobra.Command {
			c := &cobra.Command{Use: name, Short: "fake " + name, Example: "  meshtop " + name, Args: cobra.NoArgs}
			f := c.Flags()
			f.StringVar(&got.inventory, "inventory", "", "inventory `FILE`")
			f.StringVar(&got.stackID, "stack-id", "", "StackPath stack `ID`")
			f.IntVar(&got.count, "count", 5, "pings per test")
			got.thresholds = map[string]string{}
			thr := map[string]*string{}
			for _, m := range mesh.Metrics {
				thr[m.String()] = f.String("thresholds-"+m.String(), mesh.DefaultThresholds()[m].String(), "thresholds")
			}
			flags(c)
			c.RunE = func(cmd *cobra.Command, _ []string) error {
				got.cmd = cmd.CommandPath()
				for k, v := range thr {
					got.thresholds[k] = *v
				}
				got.origin = map[string]string{}
				for _, n := range []string{"inventory", "stack-id", "workload-id", "interval", "count", "pops", "influx-url"} {
					got.origin[n] = flagOrigin(cmd, n)
				}
				return nil
			}
			return c
		}
	}
	live := leaf("live", func(c *cobra.Command) {
		f := c.Flags()
		f.DurationVar(&got.interval, "interval", 10*time.Second, "time between sweeps")
		f.StringSliceVar(&got.pops, "pops", nil, "only these PoPs")
		f.StringVar(&got.workloadID, "workload-id", "", "StackPath workload")
		settings.MarkExclusive(c, "inventory", "stack-id")
	})
	snapshot := leaf("snapshot", func(c *cobra.Command) {
		f := c.Flags()
		f.BoolVar(&got.traceroute, "traceroute", false, "also traceroute")
		f.IPVar(&got.bind, "bind", nil, "source address")
		f.StringVar(&got.workloadID, "workload-id", "", "StackPath workload")
		f.String("scouter-secret-file", "", "secret `FILE`")
	})
	history := func() *cobra.Command {
		c := &cobra.Command{Use: "history", Short: "fake history", Example: "  meshtop history", Args: cobra.NoArgs}
		c.Flags().StringVar(&got.influxURL, "influx-url", "http://127.0.0.1:8086", "InfluxDB `URL`")
		c.Flags().String("influx-db", "metricsdb", "database")
		c.RunE = func(cmd *cobra.Command, _ []string) error { got.cmd = cmd.CommandPath(); return nil }
		return c
	}
	lab := func() *cobra.Command {
		c := &cobra.Command{Use: "lab", Short: "fake lab", Example: "  meshtop lab up"}
		c.PersistentFlags().String("prefix", "mt-", "namespace prefix")
		up := &cobra.Command{Use: "up", Short: "fake lab up", Example: "  meshtop lab up", Args: cobra.NoArgs}
		up.Flags().IntVar(&got.agents, "agents", 3, "agents")
		up.RunE = func(cmd *cobra.Command, _ []string) error { got.cmd = cmd.CommandPath(); return nil }
		c.AddCommand(up)
		return c
	}
	saved := subcommands
	subcommands = []func() *cobra.Command{live, snapshot, history, lab, newConfigCmd, newVersionCmd}
	t.Cleanup(func() { subcommands = saved })
	return newRootCmd(), got
}

// isolateEnv gives the test an empty HOME and no meshtop-related variables.
func isolateEnv(t *testing.T) (home string) {
	t.Helper()
	home = t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	for _, v := range envBindings.Vars() {
		t.Setenv(v, "")
	}
	return home
}

func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// run executes the fake tree as `meshtop args...` with the default config file holding
// text ("" = no file) and env set.
func run(t *testing.T, text string, env map[string]string, args ...string) (*fakeValues, error) {
	t.Helper()
	home := isolateEnv(t)
	if text != "" {
		writeFile(t, filepath.Join(home, ".config", "meshtop", "config.yaml"), text)
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	root, got := fakeTree(t)
	root.SetArgs(args)
	root.SetOut(new(strings.Builder))
	root.SetErr(new(strings.Builder))
	return got, root.Execute()
}

func TestConfigPrecedence(t *testing.T) {
	cases := []struct {
		name   string
		file   string
		env    map[string]string
		args   []string
		check  func(*fakeValues) any
		want   any
		origin [2]string // flag, origin regexp
	}{
		{name: "default", args: []string{"live"},
			check: func(v *fakeValues) any { return v.interval }, want: 10 * time.Second,
			origin: [2]string{"interval", "^default$"}},
		{name: "file section", file: "live:\n  interval: 30s\n", args: []string{"live"},
			check: func(v *fakeValues) any { return v.interval }, want: 30 * time.Second,
			origin: [2]string{"interval", `^config .*config\.yaml:2$`}},
		{name: "flag beats file", file: "live:\n  interval: 30s\n", args: []string{"live", "--interval", "1m"},
			check: func(v *fakeValues) any { return v.interval }, want: time.Minute,
			origin: [2]string{"interval", "^flag$"}},
		{name: "shared key", file: "inventory: /etc/agents.yaml\n", args: []string{"snapshot"},
			check: func(v *fakeValues) any { return v.inventory }, want: "/etc/agents.yaml"},
		{name: "section beats shared", file: "inventory: /a.yaml\nlive:\n  inventory: /b.yaml\n", args: []string{"live"},
			check: func(v *fakeValues) any { return v.inventory }, want: "/b.yaml",
			origin: [2]string{"inventory", `config .*:3$`}},
		{name: "shared when other section", file: "inventory: /a.yaml\nlive:\n  inventory: /b.yaml\n", args: []string{"snapshot"},
			check: func(v *fakeValues) any { return v.inventory }, want: "/a.yaml"},
		{name: "env beats file", file: "stack-id: file-stack\n", env: map[string]string{"SP_STACK_ID": "env-stack"},
			args:  []string{"snapshot"},
			check: func(v *fakeValues) any { return v.stackID }, want: "env-stack",
			origin: [2]string{"stack-id", "^env SP_STACK_ID$"}},
		{name: "flag beats env", env: map[string]string{"SP_STACK_ID": "env-stack"},
			args:  []string{"snapshot", "--stack-id", "flag-stack"},
			check: func(v *fakeValues) any { return v.stackID }, want: "flag-stack"},
		{name: "empty env is unset", file: "stack-id: file-stack\n", env: map[string]string{"SP_STACK_ID": ""},
			args:  []string{"snapshot"},
			check: func(v *fakeValues) any { return v.stackID }, want: "file-stack"},
		{name: "env workload", env: map[string]string{"SCOUTER_WORKLOAD_ID": "w-1"}, args: []string{"live"},
			check: func(v *fakeValues) any { return v.workloadID }, want: "w-1"},
		{name: "env influx", env: map[string]string{"INFLUX_URL": "http://10.0.0.1:8086"}, args: []string{"history"},
			check: func(v *fakeValues) any { return v.influxURL }, want: "http://10.0.0.1:8086"},
		{name: "key of another command is skipped", file: "influx-url: http://x:8086\ninterval: 1m\n", args: []string{"snapshot"},
			check: func(v *fakeValues) any { return v.cmd }, want: "meshtop snapshot"},
		{name: "thresholds map", file: "thresholds:\n  latency: 100,200,300\n  loss: [1, 2, 3]\n", args: []string{"live"},
			check: func(v *fakeValues) any { return v.thresholds["latency"] + " " + v.thresholds["loss"] }, want: "100,200,300 1,2,3"},
		{name: "threshold flag beats file", file: "thresholds:\n  latency: 100,200,300\n",
			args:  []string{"live", "--thresholds-latency", "1,2,3"},
			check: func(v *fakeValues) any { return v.thresholds["latency"] }, want: "1,2,3"},
		{name: "threshold alias name", file: "thresholds:\n  avg_rtt_ms: 100,200,300\n", args: []string{"snapshot"},
			check: func(v *fakeValues) any { return v.thresholds["latency"] }, want: "100,200,300"},
		{name: "list flag", file: "live:\n  pops: [ams, fra]\n", args: []string{"live"},
			check: func(v *fakeValues) any { return strings.Join(v.pops, "|") }, want: "ams|fra"},
		{name: "list flag as csv", file: "live:\n  pops: ams,fra\n", args: []string{"live"},
			check: func(v *fakeValues) any { return strings.Join(v.pops, "|") }, want: "ams|fra"},
		{name: "list flag on command line", file: "live:\n  pops: [ams, fra]\n", args: []string{"live", "--pops", "sea"},
			check: func(v *fakeValues) any { return strings.Join(v.pops, "|") }, want: "sea"},
		{name: "bool and int", file: "snapshot:\n  traceroute: true\n  count: 7\n", args: []string{"snapshot"},
			check: func(v *fakeValues) any { return [2]any{v.traceroute, v.count} }, want: [2]any{true, 7}},
		{name: "nested section", file: "lab:\n  prefix: mt-x-\n  up:\n    agents: 5\n", args: []string{"lab", "up"},
			check: func(v *fakeValues) any { return v.agents }, want: 5},
		{name: "flag on command line wins over mutually exclusive peer in file",
			file: "inventory: /a.yaml\n", args: []string{"live", "--stack-id", "s1"},
			check: func(v *fakeValues) any { return v.inventory + "|" + v.stackID }, want: "|s1"},
		{name: "env wins over mutually exclusive peer in file",
			file: "inventory: /a.yaml\n", env: map[string]string{"SP_STACK_ID": "s2"}, args: []string{"live"},
			check: func(v *fakeValues) any { return v.inventory + "|" + v.stackID }, want: "|s2"},
		{name: "empty file", file: "# nothing yet\n", args: []string{"live"},
			check: func(v *fakeValues) any { return v.interval }, want: 10 * time.Second},
		{name: "secret file name is fine", file: "scouter-secret-file: /run/secrets/scouter\n", args: []string{"snapshot"},
			check: func(v *fakeValues) any { return v.cmd }, want: "meshtop snapshot"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := run(t, tc.file, tc.env, tc.args...)
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if v := tc.check(got); v != tc.want {
				t.Errorf("got %v, want %v", v, tc.want)
			}
			if tc.origin[0] != "" {
				if o := got.origin[tc.origin[0]]; !regexp.MustCompile(tc.origin[1]).MatchString(o) {
					t.Errorf("origin of --%s = %q, want match %q", tc.origin[0], o, tc.origin[1])
				}
			}
		})
	}
}

func TestConfigTildeExpands(t *testing.T) {
	got, err := run(t, "inventory: ~/agents.yaml\n", nil, "live")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(os.Getenv("HOME"), "agents.yaml"); got.inventory != want {
		t.Errorf("inventory = %q, want %q", got.inventory, want)
	}
}

func TestConfigFileLocation(t *testing.T) {
	t.Run("explicit --config", func(t *testing.T) {
		isolateEnv(t)
		p := writeFile(t, filepath.Join(t.TempDir(), "mine.yaml"), "live:\n  interval: 42s\n")
		root, got := fakeTree(t)
		root.SetArgs([]string{"live", "--config", p})
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		if got.interval != 42*time.Second {
			t.Errorf("interval = %v", got.interval)
		}
	})
	t.Run("MESHTOP_CONFIG", func(t *testing.T) {
		isolateEnv(t)
		p := writeFile(t, filepath.Join(t.TempDir(), "env.yaml"), "live:\n  interval: 43s\n")
		t.Setenv("MESHTOP_CONFIG", p)
		root, got := fakeTree(t)
		root.SetArgs([]string{"live"})
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		if got.interval != 43*time.Second {
			t.Errorf("interval = %v", got.interval)
		}
	})
	t.Run("XDG_CONFIG_HOME", func(t *testing.T) {
		isolateEnv(t)
		xdg := t.TempDir()
		t.Setenv("XDG_CONFIG_HOME", xdg)
		writeFile(t, filepath.Join(xdg, "meshtop", "config.yaml"), "live:\n  interval: 44s\n")
		root, got := fakeTree(t)
		root.SetArgs([]string{"live"})
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		if got.interval != 44*time.Second {
			t.Errorf("interval = %v", got.interval)
		}
	})
	t.Run("relative XDG_CONFIG_HOME is ignored", func(t *testing.T) {
		home := isolateEnv(t)
		t.Setenv("XDG_CONFIG_HOME", "relative/dir")
		want := filepath.Join(home, ".config", "meshtop", "config.yaml")
		if p := defaultConfigPath(os.LookupEnv); p != want {
			t.Errorf("path = %q, want %q", p, want)
		}
	})
	t.Run("missing explicit file is an error", func(t *testing.T) {
		isolateEnv(t)
		root, _ := fakeTree(t)
		missing := filepath.Join(t.TempDir(), "nope.yaml")
		root.SetArgs([]string{"live", "--config", missing})
		err := root.Execute()
		if err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "meshtop config example") {
			t.Errorf("err = %v, want it to name the file and the fix", err)
		}
	})
	t.Run("world-writable file is refused", func(t *testing.T) {
		home := isolateEnv(t)
		p := writeFile(t, filepath.Join(home, ".config", "meshtop", "config.yaml"), "live:\n  interval: 45s\n")
		if err := os.Chmod(p, 0o666); err != nil {
			t.Fatal(err)
		}
		root, _ := fakeTree(t)
		root.SetArgs([]string{"live"})
		err := root.Execute()
		if err == nil || !strings.Contains(err.Error(), "writable by every user") || !strings.Contains(err.Error(), "chmod o-w "+p) {
			t.Fatalf("err = %v, want a refusal naming the fix", err)
		}
		if err := os.Chmod(p, 0o664); err != nil { // group-writable is a common umask; accepted
			t.Fatal(err)
		}
		root, got := fakeTree(t)
		root.SetArgs([]string{"live"})
		if err := root.Execute(); err != nil || got.interval != 45*time.Second {
			t.Fatalf("after chmod o-w: err %v, interval %v", err, got.interval)
		}
	})
	t.Run("config commands ignore a broken file", func(t *testing.T) {
		home := isolateEnv(t)
		writeFile(t, filepath.Join(home, ".config", "meshtop", "config.yaml"), "nosuch: 1\n")
		root, _ := fakeTree(t)
		var out strings.Builder
		root.SetOut(&out)
		root.SetArgs([]string{"config", "path"})
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(strings.TrimSpace(out.String()), filepath.Join(".config", "meshtop", "config.yaml")) {
			t.Errorf("config path printed %q", out.String())
		}
	})
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name, file string
		args       []string
		want       []string // substrings of the error, in order of appearance
		notWant    string
	}{
		{name: "unknown top-level key", file: "count: 3\ninventroy: a.yaml\n",
			want: []string{"config.yaml:2:", `unknown setting "inventroy"`, `did you mean "inventory"`}},
		{name: "unknown key in section", file: "live:\n  interval: 1s\n  intervall: 2s\n",
			want: []string{"config.yaml:3:", `"live.intervall"`, "`meshtop live` has no --intervall flag", `did you mean "interval"`}},
		{name: "key of another command in a section", file: "snapshot:\n  interval: 5s\n",
			want: []string{"config.yaml:2:", `"snapshot.interval"`}},
		{name: "unknown command section", file: "\n\nnosuch:\n  x: 1\n",
			want: []string{"config.yaml:3:", `unknown setting "nosuch"`}},
		{name: "bad duration", file: "live:\n  interval: soon\n",
			want: []string{"config.yaml:2:", "live.interval", `invalid duration "soon" for --interval`}},
		{name: "bad int", file: "\ncount: many\n",
			want: []string{"config.yaml:2:", `invalid int "many" for --count`}},
		{name: "bad threshold", file: "thresholds:\n  latency: 300,200,100\n",
			want: []string{"config.yaml:2:", "thresholds.latency", "t1 <= t2 <= t3"}},
		{name: "threshold list of two", file: "thresholds:\n  loss: [1, 2]\n",
			want: []string{"config.yaml:2:", "want three numbers"}},
		{name: "unknown metric", file: "thresholds:\n  latency: 1,2,3\n  speed: 1,2,3\n",
			want: []string{"config.yaml:3:", `unknown metric "speed"`}},
		{name: "thresholds not a map", file: "thresholds: 1,2,3\n",
			want: []string{"config.yaml:1:", "want a mapping of metric"}},
		{name: "threshold set twice", file: "thresholds:\n  latency: 1,2,3\nthresholds-latency: 4,5,6\n",
			want: []string{"config.yaml:3:", "again", "line 2"}},
		{name: "plain secret", file: "inventory: a.yaml\nscouter-secret: hunter2-s3cret\n",
			want: []string{"config.yaml:2:", "looks like a secret", "SCOUTER_SECRET", "scouter-secret-file"}, notWant: "hunter2"},
		{name: "plain password", file: "influx-password: pw-value-123\n",
			want: []string{"config.yaml:1:", "INFLUX_PASSWORD"}, notWant: "pw-value-123"},
		{name: "env-style secret key", file: "SP_API_CLIENT_SECRET: abc-secret-xyz\n",
			want: []string{"config.yaml:1:", "looks like a secret"}, notWant: "abc-secret-xyz"},
		{name: "config names a config", file: "config: other.yaml\n",
			want: []string{"config.yaml:1:", "cannot name another config file"}},
		{name: "list for a single-value flag", file: "inventory: [a.yaml, b.yaml]\n",
			want: []string{"config.yaml:1:", "takes one value, not a list"}},
		{name: "no value", file: "live:\n  interval:\n",
			want: []string{"config.yaml:2:", "has no value"}},
		{name: "mapping value", file: "inventory:\n  path: a.yaml\n",
			want: []string{"config.yaml:2:", "got a mapping"}},
		{name: "command used as a key", file: "live: 30s\n",
			want: []string{"config.yaml:1:", "is the command `meshtop live`"}},
		{name: "not a mapping", file: "- live\n- snapshot\n",
			want: []string{"config.yaml:1:", "want a mapping of settings"}},
		{name: "yaml syntax", file: "live:\n  interval: 1s\ncount: 2: 3\n",
			want: []string{"config.yaml:3:", "invalid YAML"}},
		{name: "every problem at once", file: "inventroy: a\ncount: x\nlive:\n  nope: 1\n",
			want: []string{"config.yaml:1:", "config.yaml:2:", "config.yaml:4:"}},
		{name: "value rejected when applied", file: "snapshot:\n  bind: not-an-ip\n", args: []string{"snapshot"},
			want: []string{"config.yaml:2:", `"snapshot.bind"`, "invalid value for --bind"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if args == nil {
				args = []string{"live"}
			}
			_, err := run(t, tc.file, nil, args...)
			if err == nil {
				t.Fatalf("no error for:\n%s", tc.file)
			}
			msg, at := err.Error(), 0
			for _, w := range tc.want {
				i := strings.Index(msg[at:], w)
				if i < 0 {
					t.Fatalf("error %q\nlacks %q (after offset %d)", msg, w, at)
				}
				at += i
			}
			if tc.notWant != "" && strings.Contains(msg, tc.notWant) {
				t.Errorf("error %q repeats the secret value", msg)
			}
		})
	}
}

func TestConfigEnvBadValue(t *testing.T) {
	saved := slices.Clone(envBindings)
	bindEnv("count", "MESHTOP_TEST_COUNT")
	t.Cleanup(func() { envBindings = saved })
	_, err := run(t, "", map[string]string{"MESHTOP_TEST_COUNT": "lots"}, "live")
	if err == nil || !strings.Contains(err.Error(), "MESHTOP_TEST_COUNT") || !strings.Contains(err.Error(), "--count") {
		t.Fatalf("err = %v, want it to name the variable and the flag", err)
	}
}

func TestConfigShowAndCheck(t *testing.T) {
	home := isolateEnv(t)
	p := writeFile(t, filepath.Join(home, ".config", "meshtop", "config.yaml"), "inventory: /a.yaml\nlive:\n  interval: 30s\n")
	t.Setenv("SP_STACK_ID", "env-stack")

	root, _ := fakeTree(t)
	var out strings.Builder
	root.SetOut(&out)
	root.SetArgs([]string{"config", "show", "live"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{
		`--interval\s+30s\s+config ` + regexp.QuoteMeta(p) + `:3`,
		`--stack-id\s+env-stack\s+env SP_STACK_ID`,
		`--count\s+5\s+default`,
	} {
		if !regexp.MustCompile(re).MatchString(out.String()) {
			t.Errorf("config show output lacks %s:\n%s", re, out.String())
		}
	}

	root, _ = fakeTree(t)
	out.Reset()
	root.SetOut(&out)
	root.SetArgs([]string{"config", "check"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if want := p + ": ok, 2 settings"; !strings.Contains(out.String(), want) {
		t.Errorf("config check printed %q, want %q", out.String(), want)
	}

	writeFile(t, p, "live:\n  intervl: 30s\n")
	root, _ = fakeTree(t)
	root.SetArgs([]string{"config", "check"})
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "config.yaml:2:") {
		t.Errorf("config check of a bad file: err = %v", err)
	}
}
