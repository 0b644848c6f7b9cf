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

	"github.com/meshtop/meshtop/mesh"
)

// Golden views: the exact frames (styles included) at fixed sizes. Update them with
// `go test ./tui -update` after a deliberate change (or a merge that changed a view),
// and read the diff.
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
		// Issue 12: the grid uses the space (side panel, bottom panel), regions, help that
		// fits, the fold hint.
		{"grid_160x48", 160, 48, Config{}, nil},
		{"grid_nocolor_160x48", 160, 48, Config{NoColor: true}, []string{"down"}},
		{"grid_regions_160x48", 160, 48, Config{}, []string{"regions"}},
		{"grid_regions_nocolor_80x24", 80, 24, Config{NoColor: true}, []string{"regions"}},
		{"grid_regions_40x12", 40, 12, Config{}, []string{"regions", "down"}},
		{"grid_filter_80x24", 80, 24, Config{}, []string{"/"}},
		{"help_40x12", 40, 12, Config{}, []string{"?"}},
		{"help_nocolor_40x12", 40, 12, Config{NoColor: true}, []string{"?", "j", "j"}},
		{"detail_fold_80x24", 80, 24, Config{}, []string{"enter"}},
		// Issue 22: the pair's chart under the grid when it leaves room (grid_160x48
		// too); the grid keeps priority at 80x24 and 40x12; no key lands on the
		// diagonal; the status bar says first what needs action.
		{"grid_nocolor_40x12", 40, 12, Config{NoColor: true}, []string{"down"}},
		{"chart_160x48", 160, 48, Config{}, []string{"chart"}},
		{"chart_nocolor_160x48", 160, 48, Config{NoColor: true}, []string{"chart"}},
		{"chart_nocolor_120x40", 120, 40, Config{NoColor: true}, []string{"chart", "right"}},
		{"status_80x24", 80, 24, Config{}, []string{"status"}},
		{"status_nocolor_40x12", 40, 12, Config{NoColor: true}, []string{"status"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var m Model
			switch first := append(tt.keys, "")[0]; first {
			case "regions":
				m = press(t, modelOver(t, regionStore(), tt.w, tt.h, tt.cfg), tt.keys[1:]...)
			case "chart":
				m = press(t, chartModel(t, tt.w, tt.h, tt.cfg), tt.keys[1:]...)
			case "status":
				m = newTestModel(t, tt.w, tt.h, tt.cfg)
				m = update(t, m, SweepDoneMsg{Time: t0, Agents: []mesh.AgentStatus{{Agent: mesh.Agent{Name: "scouter-nrt-0"}, State: mesh.StateAuthFailed, Error: authMsg}}})
				m = update(t, m, RecordStatusMsg{Backlog: 12, Dropped: 3, Err: "InfluxDB write at http://127.0.0.1:8086: HTTP 503: timeout"})
			default:
				m = press(t, newTestModel(t, tt.w, tt.h, tt.cfg), tt.keys...)
			}
			golden.RequireEqual(t, []byte(m.View().Content))
		})
	}
}

// chartModel is the drill-down fixture (a route change, an outage, a gap, rate limiting
// and path loss on ams→fra) with one trace whose destination answered late, on the grid
// at ams→fra.
func chartModel(t *testing.T, w, h int, cfg Config) Model {
	t.Helper()
	st := detailFixtureStore()
	late := fixtureTrace(t0.Add(8*time.Minute+30*time.Second), "scouter-ams-0", 8, true)
	dst := late.Hops[len(late.Hops)-1]
	dst.TTL++
	late.Hops = append(late.Hops[:len(late.Hops)-1], mesh.Hop{TTL: dst.TTL - 1, NoResponse: true}, dst)
	late.DeriveTrace()
	st.AddTrace(late)
	end := t0.Add(fixSweeps * time.Minute)
	cfg.Now = func() time.Time { return end }
	m := modelOver(t, st, w, h, cfg)
	if !m.grid.selectPair("ams", "fra") {
		t.Fatal("no ams→fra")
	}
	return settlePanel(t, m)
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
	cfg := Config{NoColor: os.Getenv("DUMPNC") != ""}
	m := newTestModel(t, w, h, cfg)
	if os.Getenv("DUMPREG") != "" {
		st := regionStore()
		m = modelOver(t, st, w, h, cfg)
		// fra→jfk turns red for a sweep, then recovers: two events.
		pops := []string{"ams", "fra", "jfk", "nrt", "sjc", "syd"}
		for i, v := range []float64{1500, 90} {
			sweep(st, t0.Add(time.Duration(3+i)*time.Minute), pops, func(s, d string) (float64, float64) {
				if s == "fra" && d == "jfk" {
					return v, 0
				}
				return 50, 0
			})
			m = runCmd(t, m, m.fetch())
		}
	}
	m = press(t, settlePanel(t, m), f[1:]...)
	t.Log("\n" + frame(m))
}
