package serve

import (
	"crypto/ed25519"
	"crypto/rand"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
	gossh "golang.org/x/crypto/ssh"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/tui"
)

func newKey(t *testing.T) gossh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func write(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func authLine(k gossh.PublicKey) string {
	return strings.TrimSpace(string(gossh.MarshalAuthorizedKey(k)))
}

var loopback = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}

func TestAccessRoles(t *testing.T) {
	dir := t.TempDir()
	op, vw, other, stranger := newKey(t), newKey(t), newKey(t), newKey(t)
	keys := write(t, dir, "keys", "# team\n"+authLine(op)+" op@laptop\n\n"+authLine(vw)+"\n"+authLine(other)+"\n")
	ops := write(t, dir, "ops", "256 "+gossh.FingerprintSHA256(op)+" op@laptop (ED25519)\n")
	viewers := write(t, dir, "viewers", authLine(vw)+"\n")
	for _, tt := range []struct {
		name string
		a    Access
		key  gossh.PublicKey
		role Role
		ok   bool
	}{
		{"operator", Access{AuthorizedKeys: keys, Operators: ops}, op, RoleOperator, true},
		{"viewer by default", Access{AuthorizedKeys: keys, Operators: ops}, other, RoleViewer, true},
		{"stranger", Access{AuthorizedKeys: keys, Operators: ops}, stranger, "", false},
		{"viewer list admits", Access{AuthorizedKeys: keys, Operators: ops, Viewers: viewers}, vw, RoleViewer, true},
		{"viewer list keeps out", Access{AuthorizedKeys: keys, Operators: ops, Viewers: viewers}, other, "", false},
		{"operator needs no viewer entry", Access{AuthorizedKeys: keys, Operators: ops, Viewers: viewers}, op, RoleOperator, true},
	} {
		g, ok, _, err := tt.a.Authorize(tt.key, loopback, time.Now())
		role, fp := g.Role, g.Fingerprint
		if !ok {
			role = ""
		}
		if err != nil || role != tt.role || ok != tt.ok || fp != gossh.FingerprintSHA256(tt.key) {
			t.Errorf("%s: %q %v %v, want %q %v", tt.name, role, ok, err, tt.role, tt.ok)
		}
	}
}

func TestAccessCheck(t *testing.T) {
	dir := t.TempDir()
	good := write(t, dir, "good", authLine(newKey(t))+"\n")
	for _, tt := range []struct {
		name string
		a    Access
		want string
	}{
		{"no file", Access{}, "--authorized-keys is required"},
		{"bad line", Access{AuthorizedKeys: write(t, dir, "bad", "# x\nssh-ed25519 notbase64\n")}, "bad:2: not an authorized_keys line"},
		{"empty", Access{AuthorizedKeys: write(t, dir, "empty", "# nobody\n")}, "no keys"},
		{"directory", Access{AuthorizedKeys: dir}, "not a regular file"},
		{"bad operators", Access{AuthorizedKeys: good, Operators: write(t, dir, "ops", "alice\n")}, "ops:1: want a SHA256 fingerprint"},
		{"missing", Access{AuthorizedKeys: filepath.Join(dir, "nope")}, "no such file"},
		{"huge", Access{AuthorizedKeys: write(t, dir, "huge", strings.Repeat("#", maxAccessFile+1))}, "larger than"},
	} {
		err := tt.a.Check()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	if err := (Access{AuthorizedKeys: good}).Check(); err != nil {
		t.Errorf("good file: %v", err)
	}
}

func TestHostKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	k1, err := HostKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, HostKeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("host key mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	if dst, _ := os.Stat(dir); dst.Mode().Perm() != 0o700 {
		t.Errorf("state dir mode %v, want 0700", dst.Mode().Perm())
	}
	k2, err := HostKey(dir)
	if err != nil || string(k1) != string(k2) {
		t.Fatalf("second start: a different key (%v)", err)
	}
	if _, err := gossh.ParsePrivateKey(k1); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, HostKeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := HostKey(dir); err == nil || !strings.Contains(err.Error(), "want 0600") {
		t.Errorf("world-readable key: %v", err)
	}
}

func TestSweepLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sweeps := 0
	l := &sweepLimiter{every: 30 * time.Second, sweep: func() { sweeps++ }, now: func() time.Time { return now },
		log: slog.New(slog.DiscardHandler)}
	steps := []struct {
		role  Role
		after time.Duration
		ok    bool
	}{
		{RoleViewer, 0, false},
		{RoleOperator, 0, true},
		{RoleOperator, 10 * time.Second, false}, // within the window, any operator
		{RoleViewer, 25 * time.Second, false},
		{RoleOperator, 30 * time.Second, true},
		{RoleOperator, 31 * time.Second, false},
	}
	for i, s := range steps {
		now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(s.after)
		err := l.request(s.role, "x")
		if (err == nil) != s.ok {
			t.Errorf("step %d (%s at +%s): %v, want ok=%v", i, s.role, s.after, err, s.ok)
		}
	}
	if sweeps != 2 {
		t.Errorf("%d sweeps, want 2", sweeps)
	}
}

type nopModel struct{ msgs *int }

