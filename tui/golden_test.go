package tui

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// Golden views: the exact frames (styles included) at fixed sizes. Update them with
// `go test ./tui -run Golden -update` after a deliberate change, and read the diff.
func TestGoldenViews(t *testing.T) {
	for _, tt := range []struct {
		name string
		w, h int
		cfg  Config
		keys []string
	}{
		{"grid_80x24", 80, 24, Config{}, []string{"right", "down"}},
		{"grid_40x12", 40, 12, Config{}, []string{"right", "down"}},
		{"grid_nocolor_80x24", 80, 24, Config{NoColor: true}, []string{"right"}},
		{"grid_colorblind_worst_80x24", 80, 24, Config{Palette: PaletteColorblind}, []string{"o"}},
		{"detail_120x40", 120, 40, Config{}, []string{"right", "enter"}},
		{"detail_80x30", 80, 30, Config{}, []string{"right", "enter"}},
		{"help_100x24", 100, 24, Config{}, []string{"?"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := press(t, newTestModel(t, tt.w, tt.h, tt.cfg), tt.keys...)
			golden.RequireEqual(t, []byte(m.View().Content))
		})
	}
}

// TestProgram runs the model in a real tea.Program (teatest's virtual terminal): the
// grid appears, enter drills down, esc goes back, q quits.
func TestProgram(t *testing.T) {
	src := StoreSource{Store: fixtureStore()}
	tm := teatest.NewTestModel(t, New(src, Config{}), teatest.WithInitialTermSize(100, 30))
	waitFor := func(what string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(what)) },
			teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	}
	waitFor("src\\dst")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitFor("ams ⇄ fra")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	final := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(Model)
	if final.screen != screenGrid {
		t.Fatal("esc did not return to the grid")
	}
	if s, d, _ := final.Selected(); s != "ams" || d != "fra" {
		t.Fatalf("selection after the round trip: %s→%s", s, d)
	}
	if !strings.Contains(final.frame, "src\\dst") {
		t.Fatal("final frame is not the grid")
	}
}

func TestDumpViews(t *testing.T) {
	if os.Getenv("DUMP") == "" {
		t.Skip()
	}
	f := strings.Fields(os.Getenv("DUMP"))
	var w, h int
	fmt.Sscanf(f[0], "%dx%d", &w, &h)
	m := press(t, newTestModel(t, w, h, Config{NoColor: os.Getenv("DUMPNC") != ""}), f[1:]...)
	t.Log("\n" + frame(m))
}
