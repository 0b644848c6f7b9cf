package inventory

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/meshtop/meshtop/internal/secretfile"
)

var (
	popRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	labelRE   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	numericRE = regexp.MustCompile(`^[0-9]+$`)
)

// checkAddress accepts an IP address or a DNS host name (RFC 1123 syntax) and returns a
// message saying what is wrong otherwise.
func checkAddress(v string) string {
	switch {
	case v == "":
		return "address is empty"
	case strings.Contains(v, "://"):
		return fmt.Sprintf("address %q is a URL; give the IP or host name the other agents ping, and the API URL under url:", v)
	}
	if _, err := netip.ParseAddr(v); err == nil {
		return ""
	}
	if host, port, err := net.SplitHostPort(v); err == nil && host != "" && port != "" {
		return fmt.Sprintf("address %q carries a port; give the bare IP or host name (the API port goes in url:)", v)
	}
	if !isHostName(v) {
		return fmt.Sprintf("address %q is neither an IP address nor a host name", v)
	}
	return ""
}

func isHostName(v string) bool {
	v = strings.TrimSuffix(v, ".")
	if v == "" || len(v) > 253 {
		return false
	}
	labels := strings.Split(v, ".")
	for _, l := range labels {
		if !labelRE.MatchString(l) {
			return false
		}
	}
	// An all-numeric last label is a mistyped IPv4 address ("10.0.0.300"), not a name.
	return !numericRE.MatchString(labels[len(labels)-1])
}

// checkURL validates an agent's API URL and returns it without a trailing slash (the
// client appends /api/v1.0/...).
func checkURL(v string) (string, string) {
	shown := fmt.Sprintf("%q", v)
	if strings.Contains(v, "@") {
		shown = "" // may hold a password: never echo it
	}
	u, err := url.Parse(v)
	switch {
	case v == "":
		return "", "url is empty; leave it out to use http://ADDRESS:PORT"
	case err != nil:
		return "", fmt.Sprintf("url %s is not a valid URL", shown)
	case u.User != nil:
		return "", "url must not carry a user or password; give the secret with secret_env or secret_file"
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Sprintf("url %s: want an http:// or https:// URL", shown)
	case u.Hostname() == "":
		return "", fmt.Sprintf("url %s has no host", shown)
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "", fmt.Sprintf("url %s: leave out the query and fragment; give the API's base URL", shown)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", fmt.Sprintf("url %s: port %s is out of range (1-65535)", shown, p)
		}
	}
	return strings.TrimRight(v, "/"), ""
}

// secretFromEnv reads an agent's secret from the environment. Messages name the
// variable, never its value.
func secretFromEnv(name string) (string, string) {
	if !envNameRE.MatchString(name) {
		return "", fmt.Sprintf("secret_env %q is not an environment variable name", name)
	}
	v, ok := os.LookupEnv(name)
	switch {
	case !ok:
		return "", fmt.Sprintf("secret_env: environment variable %s is not set; export it with this agent's secret", name)
	case v == "":
		return "", fmt.Sprintf("secret_env: environment variable %s is empty", name)
	}
	return v, ""
}

// secretFromFile reads an agent's secret from a file, dropping the trailing newline an
// editor or `echo` leaves. Messages name the file, never its content.
func secretFromFile(dir, name string) (string, string) {
	if name == "" {
		return "", "secret_file is empty"
	}
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	s, err := secretfile.Read(path)
	switch {
	case errors.Is(err, secretfile.ErrEmpty):
		return "", fmt.Sprintf("secret_file %s is empty", path)
	case errors.Is(err, secretfile.ErrLines):
		return "", fmt.Sprintf("secret_file %s holds more than one line; want the secret alone", path)
	case err != nil:
		// The error holds the path and the reason only, never the content.
		return "", fmt.Sprintf("secret_file: cannot read the secret: %v", err)
	}
	return s, ""
}
