package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/meshtop/meshtop/mesh"
)

// regionStore is the fixture with region labels on its agents: eu (ams, fra), us (jfk,
// sjc), ap (nrt, syd).
func regionStore() *mesh.Store {
	st := fixtureStore()
	region := map[string]string{"ams": "eu", "fra": "eu", "jfk": "us", "sjc": "us", "nrt": "ap", "syd": "ap"}
	var agents []mesh.AgentStatus
	for _, p := range []string{"ams", "fra", "jfk", "nrt", "sjc", "syd"} {
		a := mesh.AgentStatus{Agent: mesh.Agent{Name: "scouter-" + p + "-0", Pop: p, Labels: map[string]string{"region": region[p]}}, State: mesh.StateOK}
		if p == "nrt" {
			a.State, a.Error = mesh.StateUnreachable, "agent scouter-nrt-0: connection refused"
		}
		agents = append(agents, a)
	}
	st.SetAgents(agents)
	return st
}

func modelOver(t *testing.T, st *mesh.Store, w, h int, cfg Config) Model {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return t0 }
	}
	m := New(StoreSource{Store: st}, cfg)
	m = update(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	return settlePanel(t, runCmd(t, m, m.fetch()))
}

func TestCursorStartsOnARealPair(t *testing.T) {
	m := newTestModel(t, 80, 24, Config{})
	if s, d, _ := m.Selected(); s == d {
		t.Fatalf("cursor starts on the diagonal %s→%s", s, d)
	}
}

func TestPanelShowsThePair(t *testing.T) {
	for _, tt := range []struct {
		name        string
		w, h        int
		side, chart bool
	}{
		{"chart at 160x48", 160, 48, false, true},
		{"side at 120x30", 120, 30, true, false},
		{"bottom at 80x24", 80, 24, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestModel(t, tt.w, tt.h, Config{})
			p := m.grid.panel
			if !p.visible || p.side != tt.side || p.chart != tt.chart {
				t.Fatalf("panel visible %v side %v chart %v", p.visible, p.side, p.chart)
			}
			f := frame(m)
			for _, want := range []string{"ams → fra", "latency", "jitter", "loss", "3 samples", "back fra → ams", "events"} {
				if !strings.Contains(f, want) {
					t.Errorf("panel lacks %q:\n%s", want, f)
				}
			}
			// The sparkline: three sweeps of 25, 26, 27 (+ spread) ms, lowest to highest;
			// with the chart under the grid, the chart says it.
			if spark := strings.Contains(f, "rtt     ▁▄█"); spark == tt.chart {
				t.Errorf("sparkline %v with chart %v:\n%s", spark, tt.chart, f)
			}
			// Cells widen when the mesh leaves room.
			if m.grid.cellW <= minCellW {
				t.Errorf("cells did not widen: %d", m.grid.cellW)
			}
			m = press(t, m, "down")
			if f := frame(m); !strings.Contains(f, "jfk → fra") {
				t.Errorf("panel did not follow the cursor:\n%s", f)
			}
		})
	}
}

func TestLargeMeshGetsTheSpace(t *testing.T) {
	st := mesh.NewStore(0)
	var pops []string
	for i := range 60 {
		pops = append(pops, "p"+string(rune('a'+i/26))+string(rune('a'+i%26)))
	}
	for _, s := range pops {
		for _, d := range pops {
			if s != d {
				r := mesh.PingResult{Time: t0, Src: s + "-0", SrcPop: s, DstPop: d}
				r.DerivePing(1, []float64{42}, -1)
				st.AddPing(r)
			}
		}
	}
	m := modelOver(t, st, 80, 24, Config{})
	if m.grid.panel.visible || m.grid.cellW != minCellW {
		t.Fatalf("a mesh larger than the terminal: panel %v, cell width %d", m.grid.panel.visible, m.grid.cellW)
	}
	lines := strings.Split(frame(m), "\n")
	if !strings.HasSuffix(strings.TrimRight(lines[1], " "), "›") || !strings.Contains(frame(m), "↓") {
		t.Errorf("no scroll marks right and below:\n%s", frame(m))
	}
	m = press(t, m, "end")
	lines = strings.Split(frame(m), "\n")
	if !strings.Contains(lines[1], "‹") || !strings.Contains(lines[2], "↑") {
		t.Errorf("no scroll marks left and above:\n%s", frame(m))
	}
	// A tall terminal keeps a compact panel under a large grid.
	m = update(t, m, tea.WindowSizeMsg{Width: 200, Height: 60})
	if !m.grid.panel.visible || m.grid.panel.side {
		t.Errorf("200x60: panel visible %v side %v", m.grid.panel.visible, m.grid.panel.side)
	}
	for i, l := range strings.Split(frame(m), "\n") {
		if w := ansi.StringWidth(l); w > 200 {
			t.Fatalf("line %d is %d wide", i, w)
		}
	}
}

