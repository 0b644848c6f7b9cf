package main

import (
	"strings"
	"testing"
)

func TestRedactURLs(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http://u:pw@db.example:8086", "http://u:***@db.example:8086"},
		{"https://reader:p%40ss@db.example/influx", "https://reader:***@db.example/influx"},
		{"http://u@db.example:8086", "http://u@db.example:8086"},
		{"http://db.example:8086", "http://db.example:8086"},
		{"[http://a:pw@x,http://y]", "[http://a:***@x,http://y]"},
		{"http://u:pw@[::1", "http://***@[::1"},
		{"metricsdb", "metricsdb"},
		{"", ""},
	} {
		if got := redactURLs(tc.in); got != tc.want {
			t.Errorf("redactURLs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestConfigShowRedactsURLs: credentials in INFLUX_URL never reach `config show`'s output
// (issue 10).
func TestConfigShowRedactsURLs(t *testing.T) {
	isolateEnv(t)
	t.Setenv("INFLUX_URL", "http://reader:pw-S3CRET@db.example:8086")
	root := newRootCmd()
	var out strings.Builder
	root.SetOut(&out)
	root.SetErr(new(strings.Builder))
	root.SetArgs([]string{"config", "show", "history"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "pw-S3CRET") || !strings.Contains(out.String(), "http://reader:***@db.example:8086") {
		t.Errorf("config show history:\n%s", out.String())
	}
}
