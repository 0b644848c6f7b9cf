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
