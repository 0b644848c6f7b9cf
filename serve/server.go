// Package serve is `meshtop serve`'s SSH side: the live TUI for every team member over
// SSH (charm.land/wish/v2, one Bubble Tea program per session), public-key logins with
// viewer and operator roles, a team-wide rate limit on sweep-now, idle and session
// limits. Every session has its own view state; all share one store and one sweeper
// through a live.Feed.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	"charm.land/wish/v2/bubbletea"

	"github.com/meshtop/meshtop/internal/textsafe"
	"github.com/meshtop/meshtop/live"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/tui"
)

// Config shapes a server.
type Config struct {
	StateDir string // the host key lives here
	Access   Access
	// MaxSessions bounds open sessions; one more is told so and closed.
	MaxSessions int
	// IdleTimeout closes a session that sent no key, mouse or resize for this long.
	IdleTimeout time.Duration
	// SweepNowEvery is the team-wide rate limit of an operator's `r`.
	SweepNowEvery time.Duration

	Store    *mesh.Store
	Feed     *live.Feed
	SweepNow func()     // the loop's SweepNow
	UI       tui.Config // every session starts from it
	Logger   *slog.Logger
	// Reads, when set, answers every session's matrix, pair history and traces instead of
	// the store alone (blend.Source: InfluxDB behind the store, other shards' pairs).
	Reads Reads
	// PreAuth and PreAuthPerSource bound the connections that have not logged in, all
	// together and per address (DefaultPreAuth, DefaultPreAuthPerSource when 0).
	PreAuth, PreAuthPerSource int
}

// Reads is what a session reads beside the store's capabilities.
type Reads interface {
	Matrix(ctx context.Context) (*mesh.Matrix, error)
	PairHistory(ctx context.Context, src, dst string, maxPoints int) ([]mesh.Sample, error)
	PairTraces(ctx context.Context, src, dst string) ([]mesh.TraceResult, error)
}

// Defaults.
const (
	DefaultMaxSessions   = 32
	DefaultIdleTimeout   = 30 * time.Minute
	DefaultSweepNowEvery = 30 * time.Second
	// HandshakeTimeout bounds the time from TCP connect to a finished SSH handshake:
	// a key login takes a few round trips; what has not logged in by then never will.
	HandshakeTimeout = 10 * time.Second
	// MaxPtyWidth and MaxPtyHeight clamp a session's terminal: the frame is rendered
	// for at most this size whatever the client claims (10000x2000 took 4.3 GB).
	MaxPtyWidth  = 500
	MaxPtyHeight = 200
)

// Server is a running SSH server.
type Server struct {
	cfg     Config
	ssh     *ssh.Server
	limiter *sweepLimiter
	open    atomic.Int64
	log     *slog.Logger
	pre     *preauth
}

type ctxKey int

const (
	keyRole ctxKey = iota
	keyFingerprint
	keyState
	keyPending // the *pendingConn until the key logs in
	keyNoPty   // FILE:LINE of a restrict/no-pty line that admitted the key
)

// New checks the access files, loads (or makes) the host key and builds the server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Feed == nil {
		return nil, errors.New("serve: Store and Feed are required")
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.SweepNowEvery <= 0 {
		cfg.SweepNowEvery = DefaultSweepNowEvery
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PreAuth <= 0 {
		cfg.PreAuth = DefaultPreAuth
	}
	if cfg.PreAuthPerSource <= 0 {
		cfg.PreAuthPerSource = DefaultPreAuthPerSource
	}
	if err := cfg.Access.Check(); err != nil {
		return nil, err
	}
	for _, l := range cfg.Access.Lint() {
		cfg.Logger.Warn("authorized_keys: " + l)
	}
	hostKey, err := HostKey(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger,
		limiter: &sweepLimiter{every: cfg.SweepNowEvery, sweep: cfg.SweepNow, now: time.Now, log: cfg.Logger},
		pre:     &preauth{max: cfg.PreAuth, perSource: cfg.PreAuthPerSource, log: cfg.Logger, now: time.Now}}
	srv, err := wish.NewServer(
		wish.WithHostKeyPEM(hostKey),
		wish.WithPublicKeyAuth(s.auth),
		// No password or keyboard-interactive handler: only keys are offered.
		wish.WithMiddleware(
			bubbletea.MiddlewareWithProgramHandler(s.program),
			clampPty,
			s.sessionLimits,
		),
		// Connections quiet for longer than the session idle limit (plus a margin for the
		// program's own check) are dropped by the SSH layer.
		wish.WithIdleTimeout(cfg.IdleTimeout+time.Minute),
		wish.WithVersion("meshtop"),
	)
	if err != nil {
		return nil, fmt.Errorf("set up the SSH server: %w", err)
	}
	// A connection that has not logged in within this time is dropped; the pre-auth
	// budget (preauth.go) drops the oldest before that when a flood fills it.
	srv.HandshakeTimeout = HandshakeTimeout
	srv.ConnCallback = func(ctx ssh.Context, conn net.Conn) net.Conn {
		if pc, ok := conn.(*pendingConn); ok {
			ctx.SetValue(keyPending, pc)
		}
		return conn
	}
	// A key whose line says restrict or no-pty gets no terminal (and serve then
	// explains that it has nothing else).
	srv.PtyCallback = func(ctx ssh.Context, _ ssh.Pty) bool { return ctx.Value(keyNoPty) == nil }
	srv.ConnectionFailedCallback = func(conn net.Conn, err error) {
		s.log.Debug("ssh connection failed", "remote", conn.RemoteAddr().String(), "error", err)
	}
	s.ssh = srv
	return s, nil
}

