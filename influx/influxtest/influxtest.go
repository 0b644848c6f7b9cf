// Package influxtest starts a real influxd (InfluxDB 1.x) for tests and benchmarks: a
// config with every data, meta and WAL directory in a temp dir, HTTP and RPC bound to free
// loopback ports, reporting disabled. The server can be stopped and started again on the
// same ports and data (to test outages), and can run with authentication to create admin,
// read-only and write-only users.
package influxtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configure a server.
type Options struct {
	// Auth enables authentication; Launch then creates the admin user AdminUser.
	Auth bool
	// Binary is the influxd to run; empty means $INFLUXD, then influxd in PATH, then
	// /usr/bin/influxd.
	Binary string
	// Log receives influxd's output; nil discards it.
	Log io.Writer
}

// Credentials of the admin user created when Options.Auth is set.
const (
	AdminUser     = "mt_admin"
	AdminPassword = "mt-admin-pw"
)

// Server is one running (or stopped) influxd.
type Server struct {
	URL    string // http://127.0.0.1:port
	Dir    string // data, meta and WAL live below it
	Auth   bool
	binary string
	config string
	log    io.Writer

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// FindBinary locates influxd (see Options.Binary).
func FindBinary(explicit string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	if p := os.Getenv("INFLUXD"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("influxd"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/influxd"); err == nil {
		return "/usr/bin/influxd", nil
	}
	return "", errors.New("influxd not found: install InfluxDB 1.x (Debian: apt-get install influxdb) or set INFLUXD")
}

// Start launches a server for a test in t.TempDir() and stops it on cleanup. Without an
// influxd the test is skipped, except under CI=true where that is a failure.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	bin, err := FindBinary(opts.Binary)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %v", err)
		}
		t.Skip(err)
	}
	opts.Binary = bin
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := Launch(ctx, t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	return s
}

// Launch writes a config below dir and starts influxd, returning once /ping answers 204.
func Launch(ctx context.Context, dir string, opts Options) (*Server, error) {
	bin, err := FindBinary(opts.Binary)
	if err != nil {
		return nil, err
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	rpcPort, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{
		URL:    fmt.Sprintf("http://127.0.0.1:%d", httpPort),
		Dir:    dir,
		Auth:   opts.Auth,
		binary: bin,
		config: filepath.Join(dir, "influxdb.conf"),
		log:    opts.Log,
	}
	if s.log == nil {
		s.log = io.Discard
	}
	conf := fmt.Sprintf(`reporting-disabled = true
bind-address = "127.0.0.1:%d"

[meta]
  dir = %q
  logging-enabled = false

[data]
  dir = %q
  wal-dir = %q
  query-log-enabled = false
  wal-fsync-delay = "0s"

[coordinator]
  log-queries-after = "0s"

[monitor]
  store-enabled = false

[continuous_queries]
  enabled = false

[shard-precreation]
  enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:%d"
  auth-enabled = %t
  log-enabled = false
  pprof-enabled = false
  max-row-limit = 0

[logging]
  level = "warn"
  suppress-logo = true
`, rpcPort, filepath.Join(dir, "meta"), filepath.Join(dir, "data"), filepath.Join(dir, "wal"), httpPort, opts.Auth)
	if err := os.WriteFile(s.config, []byte(conf), 0o600); err != nil {
		return nil, fmt.Errorf("write influxd config: %w", err)
	}
	if err := s.Restart(ctx); err != nil {
		return nil, err
	}
	if opts.Auth {
		// With no user yet, InfluxDB 1.x accepts exactly this statement unauthenticated.
		if err := s.query(ctx, "", "", "", fmt.Sprintf("CREATE USER %q WITH PASSWORD '%s' WITH ALL PRIVILEGES", AdminUser, AdminPassword)); err != nil {
			_ = s.Stop()
			return nil, fmt.Errorf("create admin user: %w", err)
		}
	}
	return s, nil
}

// Restart starts influxd again (after Stop) on the same ports and data.
func (s *Server) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("influxd is already running")
	}
	cmd := exec.Command(s.binary, "-config", s.config)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.Env = append(os.Environ(), "INFLUXDB_DATA_QUERY_LOG_ENABLED=false")
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.binary, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	hc := &http.Client{Timeout: time.Second}
	for {
		resp, err := hc.Get(s.URL + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				return nil
			}
		}
		select {
		case <-done:
			s.cmd = nil
			return fmt.Errorf("influxd exited before answering /ping (config %s)", s.config)
		case <-ctx.Done():
			s.stopLocked()
			return fmt.Errorf("wait for influxd /ping at %s: %w", s.URL, ctx.Err())
		case <-tick.C:
		}
	}
}

// Stop terminates influxd (SIGTERM, then SIGKILL after 10 s). Stopping a stopped server
// is a no-op.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
	return nil
}

func (s *Server) stopLocked() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Exec runs InfluxQL statements as admin (when Auth is on) against db and fails on any
// statement error.
func (s *Server) Exec(ctx context.Context, db, q string) error {
	user, pass := "", ""
	if s.Auth {
		user, pass = AdminUser, AdminPassword
	}
	return s.query(ctx, db, user, pass, q)
}

// CreateDatabase creates db.
func (s *Server) CreateDatabase(ctx context.Context, db string) error {
	return s.Exec(ctx, "", fmt.Sprintf("CREATE DATABASE %q", db))
}

// CreateUser creates a user with privilege "READ", "WRITE" or "ALL" on db.
func (s *Server) CreateUser(ctx context.Context, name, password, privilege, db string) error {
	if err := s.Exec(ctx, "", fmt.Sprintf("CREATE USER %q WITH PASSWORD '%s'", name, strings.ReplaceAll(password, "'", `\'`))); err != nil {
		return err
	}
	return s.Exec(ctx, "", fmt.Sprintf("GRANT %s ON %q TO %q", privilege, db, name))
}

// WriteLines writes line protocol (ns precision) into db as admin.
func (s *Server) WriteLines(ctx context.Context, db, lines string) error {
	return s.WriteLinesRP(ctx, db, "", lines)
}

// WriteLinesRP writes line protocol into a retention policy of db ("" = the default).
func (s *Server) WriteLinesRP(ctx context.Context, db, rp, lines string) error {
	u := s.URL + "/write?precision=ns&db=" + url.QueryEscape(db)
	if rp != "" {
		u += "&rp=" + url.QueryEscape(rp)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(lines))
	if err != nil {
		return err
	}
	if s.Auth {
		req.SetBasicAuth(AdminUser, AdminPassword)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("write to %s: %w", db, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("write to %s: HTTP %d: %s", db, resp.StatusCode, bytes.TrimSpace(body))
	}
	return nil
}

func (s *Server) query(ctx context.Context, db, user, pass, q string) error {
	form := url.Values{"q": {q}}
	if db != "" {
		form.Set("db", db)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/query", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("query %q: %w", q, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Error   string `json:"error"`
		Results []struct {
			Error string `json:"error"`
		} `json:"results"`
	}
	_ = json.Unmarshal(body, &r)
	if resp.StatusCode != http.StatusOK || r.Error != "" {
		return fmt.Errorf("query %q: HTTP %d: %s", q, resp.StatusCode, bytes.TrimSpace(body))
	}
	for _, res := range r.Results {
		if res.Error != "" {
			return fmt.Errorf("query %q: %s", q, res.Error)
		}
	}
	return nil
}

// freePort asks the kernel for a free loopback TCP port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
