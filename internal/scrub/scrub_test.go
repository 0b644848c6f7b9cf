package scrub

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"net/url"
	"strings"
	"testing"
)

func TestForms(t *testing.T) {
	const secret = `s3cr3t/+&"<x>é`
	Add(secret)
	AddBasic("grafana", "pa:ss word")
	j, _ := json.Marshal(secret)
	for _, form := range []string{
		secret,
		base64.StdEncoding.EncodeToString([]byte(secret)),
		base64.RawURLEncoding.EncodeToString([]byte(secret)),
		url.QueryEscape(secret),
		url.PathEscape(secret),
		html.EscapeString(secret),
		string(j[1 : len(j)-1]),
		"Basic " + base64.StdEncoding.EncodeToString([]byte("grafana:pa:ss word")),
		"pa:ss word",
	} {
		in := "error: Authorization: " + form + " refused"
		got := String(in)
		if strings.Contains(got, form) || !strings.Contains(got, Redacted) {
			t.Errorf("%q -> %q", in, got)
		}
	}
	if got := String("nothing to hide"); got != "nothing to hide" {
		t.Errorf("clean text changed: %q", got)
	}
}

func TestShortSecretsAreNotScrubbed(t *testing.T) {
	Add("ab")
	if got := String("a tab"); got != "a tab" {
		t.Errorf("got %q", got)
	}
}

// FuzzFind: the allocation-free search finds a secret exactly when replacing changes
// the text.
func FuzzFind(f *testing.F) {
	Add("fuzz-secret-1")
	AddBasic("u", "fuzz-pw-22")
	for _, s := range []string{"", "fuzz-secret-1", "xx ZnV6ei1zZWNyZXQtMQ== yy", "fuzz-secret-", "dTpmdXp6LXB3LTIy"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc := cur.Load()
		if found, changed := sc.find(s), sc.repl.Replace(s) != s; found != changed {
			t.Fatalf("find %v, replace changed %v: %q", found, changed, s)
		}
	})
}
