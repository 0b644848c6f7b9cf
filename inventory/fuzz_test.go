package inventory

import (
	"strings"
	"testing"
)

// FuzzParse: no input makes Parse panic, hang or accept an invalid agent. Seeds include
// what a hostile or careless file holds: huge, deeply nested, control characters, wrong
// kinds, alias bombs, devices as secret files.
func FuzzParse(f *testing.F) {
	const ok = "agents:\n  - name: a-0\n    pop: a\n    address: 127.0.0.1\n"
	for _, s := range []string{
		ok,
		ok + "  - name: b-0\n    pop: b\n    address: b.example\n    url: https://b.example/scouter/\n    labels: {region: eu}\n",
		"",
		"agents:\n",
		"agents: []\n",
		"agents: {name: a}\n",
		"- name: a\n",
		"agents:\n  - scalar\n  - [list]\n  - {name: [x]}\n  -\n",
		ok + "    name: again\n    pop: [1]\n    labels: [x]\n",
		ok + "    secret_file: /dev/zero\n",
		ok + "    secret_file: /dev/stdin\n",
		ok + "    secret_env: \"\\x00\"\n",
		"agents:\n  - name: \"a\\u001b]0;T\\u0007\"\n    pop: \"\\u0000\"\n    address: \"\\r\\n\"\n",
		"agents:\n\t- name: a\n",
		"\ufeffagents:\n  - name: a\n",
		ok + "---\n" + ok,
		strings.Repeat("[", 5000) + strings.Repeat("]", 5000),
		"agents: " + strings.Repeat("[", 20000),
		"a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nagents: [*c, *c]\n",
		"agents:\n" + strings.Repeat("  - name: x\n    pop: X\n", 2000),
		"agents:\n  - name: " + strings.Repeat("x", 100000) + "\n",
		"agents:\n  - name: a\n    pop: a\n    address: 1.2.3.4\n    url: http://u:pw@1.2.3.4:8000\n",
		"agents:\n  - !!binary name: a\n",
		"agents:\n  - ? [complex, key]\n    : v\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		agents, err := Parse([]byte(doc), "fuzz.yaml", 8000)
		if err != nil {
			if agents != nil {
				t.Fatalf("agents %v along with error %v", agents, err)
			}
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if len(agents) == 0 {
			t.Fatal("no error and no agents")
		}
		names := map[string]bool{}
		for _, a := range agents {
			if a.Name == "" || a.Pop == "" || a.Address == "" || a.URL == "" {
				t.Fatalf("accepted an incomplete agent %+v", a)
			}
			if strings.IndexFunc(a.Name, badNameRune) >= 0 || !popRE.MatchString(a.Pop) {
				t.Fatalf("accepted a bad name or pop %+v", a)
			}
			if names[a.Name] {
				t.Fatalf("accepted a duplicate name %q", a.Name)
			}
			names[a.Name] = true
		}
	})
}
