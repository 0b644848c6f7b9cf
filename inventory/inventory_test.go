package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/meshtop/meshtop/mesh"
)

const envSecret = "s3cret-from-env-XYZ"

func TestParseValid(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fra.secret"), []byte("file-secret-ABC\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(dir, "abs.secret")
	if err := os.WriteFile(abs, []byte("abs-secret\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MT_INV_SJC_SECRET", envSecret)
	file := filepath.Join(dir, "inventory.yaml")

	tests := []struct {
		name string
		yaml string
		want []mesh.Agent
	}{
		{
			name: "full example",
			yaml: `
agents:
  - name: scouter-sjc-0          # unique; becomes src_slug
    pop: sjc
    address: 151.139.47.79
    url: http://151.139.47.79:8000
    secret_env: MT_INV_SJC_SECRET
    labels: {region: na}
  - name: scouter-fra-0
    pop: fra
    address: fra.example.net
    secret_file: fra.secret
    labels:
      region: eu
      rack: 12
  - name: scouter-v6-0
    pop: ams-2
    address: "2001:db8::7"
  - name: scouter-abs-0
    pop: "1xy"
    address: 198.18.0.9
    url: https://agents.example.net/scouter/
    secret_file: ` + abs + `
`,
			want: []mesh.Agent{
				{Name: "scouter-sjc-0", Pop: "sjc", Address: "151.139.47.79", URL: "http://151.139.47.79:8000",
					Labels: map[string]string{"region": "na"}, Secret: envSecret},
				{Name: "scouter-fra-0", Pop: "fra", Address: "fra.example.net", URL: "http://fra.example.net:8123",
					Labels: map[string]string{"region": "eu", "rack": "12"}, Secret: "file-secret-ABC"},
				{Name: "scouter-v6-0", Pop: "ams-2", Address: "2001:db8::7", URL: "http://[2001:db8::7]:8123"},
				{Name: "scouter-abs-0", Pop: "1xy", Address: "198.18.0.9", URL: "https://agents.example.net/scouter", Secret: "abs-secret"},
			},
		},
		{
			name: "anchors and aliases",
			yaml: `agents:
  - &a
    name: a-0
    pop: a
    address: 127.0.0.1
    labels: &lab {region: lab}
  - name: b-0
    pop: b
    address: ::1
    labels: *lab
`,
			want: []mesh.Agent{
				{Name: "a-0", Pop: "a", Address: "127.0.0.1", URL: "http://127.0.0.1:8123", Labels: map[string]string{"region": "lab"}},
				{Name: "b-0", Pop: "b", Address: "::1", URL: "http://[::1]:8123", Labels: map[string]string{"region": "lab"}},
			},
		},
		{
			name: "flow style, trailing dot host, empty labels",
			yaml: `{agents: [{name: x, pop: x, address: "host.example.", labels: }]}`,
			want: []mesh.Agent{{Name: "x", Pop: "x", Address: "host.example.", URL: "http://host.example.:8123"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.yaml), file, 8123)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("agents\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.secret")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	twoLines := filepath.Join(dir, "two.secret")
	if err := os.WriteFile(twoLines, []byte("file-secret-ABC\nmore\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MT_INV_SECRET", envSecret)
	t.Setenv("MT_INV_EMPTY", "")
	t.Setenv("MT_INV_UNSET", "") // restored after the test; unset for it
	if err := os.Unsetenv("MT_INV_UNSET"); err != nil {
		t.Fatal(err)
	}

	// ok is a valid agent body to prefix entries with, so each case isolates one problem.
	const ok = "agents:\n  - name: ok-0\n    pop: ok\n    address: 127.0.0.1\n"
	tests := []struct {
		name string
		yaml string
		port int
		want []string // substrings of the error; the first one carries file:line
	}{
		{name: "empty file", yaml: "", want: []string{"inv.yaml: the file is empty"}},
		{name: "only a comment", yaml: "# nothing\n", want: []string{"inv.yaml: ", "empty"}},
		// yaml.v3 says "line 1" for this one; the problem is on line 3 (issue 10).
		{name: "bad yaml", yaml: "agents:\n  - name: a\n   pop: b\n", want: []string{"inv.yaml:3: invalid YAML: did not find expected '-' indicator"}},
		{name: "bad yaml on line 4", yaml: "agents:\n  - name: a\n    pop: b\n  address: c\n", want: []string{"inv.yaml:4: invalid YAML"}},
		{name: "tab indentation", yaml: "agents:\n\t- name: a\n", want: []string{"inv.yaml:2: invalid YAML"}},
		{name: "two documents", yaml: ok + "---\nagents: []\n", want: []string{"inv.yaml:5: a second YAML document"}},
		{name: "top level is a list", yaml: "- name: a\n", want: []string{"inv.yaml:1: the top level is a list"}},
		{name: "unknown top-level key", yaml: ok + "agent:\n  - x\n", want: []string{`inv.yaml:5: unknown key "agent" at the top level`}},
		{name: "no agents key", yaml: "foo: 1\n", want: []string{`inv.yaml:1: unknown key "foo"`}},
		{name: "agents empty list", yaml: "agents: []\n", want: []string{"inv.yaml:1: the agents list is empty"}},
		{name: "agents null", yaml: "agents:\n", want: []string{"inv.yaml:1: the agents list is empty"}},
		{name: "agents a mapping", yaml: "agents:\n  name: a\n", want: []string{"inv.yaml:2: agents is a mapping"}},
		{name: "duplicate top-level key", yaml: ok + "agents: []\n", want: []string{`inv.yaml:5: key "agents" given twice (first on line 1)`}},
		{name: "entry a scalar", yaml: "agents:\n  - scouter-sjc-0\n", want: []string{"inv.yaml:2: agents[0]: an agent is a scalar"}},
		{name: "unknown key with suggestion", yaml: ok + "    secret_evn: X\n",
			want: []string{`inv.yaml:5: agent "ok-0": unknown key "secret_evn" (did you mean "secret_env"?)`}},
		{name: "unknown key listing known", yaml: ok + "    weight: 3\n",
			want: []string{`inv.yaml:5: agent "ok-0": unknown key "weight" (known: name, pop, address, url, secret_env, secret_file, labels)`}},
		{name: "duplicate agent key", yaml: ok + "    pop: ok2\n", want: []string{`inv.yaml:5: agent "ok-0": key "pop" given twice (first on line 3)`}},
		{name: "name missing", yaml: "agents:\n  - pop: a\n    address: 127.0.0.1\n", want: []string{"inv.yaml:2: agents[0]: name is missing"}},
		{name: "name empty", yaml: "agents:\n  - name: ''\n    pop: a\n    address: 127.0.0.1\n", want: []string{"inv.yaml:2: agents[0]: name is empty"}},
		{name: "name null", yaml: "agents:\n  - name:\n    pop: a\n    address: 127.0.0.1\n", want: []string{"inv.yaml:2: agents[0]: name is empty; want a single value"}},
		{name: "name with space", yaml: "agents:\n  - name: a b\n    pop: a\n    address: 127.0.0.1\n", want: []string{`inv.yaml:2: agents[0]: name "a b" must not contain spaces`}},
		{name: "name a list", yaml: "agents:\n  - name: [a]\n    pop: a\n    address: 127.0.0.1\n", want: []string{"inv.yaml:2: agents[0]: name is a list; want a single value"}},
		{name: "duplicate names", yaml: ok + "  - name: ok-0\n    pop: b\n    address: 127.0.0.2\n",
			want: []string{`inv.yaml:5: agent "ok-0": name used twice (first on line 2)`}},
		{name: "pop missing", yaml: "agents:\n  - name: a-0\n    address: 127.0.0.1\n", want: []string{`inv.yaml:2: agent "a-0": pop is missing`}},
		{name: "pop empty", yaml: "agents:\n  - name: a-0\n    pop: \"\"\n    address: 127.0.0.1\n", want: []string{`inv.yaml:3: agent "a-0": pop is empty`}},
		{name: "pop upper case", yaml: "agents:\n  - name: scouter-sjc-0\n    pop: SJC\n    address: 127.0.0.1\n",
			want: []string{`inv.yaml:3: agent "scouter-sjc-0": pop "SJC" must be lower case (a-z, 0-9, -)`}},
		{name: "pop bad chars", yaml: "agents:\n  - name: a-0\n    pop: -sjc\n    address: 127.0.0.1\n", want: []string{`inv.yaml:3: agent "a-0": pop "-sjc": want a PoP code`}},
		{name: "pop with underscore", yaml: "agents:\n  - name: a-0\n    pop: s_jc\n    address: 127.0.0.1\n", want: []string{`inv.yaml:3: agent "a-0": pop "s_jc": want a PoP code`}},
		{name: "address missing", yaml: "agents:\n  - name: a-0\n    pop: a\n", want: []string{`inv.yaml:2: agent "a-0": address is missing`}},
		{name: "address empty", yaml: "agents:\n  - name: a-0\n    pop: a\n    address: ' '\n", want: []string{`inv.yaml:4: agent "a-0": address is empty`}},
		{name: "address a URL", yaml: "agents:\n  - name: a-0\n    pop: a\n    address: http://1.2.3.4:8000\n", want: []string{`inv.yaml:4: agent "a-0": address "http://1.2.3.4:8000" is a URL`}},
		{name: "address with port", yaml: "agents:\n  - name: a-0\n    pop: a\n    address: 1.2.3.4:8000\n", want: []string{`inv.yaml:4: agent "a-0": address "1.2.3.4:8000" carries a port`}},
		{name: "address bad IPv4", yaml: "agents:\n  - name: a-0\n    pop: a\n    address: 10.0.0.300\n", want: []string{`inv.yaml:4: agent "a-0": address "10.0.0.300" is neither an IP address nor a host name`}},
		{name: "address bad name", yaml: "agents:\n  - name: a-0\n    pop: a\n    address: bad_host.example\n", want: []string{`inv.yaml:4: agent "a-0": address "bad_host.example" is neither`}},
		{name: "address label too long", yaml: "agents:\n  - name: a-0\n    pop: a\n    address: " + strings.Repeat("x", 64) + ".example\n", want: []string{`inv.yaml:4: agent "a-0": address`, "is neither"}},
		{name: "url empty", yaml: ok + "    url: ''\n", want: []string{`inv.yaml:5: agent "ok-0": url is empty`}},
		{name: "url bad scheme", yaml: ok + "    url: ftp://1.2.3.4/\n", want: []string{`inv.yaml:5: agent "ok-0": url "ftp://1.2.3.4/": want an http:// or https:// URL`}},
		{name: "url no scheme", yaml: ok + "    url: 1.2.3.4:8000\n", want: []string{`inv.yaml:5: agent "ok-0": url`}},
		{name: "url no host", yaml: ok + "    url: http:///api\n", want: []string{`inv.yaml:5: agent "ok-0": url "http:///api" has no host`}},
		{name: "url unparsable", yaml: ok + "    url: \"http://[::1\"\n", want: []string{`inv.yaml:5: agent "ok-0": url "http://[::1" is not a valid URL`}},
		{name: "url with password", yaml: ok + "    url: http://u:pw-SECRET@1.2.3.4:8000\n", want: []string{`inv.yaml:5: agent "ok-0": url must not carry a user or password`}},
		{name: "url with query", yaml: ok + "    url: http://1.2.3.4:8000/?x=1\n", want: []string{`inv.yaml:5: agent "ok-0": url "http://1.2.3.4:8000/?x=1": leave out the query`}},
		{name: "url port range", yaml: ok + "    url: http://1.2.3.4:70000\n", want: []string{`inv.yaml:5: agent "ok-0": url "http://1.2.3.4:70000": port 70000 is out of range`}},
		{name: "secret env and file", yaml: ok + "    secret_env: MT_INV_SECRET\n    secret_file: /x\n", want: []string{`inv.yaml:6: agent "ok-0": give secret_env or secret_file, not both`}},
		{name: "secret env unset", yaml: ok + "    secret_env: MT_INV_UNSET\n", want: []string{`inv.yaml:5: agent "ok-0": secret_env: environment variable MT_INV_UNSET is not set`}},
		{name: "secret env empty", yaml: ok + "    secret_env: MT_INV_EMPTY\n", want: []string{`inv.yaml:5: agent "ok-0": secret_env: environment variable MT_INV_EMPTY is empty`}},
		{name: "secret env bad name", yaml: ok + "    secret_env: 1-X\n", want: []string{`inv.yaml:5: agent "ok-0": secret_env "1-X" is not an environment variable name`}},
		{name: "secret file missing", yaml: ok + "    secret_file: " + filepath.Join(dir, "nope") + "\n",
			want: []string{`inv.yaml:5: agent "ok-0": secret_file: cannot read the secret`, filepath.Join(dir, "nope"), "no such file"}},
		{name: "secret file empty", yaml: ok + "    secret_file: " + empty + "\n", want: []string{`inv.yaml:5: agent "ok-0": secret_file ` + empty + ` is empty`}},
		{name: "secret file two lines", yaml: ok + "    secret_file: " + twoLines + "\n", want: []string{`inv.yaml:5: agent "ok-0": secret_file ` + twoLines + ` holds more than one line`}},
		{name: "secret file is a dir", yaml: ok + "    secret_file: " + dir + "\n", want: []string{`inv.yaml:5: agent "ok-0": secret_file: cannot read the secret`}},
		{name: "secret file empty path", yaml: ok + "    secret_file: ''\n", want: []string{`inv.yaml:5: agent "ok-0": secret_file is empty`}},
		{name: "labels a list", yaml: ok + "    labels: [a]\n", want: []string{`inv.yaml:5: agent "ok-0": labels is a list; want a mapping`}},
		{name: "label value a map", yaml: ok + "    labels:\n      region: {a: b}\n", want: []string{`inv.yaml:6: agent "ok-0": label "region" is a mapping`}},
		{name: "label value null", yaml: ok + "    labels:\n      region:\n", want: []string{`inv.yaml:6: agent "ok-0": label "region" is empty`}},
		{name: "label name empty", yaml: ok + "    labels: {'': x}\n", want: []string{`inv.yaml:5: agent "ok-0": a label name is empty`}},
		{name: "bad default port", yaml: ok, port: 70000, want: []string{"inv.yaml: default agent port 70000 is out of range"}},
		{name: "several problems reported together",
			yaml: "agents:\n  - name: a-0\n    pop: A\n    address: 1.2.3.4:80\n  - name: b-0\n    pop: b\n",
			want: []string{`inv.yaml:3: agent "a-0": pop "A" must be lower case`, `inv.yaml:4: agent "a-0": address "1.2.3.4:80" carries a port`, `inv.yaml:5: agent "b-0": address is missing`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := tt.port
			if port == 0 {
				port = 8000
			}
			got, err := Parse([]byte(tt.yaml), "inv.yaml", port)
			if err == nil {
				t.Fatalf("Parse succeeded with %+v; want an error", got)
			}
			if got != nil {
				t.Errorf("Parse returned agents %+v along with the error", got)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\nlacks %q", msg, w)
				}
			}
			for _, secret := range []string{envSecret, "file-secret-ABC", "pw-SECRET"} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q reveals a secret", msg)
				}
			}
			var ie *Error
			if !errors.As(err, &ie) {
				t.Errorf("error %T is not an *inventory.Error", err)
			}
		})
	}
}

func TestTooManyProblemsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("agents:\n")
	for range 50 {
		b.WriteString("  - name: x\n    pop: X\n")
	}
	_, err := Parse([]byte(b.String()), "inv.yaml", 8000)
	if err == nil {
		t.Fatal("want an error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxErrors+1 || !strings.Contains(lines[len(lines)-1], "too many problems") {
		t.Errorf("got %d lines ending %q; want %d problems and a 'too many problems' line", len(lines), lines[len(lines)-1], maxErrors)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s"), []byte("rel-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "agents.yaml")
	if err := os.WriteFile(path, []byte("agents:\n  - name: a-0\n    pop: a\n    address: 127.0.0.1\n    secret_file: s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path, 8000)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := []mesh.Agent{{Name: "a-0", Pop: "a", Address: "127.0.0.1", URL: "http://127.0.0.1:8000", Secret: "rel-secret"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}

	if err := os.WriteFile(path, []byte("agents:\n  - name: a-0\n    pop: a\n    address: 127.0.0.1\n    labes: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path, 8000)
	if want := path + `:5: agent "a-0": unknown key "labes" (did you mean "labels"?)`; err == nil || err.Error() != want {
		t.Errorf("Load error = %v, want %s", err, want)
	}

	_, err = Load(filepath.Join(dir, "missing.yaml"), 8000)
	if err == nil || !strings.Contains(err.Error(), "read inventory") || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("Load of a missing file: %v", err)
	}
}
