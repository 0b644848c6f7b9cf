package influx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	client "github.com/influxdata/influxdb1-client/v2"

	"github.com/meshtop/meshtop/internal/membudget"
	"github.com/meshtop/meshtop/internal/scrub"
	"github.com/meshtop/meshtop/internal/textsafe"
)

// maxAnswer bounds one query answer in bytes: the widest mesh read (every aggregate of
// 100 PoPs) is a few MB; a raw read of text-typed data over a long window is refused
// beyond this rather than exhausting memory. answer.go bounds it decoded.
const maxAnswer = 512 << 20

// Config says how to reach one InfluxDB 1.x database.
type Config struct {
	URL      string // http(s)://host:port, without credentials
	Database string // default DefaultDatabase
	// Username and Password come from the environment (INFLUX_USERNAME, INFLUX_PASSWORD),
	// never from argv. The password never appears in an error or log line.
	Username string
	Password string
	// CredentialEnv names the settings the credentials came from, for the hint on a 401
	// ("INFLUX_RECORD_USERNAME and INFLUX_RECORD_PASSWORD"); "" means INFLUX_USERNAME and
	// INFLUX_PASSWORD.
	CredentialEnv string
	// DatabaseSetting names the setting the database came from, for the fix when it is
	// not there ("--record-db"); "" means --influx-db.
	DatabaseSetting string
	// Timeout bounds one HTTP request; 0: 30 s; negative: none (an interactive reader
	// whose user sees "loading" and can cancel, the context bounds it).
	Timeout    time.Duration
	HTTPClient *http.Client // nil: a client with Timeout
}

// DefaultDatabase is the workshop's database.
const DefaultDatabase = "metricsdb"

// ParseURL checks an InfluxDB base URL. Credentials in the URL are refused: a URL is
// typically a command-line argument, visible to every user in ps.
func ParseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("no InfluxDB URL given (e.g. http://127.0.0.1:8086)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url's error repeats the input, which might hold a password: say less.
		return nil, errors.New("InfluxDB URL is not a valid URL (want http://host:8086)")
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			return nil, errors.New("InfluxDB URL carries a password (user:pass@): command lines are visible in ps; " +
				"drop it from the URL and set INFLUX_USERNAME and INFLUX_PASSWORD in the environment")
		}
		return nil, errors.New("InfluxDB URL carries a user name (user@): set INFLUX_USERNAME and INFLUX_PASSWORD in the environment instead")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("InfluxDB URL %q: scheme must be http or https", u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("InfluxDB URL %q has no host (want http://host:8086)", u.Redacted())
	}
	u.RawQuery, u.Fragment = "", ""
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

// conn is the HTTP side of the InfluxDB 1.x API. It does its own requests rather than use
// influxdb1-client's Client because that one takes no context and turns write errors
// into bare strings without the HTTP status, which the recorder needs to tell an outage
// from a type conflict or a missing permission. Decoding uses the library's types.
type conn struct {
	base       *url.URL
	db         string
	user, pass string
	credEnv    string
	dbSetting  string
	hc         *http.Client
}

func newConn(cfg Config) (*conn, error) {
	u, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.Database == "" {
		cfg.Database = DefaultDatabase
	}
	if cfg.Password != "" && cfg.Username == "" {
		return nil, errors.New("INFLUX_PASSWORD is set but INFLUX_USERNAME is not")
	}
	// An InfluxDB or a proxy that echoes the request's credentials in an error must
	// not print them: the password and the Basic header's base64 are scrubbed from
	// every text from outside (textsafe).
	scrub.AddBasic(cfg.Username, cfg.Password)
	hc := cfg.HTTPClient
	if hc == nil {
		switch {
		case cfg.Timeout == 0:
			cfg.Timeout = 30 * time.Second
		case cfg.Timeout < 0:
			cfg.Timeout = 0
		}
		hc = &http.Client{Timeout: cfg.Timeout}
	}
	if cfg.DatabaseSetting == "" {
		cfg.DatabaseSetting = "--influx-db"
	}
	return &conn{base: u, db: cfg.Database, user: cfg.Username, pass: cfg.Password, credEnv: cfg.CredentialEnv,
		dbSetting: cfg.DatabaseSetting, hc: hc}, nil
}