// Sessions counts the open sessions.
func (s *Server) Sessions() int { return int(s.open.Load()) }

// Serve accepts on ln until ctx ends, then closes every session.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	// Bound connections that have not logged in by dropping the oldest, never by
	// refusing (or leaving in the backlog) the newest: handshakes hold memory too.
	ln = preauthListener{Listener: ln, p: s.pre}
	go func() {
		<-ctx.Done()
		_ = s.ssh.Close()
	}()
	err := s.ssh.Serve(ln)
	if errors.Is(err, ssh.ErrServerClosed) || ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("serve SSH: %w", err)
}

// auth admits keys from the access files (their options honoured as sshd would) and
// remembers the grant on the connection.
func (s *Server) auth(ctx ssh.Context, key ssh.PublicKey) bool {
	remote := ctx.RemoteAddr()
	g, ok, why, err := s.cfg.Access.Authorize(key, remote, time.Now())
	if err != nil {
		s.log.Error("ssh login refused: access files unreadable", "remote", remote.String(), "fingerprint", g.Fingerprint, "error", err)
		return false
	}
	if !ok {
		msg := "ssh login refused: key not admitted" // by its line's options or the viewers list
		if why == "unknown key" {
			msg = "ssh login refused: unknown key"
		}
		s.log.Warn(msg, "remote", remote.String(), "user", textsafe.Name(ctx.User()), "fingerprint", g.Fingerprint,
			"reason", textsafe.Message(why))
		return false
	}
	if pc, _ := ctx.Value(keyPending).(*pendingConn); pc != nil {
		pc.loggedIn()
	}
	ctx.SetValue(keyRole, g.Role)
	ctx.SetValue(keyFingerprint, g.Fingerprint)
	if g.NoPty {
		ctx.SetValue(keyNoPty, g.Line)
	}
	return true
}

// PreAuthPending counts the connections that have not logged in yet.
func (s *Server) PreAuthPending() int { return s.pre.Pending() }

// sessionState is one session's bookkeeping, shared by the middlewares.
type sessionState struct {
	sub    *live.Subscription
	idle   atomic.Bool // closed for idleness
	mu     sync.Mutex
	notice string // the answer to the last sweep-now request, for the session model
}

func (st *sessionState) setNotice(s string) {
	st.mu.Lock()
	st.notice = s
	st.mu.Unlock()
}

func (st *sessionState) takeNotice() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	n := st.notice
	st.notice = ""
	return n
}

// sessionLimits enforces the session maximum, logs sessions and closes the feed
// subscription when the session ends. It runs outside the Bubble Tea middleware.
func (s *Server) sessionLimits(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		ctx := sess.Context()
		role, _ := ctx.Value(keyRole).(Role)
		fp, _ := ctx.Value(keyFingerprint).(string)
		attrs := []any{"remote", sess.RemoteAddr().String(), "user", textsafe.Name(sess.User()), "role", string(role), "fingerprint", fp}
		if n := s.open.Add(1); n > int64(s.cfg.MaxSessions) {
			s.open.Add(-1)
			s.log.Warn("ssh session refused: too many sessions", append(attrs, "max", s.cfg.MaxSessions)...)
			wish.Fatalf(sess, "meshtop: %d sessions are open, the most this server allows; try again later.\r\n", s.cfg.MaxSessions)
			return
		}
		defer s.open.Add(-1)
		st := &sessionState{}
		ctx.SetValue(keyState, st)
		start := time.Now()
		s.log.Info("ssh session opened", attrs...)
		next(sess)
		if st.sub != nil {
			st.sub.Close()
		}
		if st.idle.Load() {
			// Through the pty when there is one: written to the session directly, the
			// line could overtake the UI's last bytes (leaving the alternate screen)
			// and vanish with them. The pty's output reaches the client through a
			// copying goroutine that Exit would cut short: give it a moment.
			msg := fmt.Sprintf("meshtop: session closed after %s without input.\r\n", s.cfg.IdleTimeout)
			if pty, _, ok := sess.Pty(); ok && pty.Slave != nil {
				_, _ = io.WriteString(pty.Slave, msg)
				time.Sleep(250 * time.Millisecond)
			} else {
				_, _ = io.WriteString(sess, msg)
			}
			_ = sess.Exit(0)
		}
		s.log.Info("ssh session closed", append(attrs, "duration", time.Since(start).Round(time.Second).String(), "idle", st.idle.Load())...)
	}
}

