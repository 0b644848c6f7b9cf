package tui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/meshtop/meshtop/mesh"
)

// blockingSource blocks every matrix read until its context ends.
type blockingSource struct {
	StoreSource
	started chan struct{}
}

func (b blockingSource) Matrix(ctx context.Context) (*mesh.Matrix, error) {
	close(b.started)
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestQuitCancelsReads(t *testing.T) {
	src := blockingSource{StoreSource: StoreSource{Store: fixtureStore()}, started: make(chan struct{})}
	m := New(src, Config{})
	got := make(chan tea.Msg, 1)
	read := m.fetch()
	go func() { got <- read() }()
	<-src.started
	nm, cmd := m.Update(tea.KeyPressMsg{Code: 'q', Text: "q"})
	if _, quit := cmd().(tea.QuitMsg); !quit {
		t.Fatalf("q did not quit")
	}
	_ = nm
	select {
	case msg := <-got:
		if mm := msg.(matrixMsg); !errors.Is(mm.err, context.Canceled) {
			t.Fatalf("read ended with %v, want context.Canceled", mm.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("quitting did not cancel the read in flight")
	}
}

func TestProgramContextCancelsReads(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	src := blockingSource{StoreSource: StoreSource{Store: fixtureStore()}, started: make(chan struct{})}
	m := New(src, Config{Context: ctx})
	got := make(chan tea.Msg, 1)
	read := m.fetch()
	go func() { got <- read() }()
	<-src.started
	cancel()
	if mm := (<-got).(matrixMsg); !errors.Is(mm.err, context.Canceled) {
		t.Fatalf("read ended with %v", mm.err)
	}
}

// historyLike is a source without capabilities, as InfluxDB history is.
type historyLike struct{ StoreSource }

func (historyLike) Name() string { return "influx" }

// Capabilities hides StoreSource's: history says nothing about sweeps.
func (historyLike) Capabilities() Capabilities { return Capabilities{} }

func TestCapabilitiesDecideNotNames(t *testing.T) {
	var sweeps int
	for _, tt := range []struct {
		name        string
		src         Source
		wantLabel   string
		wantRefresh string
		wantSweeps  int
	}{
		{"live with loop", StoreSource{Store: fixtureStore(), Sweep: func() { sweeps++ }}, "", "sweep now", 1},
		{"history", historyLike{StoreSource{Store: fixtureStore()}}, "newest data 03:06:05", "reload", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sweeps = 0
			m := New(tt.src, Config{})
			m = update(t, m, tea.WindowSizeMsg{Width: 160, Height: 30})
			m = runCmd(t, m, m.fetch())
			m = press(t, m, "?")
			f := frame(m)
			if tt.wantLabel != "" && !strings.Contains(f, tt.wantLabel) {
				t.Errorf("status lacks %q:\n%s", tt.wantLabel, f)
			}
			if !strings.Contains(f, tt.wantRefresh) {
				t.Errorf("help lacks %q:\n%s", tt.wantRefresh, f)
			}
			m = press(t, m, "r")
			if sweeps != tt.wantSweeps {
				t.Errorf("r asked for %d sweeps, want %d", sweeps, tt.wantSweeps)
			}
		})
	}
}

// The grid handles its own keys: no root needed to move, transpose or filter.
func TestGridHandlesItsOwnKeys(t *testing.T) {
	ui := newUIContext(StoreSource{Store: fixtureStore()}, Config{})
	g := newGrid(ui)
	g.SetSize(80, 20)
	g.Update(matrixMsg{m: fixtureStore().Matrix()})
	keys := func(ks ...tea.KeyPressMsg) {
		for _, k := range ks {
			g.Update(k)
		}
	}
	keys(tea.KeyPressMsg{Code: 't', Text: "t"})
	if s, d, _ := g.Selected(); s != "ams" || d != "fra" || !g.transposed {
		t.Fatalf("transpose: %s→%s", s, d)
	}
	keys(tea.KeyPressMsg{Code: '/', Text: "/"})
	if !g.Capturing() {
		t.Fatal("/ did not open the filter line")
	}
	keys(tea.KeyPressMsg{Code: 'q', Text: "q"}, tea.KeyPressMsg{Code: tea.KeyEnter})
	if g.Capturing() || g.filter != "q" || len(g.rows) != 0 {
		t.Fatalf("filter %q rows %v", g.filter, g.rows)
	}
	if !strings.Contains(g.View(), `no PoP matches filter "q"`) {
		t.Fatalf("view:\n%s", g.View())
	}
	cmd := g.Update(tea.KeyPressMsg{Code: tea.KeyEscape})
	g.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
	if cmd != nil || len(g.rows) != 6 {
		t.Fatalf("esc did not clear the filter: %v", g.rows)
	}
	if msg := g.open()(); msg != (openPairMsg{src: "ams", dst: "fra"}) {
		t.Fatalf("enter asked for %#v", msg)
	}
}