// sweep adds one sweep over pops at at, with rtt(s, d) ms (NaN: lost).
func sweep(st *mesh.Store, at time.Time, pops []string, rtt func(s, d string) (float64, float64)) {
	for _, s := range pops {
		for _, d := range pops {
			if s == d {
				continue
			}
			v, loss := rtt(s, d)
			probes := []float64{v, v, v, v, v}
			for i := range int(loss / 20) {
				probes[i] = mesh.Lost
			}
			r := mesh.PingResult{Time: at, Src: s + "-0", SrcPop: s, DstPop: d}
			r.DerivePing(5, probes, -1)
			st.AddPing(r)
		}
	}
}

func TestEventsAndJump(t *testing.T) {
	pops := []string{"ams", "fra", "jfk"}
	st := mesh.NewStore(0)
	calm := func(s, d string) (float64, float64) { return 20, 0 }
	sweep(st, t0, pops, calm)
	m := modelOver(t, st, 120, 30, Config{})
	if !strings.Contains(frame(m), "none yet") {
		t.Fatalf("events at start-up:\n%s", frame(m))
	}
	sweep(st, t0.Add(time.Minute), pops, func(s, d string) (float64, float64) {
		if s == "fra" && d == "jfk" {
			return 1500, 0
		}
		return 20, 0
	})
	m = runCmd(t, m, m.fetch())
	sweep(st, t0.Add(2*time.Minute), pops, calm)
	m = runCmd(t, m, m.fetch())
	f := frame(m)
	red, rec := strings.Index(f, "03:05:05 fra→jfk latency green → red (1500 ms)"), strings.Index(f, "03:06:05 fra→jfk latency red → green (20 ms)")
	if red < 0 || rec < 0 || rec > red {
		t.Fatalf("events (newest first) missing:\n%s", f)
	}
	if s, d, _ := m.Selected(); s != "ams" || d != "fra" {
		t.Fatalf("start %s→%s", s, d)
	}
	m = press(t, m, "tab", "down", "enter")
	if s, d, _ := m.Selected(); s != "fra" || d != "jfk" {
		t.Fatalf("enter on an event jumped to %s→%s", s, d)
	}
	// A click on an event line jumps too.
	m = press(t, m, "g")
	p := m.grid.panel
	x, y := m.grid.gridW+3+p.evX0+2, gridTop+p.evLine0
	if !p.side {
		x, y = p.evX0+2, gridTop+m.grid.gridH+1+p.evLine0
	}
	m = update(t, m, tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft})
	if s, d, _ := m.Selected(); s != "fra" || d != "jfk" {
		t.Fatalf("click on an event jumped to %s→%s\n%s", s, d, frame(m))
	}
}

func TestAgentDownEvent(t *testing.T) {
	st := fixtureStore()
	m := modelOver(t, st, 160, 48, Config{})
	st.SetAgent(mesh.AgentStatus{Agent: mesh.Agent{Name: "scouter-ams-0", Pop: "ams"}, State: mesh.StateUnreachable, Error: "refused"})
	m = runCmd(t, m, m.fetch())
	if f := frame(m); !strings.Contains(f, "agent scouter-ams-0 (ams) down: refused") {
		t.Fatalf("no agent-down event:\n%s", f)
	}
}

