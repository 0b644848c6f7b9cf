package main

import (
	"net/url"
	"strings"
)

// urlCredentialAdvice says, per URL flag, where the credentials that someone wrote into
// the URL go instead (settings refuses a URL with a user or password in the file).
var urlCredentialAdvice = map[string]string{
	"influx-url": "set INFLUX_USERNAME and INFLUX_PASSWORD in the environment",
	"record":     "set INFLUX_RECORD_USERNAME and INFLUX_RECORD_PASSWORD (or INFLUX_USERNAME and INFLUX_PASSWORD) in the environment",
}

// redactURLs masks the password of every URL in a flag's printed value
// (`http://u:***@host`), so that `config show` can be pasted into a ticket. Values that are
// not URLs pass unchanged; a list value ("[a,b]") is masked item by item.
func redactURLs(v string) string {
	if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
		items := strings.Split(v[1:len(v)-1], ",")
		for i, it := range items {
			items[i] = redactURLs(it)
		}
		return "[" + strings.Join(items, ",") + "]"
	}
	u, err := url.Parse(v)
	if err != nil || u.User == nil || u.Host == "" {
		if i := strings.Index(v, "@"); err != nil && i > 0 && strings.Contains(v[:i], "://") {
			return v[:strings.Index(v, "://")+3] + "***" + v[i:] // unparsable: mask all before @
		}
		return v
	}
	if _, has := u.User.Password(); !has {
		return v // a user name alone is no secret
	}
	// Redacted writes "xxxxx" (a ':' in the user name is escaped, so this is the password).
	return strings.Replace(u.Redacted(), ":xxxxx@", ":***@", 1)
}
