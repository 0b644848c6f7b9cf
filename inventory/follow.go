package inventory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/meshtop/meshtop/internal/textsafe"
	"github.com/meshtop/meshtop/mesh"
)

// Following an inventory while `live` and `serve` run: live.Loop calls Agents beside
// the sweeps (every --rediscover). A change is read and checked whole; a version that
// is not valid is refused with the reason, and the last good list stays (an editor
// saving half a file, a typo, a server answering an error page must not empty the
// mesh). A problem is said when it appears and again every RepeatProblem while it
// lasts, so that a viewer who missed it sees it and a daemon's log is not flooded.

// RepeatProblem is how often a lasting problem is said again (the live status bar
// keeps one 45 s).
const RepeatProblem = 30 * time.Second

// problem remembers what was last said, and when.
type problem struct {
	msg  string
	said time.Time
}

// report returns err when it is new or due again, nil when it was said lately.
func (p *problem) report(err error, now time.Time) error {
	msg := err.Error()
	if msg == p.msg && now.Sub(p.said) < RepeatProblem {
		return nil
	}
	p.msg, p.said = msg, now
	return err
}

func (p *problem) clear() { p.msg = "" }

// keepGood is the error of a refused version: what is wrong first (a status bar cuts
// the end), on one line.
func keepGood(n int, err error) error {
	first, rest, multi := strings.Cut(err.Error(), "\n")
	if multi {
		first += fmt.Sprintf(" (and %d more problems)", strings.Count(rest, "\n")+1)
	}
	return fmt.Errorf("%s (refused: still probing the %d agents of the last good version)", first, n)
}

// File follows an inventory file. Agents reads it again when its size, time or
// identity changed (an editor that writes a new file and renames it over the old one
// included).
type File struct {
	Path string
	Port int // for agents without url

	mu   sync.Mutex
	seen os.FileInfo
	good []mesh.Agent
	bad  problem
}

// Agents returns the inventory's agents: the file's when it changed and is valid,
// else the last good ones. The first read has nothing to fall back on: its problem is
// the error. A refused version is the error once (and every RepeatProblem while it
// lasts); between, the last good list comes back without one.
func (f *File) Agents(context.Context) ([]mesh.Agent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := os.Stat(f.Path)
	if err == nil && f.seen != nil && os.SameFile(st, f.seen) && st.Size() == f.seen.Size() && st.ModTime().Equal(f.seen.ModTime()) {
		return f.good, nil
	}
	var as []mesh.Agent
	if err == nil {
		as, err = Load(f.Path, f.Port)
	} else {
		err = fmt.Errorf("read inventory: %w", err)
	}
	if err != nil && f.good == nil {
		return nil, err // the first read: nothing to keep
	}
	if err != nil {
		f.seen = nil // read it again next time: it may be mid-write
		if rerr := f.bad.report(keepGood(len(f.good), err), time.Now()); rerr != nil {
			return nil, rerr
		}
		return f.good, nil
	}
	f.seen, f.good = st, as
	f.bad.clear()
	return as, nil
}

// Remote follows an inventory served over HTTP(S), one list for many collectors (as
// perfSONAR's mesh config URL is). Each Agents is one conditional GET
// (If-None-Match, If-Modified-Since): 304 keeps the list without reading it again.
// The answer is bounded in bytes (MaxBytes) and the request in time (Timeout). Only
// https://, or http:// to a loopback address, is fetched: the list says where the
// shared secret goes.
type Remote struct {
	URL  string
	Port int
	// HTTP is the client (nil: one with Timeout); it never follows a redirect to
	// plain http.
	HTTP     *http.Client
	Timeout  time.Duration // one fetch, default 30 s
	MaxBytes int64         // the answer, default 8 MiB (as a file)

	mu       sync.Mutex
	etag     string
	modified string
	good     []mesh.Agent
	bad      problem
	// Fetches and NotModified count requests and 304 answers (for tests and logs).
	Fetches, NotModified int
}