func TestRegions(t *testing.T) {
	m := modelOver(t, regionStore(), 160, 48, Config{})
	f := frame(m)
	for _, want := range []string{"── ap", "── eu", "── us", "[eu]", "[us]", "nrt → syd  ap→ap"} {
		if !strings.Contains(f, want) {
			t.Errorf("regions view lacks %q:\n%s", want, f)
		}
	}
	lines := strings.Split(f, "\n")
	order := func(pops ...string) {
		t.Helper()
		last := -1
		for _, p := range pops {
			at := -1
			for i, l := range lines {
				if strings.HasPrefix(l, p+" ") || strings.HasPrefix(l, "── "+p) {
					at = i
					break
				}
			}
			if at <= last {
				t.Fatalf("rows out of region order at %s:\n%s", p, f)
			}
			last = at
		}
	}
	order("ap", "nrt", "syd", "eu", "ams", "fra", "us", "jfk", "sjc")
	// eu's summary row towards us's summary column: the worst of ams/fra → jfk/sjc
	// (fra→jfk 98 at the last sweep).
	for _, l := range lines {
		if strings.HasPrefix(l, "── eu") && !strings.Contains(l, " 168 ") {
			t.Errorf("eu summary row: %q", l)
		}
	}
	m = press(t, m, "/", "r", "e", "g", "i", "o", "n", "=", "e", "u", "enter")
	if m.grid.filter != "region=eu" || len(m.grid.rows) != 2 || !strings.Contains(frame(m), "2×2") {
		t.Fatalf("region filter: %v\n%s", m.grid.rows, frame(m))
	}
	m = press(t, m, "esc", "R")
	if strings.Contains(frame(m), "── eu") {
		t.Errorf("R did not turn regions off:\n%s", frame(m))
	}
	// The cursor cannot land on a summary line.
	m = press(t, m, "R", "g")
	for range 12 {
		m = press(t, m, "down")
		if s, _, ok := m.Selected(); !ok || strings.HasPrefix(s, "──") {
			t.Fatalf("cursor on %q", s)
		}
	}
}

func TestLossAndStaleMarks(t *testing.T) {
	pops := []string{"ams", "fra", "jfk"}
	st := mesh.NewStore(0)
	sweep(st, t0, pops, func(s, d string) (float64, float64) {
		if s == "ams" && d == "fra" {
			return 76, 60 // fast but lossy: must not read as a plain green 76
		}
		return 20, 0
	})
	m := modelOver(t, st, 120, 30, Config{NoColor: true})
	f := frame(m)
	// Health (the default) is the loss itself: red, marked as loss.
	if !strings.Contains(f, "60%!") || !strings.Contains(f, "health  !60% loss") {
		t.Fatalf("lossy pair not red in the health view:\n%s", f)
	}
	m = press(t, m, "1")
	f = frame(m)
	if !strings.Contains(f, "76 ~") || !strings.Contains(f, "~ loss≥2%") {
		t.Fatalf("lossy pair not marked in the latency view:\n%s", f)
	}
	m = press(t, m, "4")
	if strings.Contains(frame(m), "~ loss") {
		t.Errorf("loss view marks loss twice:\n%s", frame(m))
	}
	// Ten minutes after the sweep with a one-minute interval: every cell is stale, says
	// its age, and has no colour.
	m = modelOver(t, st, 120, 30, Config{Interval: time.Minute, Now: func() time.Time { return t0.Add(10 * time.Minute) }})
	f = frame(m)
	if strings.Count(f, "?10m") < 6 || !strings.Contains(f, "?age: no test >2m") {
		t.Fatalf("stale cells not marked:\n%s", f)
	}
	if cls := m.grid.classOf("ams", "fra"); cls != mesh.Stale {
		t.Errorf("a stale lossy cell is %s, want stale", cls)
	}
}

func TestSortWorstOrdersByValueWithinTheClass(t *testing.T) {
	pops := []string{"aaa", "bbb", "ccc", "ddd"}
	st := mesh.NewStore(0)
	sweep(st, t0, pops, func(s, d string) (float64, float64) {
		switch {
		case s == "bbb" && d == "aaa":
			return 1100, 0
		case s == "ccc" && d == "aaa":
			return 3000, 0
		}
		return 20, 0
	})
	m := modelOver(t, st, 100, 30, Config{})
	m = press(t, m, "o")
	if got := m.grid.rows[:2]; got[0] != "ccc" || got[1] != "bbb" {
		t.Fatalf("rows by worst: %v (ccc at 3000 ms before bbb at 1100)", m.grid.rows)
	}
}