// program builds a session's UI: its own model (view state, size, colour profile of its
// terminal), subscribed to the shared feed.
func (s *Server) program(sess ssh.Session) *tea.Program {
	ctx := sess.Context()
	st, _ := ctx.Value(keyState).(*sessionState)
	if st == nil {
		return nil // refused by sessionLimits
	}
	if line, _ := ctx.Value(keyNoPty).(string); line != "" {
		wish.Fatalln(sess, "meshtop serve: your key may not open a terminal (restrict or no-pty at "+line+"), and serve shows only a terminal UI.")
		return nil
	}
	if _, _, ok := sess.Pty(); !ok {
		wish.Fatalln(sess, "meshtop serve shows a terminal UI: connect with ssh -t (or without a command).")
		return nil
	}
	role, _ := ctx.Value(keyRole).(Role)
	who := textsafe.Name(sess.User()) + " (" + fmt.Sprint(ctx.Value(keyFingerprint)) + ")"
	cfg := s.cfg.UI
	cfg.Context = ctx // the session's end cancels its reads
	cfg.NoColor = cfg.NoColor || hasEnv(sess.Environ(), "NO_COLOR")
	src := sessionSource{StoreSource: tui.StoreSource{Store: s.cfg.Store, Sweep: s.cfg.SweepNow}, request: func() error {
		err := s.limiter.request(role, who)
		if err != nil {
			st.setNotice(err.Error())
		} else {
			st.setNotice("sweep now: requested; the grid fills as results arrive")
		}
		return err
	}, reads: s.cfg.Reads}
	if src.Sweep == nil {
		src.Sweep = func() {} // capabilities need a SweepNower; requests go through RequestSweep
	}
	m := newSessionModel(tui.New(src, cfg), s.cfg.IdleTimeout, st)
	// The store's events, the ones every session's panel lists, also reach its bottom
	// line as they happen; a new session starts with what comes next.
	if s.cfg.Store != nil {
		m.events, m.seenEvents = s.cfg.Store, s.cfg.Store.EventCount()
	}
	opts := append(bubbletea.MakeOptions(sess), tea.WithContext(ctx), tea.WithoutSignalHandler())
	p := tea.NewProgram(m, opts...)
	st.sub = s.cfg.Feed.SubscribeProgram(p)
	return p
}

// sessionSource is the shared store as one session sees it: `r` goes through the
// session's role and the team's rate limit (tui.SweepRequester).
type sessionSource struct {
	tui.StoreSource
	request func() error
	reads   Reads // nil: the store's
}

// Name implements tui.Source: the blended source's name when it has one.
func (s sessionSource) Name() string {
	if n, ok := s.reads.(interface{ Name() string }); ok {
		return n.Name()
	}
	return s.StoreSource.Name()
}

// Matrix implements tui.Source.
func (s sessionSource) Matrix(ctx context.Context) (*mesh.Matrix, error) {
	if s.reads != nil {
		return s.reads.Matrix(ctx)
	}
	return s.StoreSource.Matrix(ctx)
}

// PairHistory implements tui.Source.
func (s sessionSource) PairHistory(ctx context.Context, src, dst string, maxPoints int) ([]mesh.Sample, error) {
	if s.reads != nil {
		return s.reads.PairHistory(ctx, src, dst, maxPoints)
	}
	return s.StoreSource.PairHistory(ctx, src, dst, maxPoints)
}

// PairTraces implements tui.Source.
func (s sessionSource) PairTraces(ctx context.Context, src, dst string) ([]mesh.TraceResult, error) {
	if s.reads != nil {
		return s.reads.PairTraces(ctx, src, dst)
	}
	return s.StoreSource.PairTraces(ctx, src, dst)
}

// RequestSweep implements tui.SweepRequester.
func (s sessionSource) RequestSweep() error { return s.request() }

// hasEnv reports whether the client set name to a non-empty value (NO_COLOR's rule).
func hasEnv(env []string, name string) bool {
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, name+"="); ok && v != "" {
			return true
		}
	}
	return false
}

// sweepLimiter is the team-wide rate limit of sweep-now.
type sweepLimiter struct {
	mu    sync.Mutex
	every time.Duration
	last  time.Time
	sweep func()
	now   func() time.Time
	log   *slog.Logger
}

// request honours an operator's sweep-now at most once per window, for the whole team.
func (l *sweepLimiter) request(role Role, who string) error {
	if role != RoleOperator {
		l.log.Info("sweep now refused: viewer", "who", who)
		return errors.New("sweep now refused: your key has the viewer role (read only)")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if !l.last.IsZero() && now.Sub(l.last) < l.every {
		wait := l.every - now.Sub(l.last)
		l.log.Info("sweep now refused: rate limit", "who", who, "wait", wait.Round(time.Second).String())
		return fmt.Errorf("sweep now refused: the team may ask once per %s; next in %s", l.every, wait.Round(time.Second))
	}
	l.last = now
	l.log.Info("sweep now", "who", who)
	if l.sweep != nil {
		l.sweep()
	}
	return nil
}