func (n nopModel) Init() tea.Cmd                       { return nil }
func (n nopModel) Update(tea.Msg) (tea.Model, tea.Cmd) { *n.msgs++; return n, nil }
func (n nopModel) View() tea.View                      { return tea.NewView("grid\nhelp line") }

func TestSessionIdleAndNotice(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st := &sessionState{}
	msgs := 0
	m := newSessionModel(nopModel{&msgs}, time.Minute, st)
	m.now = func() time.Time { return now }
	m.lastInput = now
	var tm tea.Model = m
	step := func(msg tea.Msg) tea.Cmd {
		var cmd tea.Cmd
		tm, cmd = tm.Update(msg)
		return cmd
	}
	now = now.Add(50 * time.Second)
	step(idleCheckMsg{})
	step(tea.KeyPressMsg{Code: 'j'}) // input resets the clock
	now = now.Add(50 * time.Second)
	step(idleCheckMsg{})
	if st.idle.Load() {
		t.Fatal("closed with input 50 s ago")
	}
	// A resize counts as input; anything else (a sweep repainting) does not.
	step(tea.WindowSizeMsg{Width: 20, Height: 5})
	now = now.Add(61 * time.Second)
	step(struct{}{})
	step(idleCheckMsg{})
	if !st.idle.Load() {
		t.Fatal("not closed after 61 s without input")
	}
	// A sweep-now answer replaces the help line, truncated to the width.
	st.setNotice("sweep now refused: your key has the viewer role (read only)")
	step(tea.KeyPressMsg{Code: 'r'})
	v := tm.View().Content
	if !strings.HasPrefix(v, "grid\n") || !strings.Contains(v, "sweep now refu") || strings.Contains(v, "help line") {
		t.Errorf("notice: %q", v)
	}
	gen := tm.(sessionModel).noticeGen
	step(noticeDoneMsg{gen})
	if v := tm.View().Content; !strings.Contains(v, "help line") {
		t.Errorf("notice not cleared: %q", v)
	}
}

func TestSessionShowsNewEvents(t *testing.T) {
	st := mesh.NewStore(0)
	st.Note(mesh.Event{Kind: mesh.EventNote, Why: "old news"})
	msgs := 0
	m := newSessionModel(nopModel{&msgs}, time.Hour, &sessionState{})
	m.events, m.seenEvents = st, st.EventCount()
	m.width = 120
	var tm tea.Model = m
	tm, _ = tm.Update(eventPollMsg{})
	if v := tm.View().Content; strings.Contains(v, "old news") {
		t.Fatalf("a new session showed an old event: %q", v)
	}
	st.SetAgent(mesh.AgentStatus{Agent: mesh.Agent{Name: "syd-0", Pop: "syd"}, State: mesh.StateUnreachable, Error: "refused"})
	tm, _ = tm.Update(eventPollMsg{})
	evs := st.Events()
	if v := tm.View().Content; !strings.Contains(v, "event: "+tui.EventLine(evs[len(evs)-1])) {
		t.Fatalf("event not shown: %q", v)
	}
	st.Note(mesh.Event{Kind: mesh.EventNote, Why: "a"})
	st.Note(mesh.Event{Kind: mesh.EventNote, Why: "b"})
	tm, _ = tm.Update(eventPollMsg{})
	evs = st.Events()
	if v := tm.View().Content; !strings.Contains(v, "2 events; latest: "+tui.EventLine(evs[len(evs)-1])) {
		t.Fatalf("events not summed up: %q", v)
	}
}

// TestBottomLineAgreesWithPanel: in a running session the bottom line tells the newest
// event with the very line the panel lists it by: both read the store's one list.
func TestBottomLineAgreesWithPanel(t *testing.T) {
	st := mesh.NewStore(0)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	first := mesh.PingResult{Time: t0, Src: "a-0", SrcPop: "a", DstPop: "b", Dst: "198.18.0.2"}
	first.DerivePing(5, []float64{11, 11, 11, 11, 11}, -1)
	st.AddPing(first)
	m := newSessionModel(tui.New(tui.StoreSource{Store: st}, tui.Config{NoColor: true}), time.Hour, &sessionState{})
	m.events, m.seenEvents = st, st.EventCount()
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 30))
	wait := func(what string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(string(b), what) },
			teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	}
	wait("src\\dst")
	// The pair fails while the session runs: one event, in the panel and on the bottom line.
	r := mesh.PingResult{Time: t0.Add(time.Minute), Src: "a-0", SrcPop: "a", DstPop: "b", Dst: "198.18.0.2"}
	r.DerivePing(5, []float64{mesh.Lost, mesh.Lost, mesh.Lost, mesh.Lost, mesh.Lost}, -1)
	st.AddPing(r)
	tm.Send(tui.DataChangedMsg{})
	line := tui.EventLine(st.Events()[0])
	wait("event: " + line)
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	v := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).View().Content
	lines := strings.Split(v, "\n")
	if bottom := lines[len(lines)-1]; !strings.Contains(bottom, "event: "+line) {
		t.Fatalf("bottom line %q, want the event %q", bottom, line)
	}
	if !strings.Contains(strings.Join(lines[:len(lines)-1], "\n"), line) {
		t.Fatalf("the panel does not list %q:\n%s", line, v)
	}
}