// Default bounds of Remote.
const (
	DefaultRemoteTimeout = 30 * time.Second
	DefaultRemoteEvery   = 2 * time.Minute
)

// IsURL says whether an --inventory value is a URL rather than a file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")
}

// CheckURL says what is wrong with an inventory URL, "" when nothing.
func CheckURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Sprintf("inventory URL %q is not a URL", textsafe.Name(raw))
	}
	if u.User != nil {
		return "the inventory URL must not carry a user or password"
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		if ip := net.ParseIP(u.Hostname()); (ip != nil && ip.IsLoopback()) || u.Hostname() == "localhost" {
			return ""
		}
		return fmt.Sprintf("inventory %s: plain http is only fetched from this machine (loopback); use https: the list says where the shared secret goes", textsafe.Name(raw))
	}
	return fmt.Sprintf("inventory URL %q: want https://", textsafe.Name(raw))
}

// Agents fetches the list if it changed, else returns the last good one. Like File:
// the first fetch's problem is the error; later, a refused version is said (once, and
// every RepeatProblem while it lasts) and the last good list stays.
func (r *Remote) Agents(ctx context.Context) ([]mesh.Agent, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	as, notModified, err := r.fetch(ctx)
	switch {
	case err == nil && notModified:
		r.bad.clear()
		return r.good, nil
	case err == nil:
		r.good = as
		r.bad.clear()
		return as, nil
	case r.good == nil:
		return nil, err
	}
	if rerr := r.bad.report(keepGood(len(r.good), err), time.Now()); rerr != nil {
		return nil, rerr
	}
	return r.good, nil
}

func (r *Remote) fetch(ctx context.Context) (as []mesh.Agent, notModified bool, err error) {
	if msg := CheckURL(r.URL); msg != "" {
		return nil, false, errors.New(msg)
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultRemoteTimeout
	}
	max := r.MaxBytes
	if max <= 0 {
		max = maxFileBytes
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL, nil)
	if err != nil {
		return nil, false, fmt.Errorf("fetch inventory: %w", err)
	}
	req.Header.Set("Accept", "application/yaml, text/yaml, text/plain;q=0.9, */*;q=0.1")
	if r.good != nil {
		// Conditional only once there is a list to keep.
		if r.etag != "" {
			req.Header.Set("If-None-Match", r.etag)
		}
		if r.modified != "" {
			req.Header.Set("If-Modified-Since", r.modified)
		}
	}
	hc := r.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: timeout}
	}
	c := *hc
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("more than 5 redirects")
		}
		if msg := CheckURL(req.URL.String()); msg != "" {
			return fmt.Errorf("redirect refused: %s", msg)
		}
		return nil
	}
	r.Fetches++
	resp, err := c.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, fmt.Errorf("fetch inventory %s: no answer within %s", r.URL, timeout)
		}
		return nil, false, fmt.Errorf("fetch inventory: %s", textsafe.Message(err.Error()))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && r.good != nil:
		r.NotModified++
		return nil, true, nil
	case resp.StatusCode != http.StatusOK:
		return nil, false, fmt.Errorf("fetch inventory %s: HTTP %d", r.URL, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, fmt.Errorf("fetch inventory %s: the answer did not arrive within %s", r.URL, timeout)
		}
		return nil, false, fmt.Errorf("fetch inventory %s: %s", r.URL, textsafe.Message(err.Error()))
	}
	if int64(len(body)) > max {
		return nil, false, fmt.Errorf("fetch inventory %s: the answer is larger than %d bytes: not an inventory", r.URL, max)
	}
	as, err = ParseRemote(body, r.URL, r.Port)
	if err != nil {
		return nil, false, err
	}
	r.etag, r.modified = validator(resp.Header.Get("ETag")), validator(resp.Header.Get("Last-Modified"))
	return as, false, nil
}

// validator keeps an ETag or Last-Modified to send back only when it is a sane header
// value: short and printable.
func validator(v string) string {
	if len(v) > 256 || textsafe.String(v, 256) != v {
		return ""
	}
	return v
}
