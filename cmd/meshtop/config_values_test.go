package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// checkReal runs `meshtop config check` of the real command tree on a config file.
func checkReal(t *testing.T, text string) (string, error) {
	t.Helper()
	home := isolateEnv(t)
	writeFile(t, filepath.Join(home, ".config", "meshtop", "config.yaml"), text)
	root := newRootCmd()
	var out strings.Builder
	root.SetOut(&out)
	root.SetErr(new(strings.Builder))
	root.SetArgs([]string{"config", "check"})
	err := root.Execute()
	return out.String(), err
}

// TestConfigCheckValues: `config check` rejects bad values of enumerated flags (issue 9),
// and URLs with credentials (issue 10), with file:line, a suggestion and no password.
func TestConfigCheckValues(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       []string
		notWant    string
	}{
		{"format", "snapshot:\n  format: jsn\n", []string{"config.yaml:2:", `"snapshot.format"`, "--format", `want table, json or csv`, `did you mean "json"?`}, ""},
		{"fail-on", "snapshot:\n  fail-on: rde\n", []string{"config.yaml:2:", "--fail-on", `did you mean "red"?`}, ""},
		{"metric", "\nmetric: latncy\n", []string{"config.yaml:2:", "--metric", `did you mean "latency"?`}, ""},
		{"stat", "stat: p59\n", []string{"config.yaml:1:", "--stat", "p95"}, ""},
		{"palette", "live:\n  palette: colourblind\n", []string{"config.yaml:2:", "--palette", `did you mean "colorblind"?`}, ""},
		{"source", "snapshot:\n  source: influxdb\n", []string{"config.yaml:2:", "--source", "live or influx"}, ""},
		{"trace-proto", "trace-proto: udp\n", []string{"config.yaml:1:", "--trace-proto", "ICMP or TCP"}, ""},
		{"influx url with password", "\n\ninflux-url: http://reader:pw-S3CRET@db.example:8086\n",
			[]string{"config.yaml:3:", `"influx-url"`, "user name or password", "INFLUX_USERNAME", "INFLUX_PASSWORD"}, "pw-S3CRET"},
		{"record url with password", "live:\n  record: https://writer:pw-S3CRET@db.example:8086\n",
			[]string{"config.yaml:2:", `"live.record"`, "INFLUX_RECORD_USERNAME"}, "pw-S3CRET"},
		{"url with user only", "history:\n  influx-url: http://reader@db.example:8086\n",
			[]string{"config.yaml:2:", "user name or password"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := checkReal(t, tc.file)
			if err == nil {
				t.Fatalf("config check passed:\n%s", tc.file)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tc.notWant != "" && strings.Contains(err.Error(), tc.notWant) {
				t.Errorf("error %q repeats the password", err)
			}
		})
	}
	// Good values (aliases and case the commands accept) pass.
	out, err := checkReal(t, "metric: avg_rtt_ms\nstat: current\ntrace-proto: tcp\nsnapshot:\n  format: csv\n  fail-on: orange\n"+
		"history:\n  influx-url: http://db.example:8086\n")
	if err != nil || !strings.Contains(out, "ok, 6 settings") {
		t.Errorf("good values: out %q, err %v", out, err)
	}
}

// TestEnvBindingsByCommand: upstream Scouter's variables bind `meshtop agent`'s flags
// only, through the same table as every other binding.
func TestEnvBindingsByCommand(t *testing.T) {
	show := func(t *testing.T, env map[string]string, args ...string) (string, error) {
		t.Helper()
		isolateEnv(t)
		for k, v := range env {
			t.Setenv(k, v)
		}
		root := newRootCmd()
		var out strings.Builder
		root.SetOut(&out)
		root.SetErr(new(strings.Builder))
		root.SetArgs(append([]string{"config", "show"}, args...))
		err := root.Execute()
		return out.String(), err
	}
	env := map[string]string{"SCOUTER_MAX_TEST_COUNT": "30", "SCOUTER_MAX_PROCESS_COUNT": "7", "API_PORT": "8123"}
	out, err := show(t, env, "agent")
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{
		`--max-tests\s+30\s+env SCOUTER_MAX_TEST_COUNT`,
		`--max-procs\s+7\s+env SCOUTER_MAX_PROCESS_COUNT`,
		`--listen\s+:8123\s+env API_PORT`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("config show agent lacks %s:\n%s", re, out)
		}
	}
	out, err = show(t, env, "snapshot")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "SCOUTER_MAX_TEST_COUNT") {
		t.Errorf("SCOUTER_MAX_TEST_COUNT set snapshot's --max-tests:\n%s", out)
	}
	for _, tc := range []struct{ k, v, want string }{
		{"API_PORT", "99999", `environment variable API_PORT="99999": want a port number 1-65535`},
		{"SCOUTER_MAX_TEST_COUNT", "0", `environment variable SCOUTER_MAX_TEST_COUNT="0": want a whole number of at least 1`},
	} {
		if _, err := show(t, map[string]string{tc.k: tc.v}, "agent"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%s: err %v, want %q", tc.k, tc.v, err, tc.want)
		}
	}
}