func (c *conn) endpoint(p string, params url.Values) string {
	u := *c.base
	u.Path += p
	u.RawQuery = params.Encode()
	return u.String()
}

func (c *conn) where() string { return c.base.Redacted() }

// HTTPError is an answer of InfluxDB other than success.
type HTTPError struct {
	Op     string // "query" or "write"
	URL    string // base URL, never with credentials
	Status int
	Msg    string // InfluxDB's error text (sanitised, bounded)
	// Credentials names the settings the credentials came from (Config.CredentialEnv);
	// NoCreds is set when none were sent.
	Credentials string
	NoCreds     bool
}

func (e *HTTPError) Error() string {
	hint := ""
	switch e.Status {
	case http.StatusUnauthorized:
		creds := e.Credentials
		if creds == "" {
			creds = "INFLUX_USERNAME and INFLUX_PASSWORD"
		}
		if e.NoCreds {
			hint = " (no credentials were sent: set " + creds + ")"
		} else {
			hint = " (check " + creds + ")"
		}
	case http.StatusForbidden:
		hint = " (the user lacks the privilege: GRANT READ or WRITE on the database)"
	case http.StatusNotFound:
		hint = " (create the database or fix --influx-db)"
	}
	return fmt.Sprintf("InfluxDB %s at %s: HTTP %d: %s%s", e.Op, e.URL, e.Status, e.Msg, hint)
}

// Temporary reports whether retrying later may succeed without anyone changing anything.
func (e *HTTPError) Temporary() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests
}

// Permanent reports an answer that waiting will not change (credentials, privileges, a
// missing database): a flush at exit gives up at once on these.
func (e *HTTPError) Permanent() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden || e.Status == http.StatusNotFound
}

// NotInfluxError is an answer that did not come from InfluxDB (a web server, a proxy's
// login page): it says so with a bounded, sanitised excerpt rather than dumping a page.
type NotInfluxError struct {
	Op, URL     string
	Status      int
	ContentType string
	Excerpt     string
}

func (e *NotInfluxError) Error() string {
	return fmt.Sprintf("InfluxDB %s at %s: not an InfluxDB answer (HTTP %d, %s): %q — check --influx-url (InfluxDB 1.x listens on :8086)",
		e.Op, e.URL, e.Status, orUnknown(e.ContentType), e.Excerpt)
}

func orUnknown(s string) string {
	if s == "" {
		return "no content type"
	}
	return s
}

// excerptLen bounds the part of a foreign answer quoted in an error.
const excerptLen = 120

// notInflux builds the error for a foreign answer: HTML is reduced to its text.
func notInflux(op, where string, resp *http.Response, body []byte) error {
	s := string(body)
	if strings.Contains(strings.ToLower(resp.Header.Get("Content-Type")), "html") || strings.HasPrefix(strings.TrimSpace(s), "<") {
		s = htmlTagRE.ReplaceAllString(s, " ")
	}
	return &NotInfluxError{Op: op, URL: where, Status: resp.StatusCode, ContentType: textsafe.Name(resp.Header.Get("Content-Type")),
		Excerpt: strings.TrimSpace(textsafe.String(strings.Join(strings.Fields(s), " "), excerptLen))}
}

var htmlTagRE = regexp.MustCompile(`(?s)<(script|style)[^>]*>.*?</(script|style)>|<[^>]*>`)

// fromInflux reports whether an answer carries InfluxDB 1.x's version header.
func fromInflux(resp *http.Response) bool { return resp.Header.Get("X-Influxdb-Version") != "" }

func (c *conn) httpError(op string, resp *http.Response, body []byte) error {
	if !fromInflux(resp) && !json.Valid(bytes.TrimSpace(body)) {
		return notInflux(op, c.where(), resp, body)
	}
	return &HTTPError{Op: op, URL: c.where(), Status: resp.StatusCode, Msg: errorText(body), Credentials: c.credEnv, NoCreds: c.user == ""}
}

// errorText pulls InfluxDB's {"error": "..."} out of a body (or returns it trimmed).
func errorText(body []byte) string {
	var r struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &r) == nil && r.Error != "" {
		return textsafe.Message(r.Error)
	}
	return textsafe.String(strings.TrimSpace(string(body)), 300)
}