func TestLegendAndHistoryLabels(t *testing.T) {
	m := newTestModel(t, 120, 30, Config{})
	if !strings.Contains(frame(m), "· no data │ sort:name") {
		t.Errorf("legend separator:\n%s", frame(m))
	}
	h := New(historyLike{StoreSource{Store: fixtureStore()}}, Config{})
	h = update(t, h, tea.WindowSizeMsg{Width: 120, Height: 30})
	h = runCmd(t, h, h.fetch())
	legend := strings.Split(frame(h), "\n")[0]
	if strings.Contains(legend, "DOWN") {
		t.Errorf("history legend offers DOWN: %q", legend)
	}
}

func TestFilterPlaceholderWhole(t *testing.T) {
	m := press(t, newTestModel(t, 80, 24, Config{}), "/")
	if f := frame(m); !strings.Contains(f, "filter: PoP codes or label=value") {
		t.Fatalf("placeholder cut:\n%s", f)
	}
}

func TestHelpFitsSmallTerminals(t *testing.T) {
	m := press(t, newTestModel(t, 40, 12, Config{}), "?")
	f := frame(m)
	if !strings.Contains(f, "scroll") || !strings.Contains(f, "up") {
		t.Fatalf("help at 40x12:\n%s", f)
	}
	for i, l := range strings.Split(f, "\n") {
		if w := ansi.StringWidth(l); w > 40 {
			t.Fatalf("help line %d is %d wide: %q", i, w, l)
		}
	}
	m = press(t, m, "j", "j", "j", "j", "j", "j")
	if !strings.Contains(frame(m), "quit") {
		t.Fatalf("scrolled help does not reach quit:\n%s", frame(m))
	}
	m = press(t, m, "?")
	if strings.Contains(frame(m), "scroll") || !strings.Contains(frame(m), "src\\dst") {
		t.Fatalf("? did not close the help:\n%s", frame(m))
	}
}

func TestDetailSaysMoreBelow(t *testing.T) {
	m := press(t, newTestModel(t, 80, 24, Config{}), "enter")
	if !strings.Contains(frame(m), "▼ ") { // detail.go's fold hint
		t.Fatalf("no hint at 80x24:\n%s", frame(m))
	}
	for range 200 {
		m = press(t, m, "down")
	}
	if strings.Contains(frame(m), "▼ ") || !strings.Contains(frame(m), "fra → ams") {
		t.Fatalf("hint at the bottom:\n%s", frame(m))
	}
}

// The panel reads its pair's history through the commands the model returns (no test
// shortcut): the debounced tick, then the read.
func TestPanelReadsThroughCommands(t *testing.T) {
	m := New(StoreSource{Store: fixtureStore()}, Config{})
	m = update(t, m, tea.WindowSizeMsg{Width: 160, Height: 48})
	var follow func(cmd tea.Cmd, depth int)
	follow = func(cmd tea.Cmd, depth int) {
		if cmd == nil || depth > 4 {
			return
		}
		switch msg := cmd().(type) {
		case tea.BatchMsg:
			for _, c := range msg {
				follow(c, depth+1)
			}
		case matrixMsg, panelTickMsg, pairHistoryMsg:
			nm, next := m.Update(msg)
			m = nm.(Model)
			follow(next, depth+1)
		}
	}
	follow(m.fetch(), 0)
	if f := frame(m); !strings.Contains(f, "ams → fra") || !strings.Contains(f, "fra → ams") || !strings.Contains(f, "ttl┤4") {
		t.Fatalf("no chart through the model's own commands:\n%s", f)
	}
}

// TestRouteChangeEvents: the store tells the route change as the confirming trace
// arrives; the panel lists it once, and enter jumps to its pair.
func TestRouteChangeEvents(t *testing.T) {
	m := newTestModel(t, 160, 48, Config{})
	f := frame(m)
	if !strings.Contains(f, "ams→fra route changed (3 hops, was 4)") {
		t.Fatalf("no route change event:\n%s", f)
	}
	// Read again: listed once.
	m = runCmd(t, m, m.fetch())
	if n := strings.Count(frame(m), "route changed"); n != 1 {
		t.Fatalf("route change listed %d times", n)
	}
	m = press(t, m, "tab")
	for i, e := range m.grid.events.list {
		if e.Kind == mesh.EventRoute {
			m.grid.panel.sel = i
		}
	}
	m = press(t, m, "enter")
	if s, d, _ := m.Selected(); s != "ams" || d != "fra" {
		t.Fatalf("jumped to %s→%s", s, d)
	}
}