// query runs one InfluxQL request (possibly several statements separated by ';') and
// returns one result per statement; a statement error fails the whole call. An answer
// that comes from a database that is not there says so (DatabaseError).
func (c *conn) query(ctx context.Context, q string) ([]client.Result, error) {
	return c.queryRows(ctx, q, false)
}

// queryRows is query; epochNS asks for times as nanosecond numbers, which InfluxDB
// writes several times faster than RFC 3339 (reads of many rows).
func (c *conn) queryRows(ctx context.Context, q string, epochNS bool) ([]client.Result, error) {
	res, err := c.rawQueryRows(ctx, q, epochNS)
	if err != nil {
		return nil, c.checkDatabase(ctx, err)
	}
	return res, nil
}

// rawQuery is query without the check of the database.
func (c *conn) rawQuery(ctx context.Context, q string) ([]client.Result, error) {
	return c.rawQueryRows(ctx, q, false)
}

func (c *conn) rawQueryRows(ctx context.Context, q string, epochNS bool) ([]client.Result, error) {
	form := url.Values{"q": {q}, "db": {c.db}}
	if epochNS {
		form.Set("epoch", "ns")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint("/query", nil), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("InfluxDB query at %s: %w", c.where(), err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("InfluxDB query at %s: %w", c.where(), unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, c.httpError("query", resp, body)
	}
	if !fromInflux(resp) && !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, notInflux("query", c.where(), resp, body)
	}
	data, held, tooLarge, err := membudget.Read(resp.Body, maxAnswer, 256<<10, decodeBudget)
	defer func() { decodeBudget.Give(held) }()
	switch {
	case errors.Is(err, membudget.ErrExhausted):
		return nil, fmt.Errorf("InfluxDB query at %s: %w", c.where(), errDecodeBudget)
	case err != nil:
		return nil, fmt.Errorf("InfluxDB query at %s: answer cut off: %w", c.where(), unwrapURLError(err))
	case tooLarge:
		return nil, fmt.Errorf("InfluxDB query at %s: answer larger than %d MiB: narrow the window or the PoPs", c.where(), maxAnswer>>20)
	}
	// The decoded answer is held in the budget before it is made.
	extra, err := checkAnswer(data, limitsFrom(ctx, q))
	if err == nil && !decodeBudget.Take(extra) {
		err = errDecodeBudget
	} else if err == nil {
		held += extra
	}
	if err != nil {
		return nil, fmt.Errorf("InfluxDB query at %s: %w", c.where(), err)
	}
	r, err := unmarshalAnswer(data)
	if err != nil {
		return nil, fmt.Errorf("InfluxDB query at %s: %w", c.where(), err)
	}
	if err := r.Error(); err != nil {
		err = errors.New(textsafe.Message(err.Error()))
		return nil, fmt.Errorf("InfluxDB query at %s: %w", c.where(), err)
	}
	return r.Results, nil
}

// write posts line protocol (ns precision). A refusal that comes from a database that
// is not there says so (DatabaseError).
func (c *conn) write(ctx context.Context, body []byte) error { return c.writeTo(ctx, "", body) }

// writeTo is write into retention policy rp ("": the default one).
func (c *conn) writeTo(ctx context.Context, rp string, body []byte) error {
	if err := c.rawWrite(ctx, rp, body); err != nil {
		return c.checkDatabase(ctx, err)
	}
	return nil
}

func (c *conn) rawWrite(ctx context.Context, rp string, body []byte) error {
	params := url.Values{"db": {c.db}, "precision": {"ns"}}
	if rp != "" {
		params.Set("rp", rp)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint("/write", params), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("InfluxDB write at %s: %w", c.where(), err)
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("InfluxDB write at %s: %w", c.where(), unwrapURLError(err))
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusOK {
		if fromInflux(resp) {
			return nil
		}
		// Something answered that is not InfluxDB: the points went nowhere.
		return notInflux("write", c.where(), resp, data)
	}
	return c.httpError("write", resp, data)
}

// unwrapURLError drops url.Error's "Post <url>:" prefix: we name the server ourselves and
// the full URL (query string) is noise.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
