package tui

import (
	"context"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/meshtop/meshtop/mesh"
)

func frame(m Model) string { return ansi.Strip(m.View().Content) }

func TestNavigation(t *testing.T) {
	m := newTestModel(t, 80, 24, Config{})
	if s, d, _ := m.Selected(); s != "ams" || d != "fra" {
		t.Fatalf("start %s→%s, want the first pair off the diagonal, ams→fra", s, d)
	}
	// No key lands on the diagonal (a PoP to itself): arrows step over it, and where
	// nothing is beyond it they stay; g and G go to the first and last pair; a page
	// stops short of it.
	for _, tt := range []struct {
		keys     []string
		src, dst string
	}{
		{[]string{"h"}, "ams", "fra"},
		{[]string{"down"}, "jfk", "fra"},
		{[]string{"up"}, "ams", "fra"},
		{[]string{"right"}, "ams", "jfk"},
		{[]string{"down", "down"}, "nrt", "jfk"},
		{[]string{"end"}, "syd", "sjc"},
		{[]string{"g"}, "ams", "fra"},
		{[]string{"G", "k", "l"}, "nrt", "syd"},
		{[]string{" "}, "sjc", "syd"},
		{[]string{"g", "j", "l"}, "jfk", "nrt"},
	} {
		m = press(t, m, tt.keys...)
		if s, d, _ := m.Selected(); s != tt.src || d != tt.dst {
			t.Fatalf("after %v: selected %s→%s, want %s→%s", tt.keys, s, d, tt.src, tt.dst)
		}
	}
}

func TestCellStates(t *testing.T) {
	m := newTestModel(t, 80, 24, Config{})
	f := frame(m)
	lines := strings.Split(f, "\n")
	row := func(pop string) string {
		for _, l := range lines {
			if strings.HasPrefix(l, pop+" ") {
				return l
			}
		}
		t.Fatalf("no row %s in\n%s", pop, f)
		return ""
	}
	if r := row("jfk"); !strings.Contains(r, "FAIL") {
		t.Errorf("failed pair not shown as FAIL: %q", r)
	}
	if r := row("nrt"); strings.Count(r, "DOWN") != 6 {
		t.Errorf("unreachable agent's row: %q", r)
	}
	// Last sweep: base sum + 2, plus the probes' mean spread of 1.2.
	if r := row("ams"); !strings.Contains(r, " 28 ") || !strings.Contains(r, " 93 ") {
		t.Errorf("values (ams→fra 28.2, ams→jfk 93.2): %q", r)
	}
	if !strings.Contains(f, "hint: syd is bad towards") {
		t.Errorf("no row-pattern hint for syd:\n%s", f)
	}
	if !strings.Contains(f, "scouter-nrt-0") && !strings.Contains(f, "DOWN") {
		t.Errorf("agent failure not visible:\n%s", f)
	}
}

func TestMetricAndStatSwitch(t *testing.T) {
	m := newTestModel(t, 100, 24, Config{})
	if !strings.Contains(frame(m), "Health (last)") {
		t.Fatalf("legend:\n%s", frame(m))
	}
	for _, tt := range []struct {
		key, want string
	}{
		{"m", "Latency (ms, last)"},
		{"m", "Jitter % (%, last)"},
		{"m", "Jitter ms (ms, last)"},
		{"m", "Loss (%, last)"},
		{"m", "Health (last)"},
		{"m", "Latency (ms, last)"},
		{"0", "Health (last)"},
		{"4", "Loss (%, last)"},
		{"s", "Loss (%, mean)"},
		{"s", "Loss (%, max)"},
		{"s", "Loss (%, p95)"},
		{"s", "Loss (%, last)"},
		{"1", "Latency (ms, last)"},
	} {
		m = press(t, m, tt.key)
		if !strings.Contains(frame(m), tt.want) {
			t.Fatalf("after %q: want %q in\n%s", tt.key, tt.want, frame(m))
		}
	}
	// A failed test reads FAIL at once under every view and stat (its loss is 100).
	for _, keys := range [][]string{{"4"}, {"4", "s"}, {"0", "s", "s"}} {
		m = press(t, m, keys...)
		if !strings.Contains(frame(m), "FAIL") {
			t.Errorf("after %v: failed pair not FAIL:\n%s", keys, frame(m))
		}
	}
	m = press(t, m, "s") // back to last
	// Mean over the 3 sweeps of ams→fra: 25, 26, 27 (+ probe spread) → 26.
	m = press(t, m, "1", "s")
	if s := frame(m); !strings.Contains(strings.Split(s, "\n")[2], "27") {
		t.Errorf("mean view:\n%s", s)
	}
}

func TestSortTransposeFilter(t *testing.T) {
	m := newTestModel(t, 80, 24, Config{})
	firstRow := func(m Model) string { return strings.Fields(strings.Split(frame(m), "\n")[2])[0] }
	m = press(t, m, "o")
	if got := firstRow(m); got != "syd" && got != "nrt" {
		t.Errorf("sort by worst: first row %s", got)
	}
	m = press(t, m, "o")
	if got := firstRow(m); got != "ams" {
		t.Errorf("sort by name: first row %s", got)
	}
	m = press(t, m, "t")
	if s, d, _ := m.Selected(); s != "ams" || d != "fra" || !strings.Contains(frame(m), "dst\\src") {
		t.Errorf("transpose kept %s→%s:\n%s", s, d, frame(m))
	}
	m = press(t, m, "t", "/", "s", "y", "d", " ", "a", "m", "enter")
	f := frame(m)
	if strings.Join(m.grid.rows, " ") != "ams syd" || m.grid.filter != "syd am" {
		t.Errorf("filter: rows %v\n%s", m.grid.rows, f)
	}
	m = press(t, m, "esc")
	if !slices.Contains(m.grid.rows, "jfk") {
		t.Errorf("esc did not clear the filter:\n%s", frame(m))
	}
}

func TestDrillDownAndBack(t *testing.T) {
	m := newTestModel(t, 120, 40, Config{})
	m = press(t, m, "enter")
	f := frame(m)
	for _, want := range []string{"ams ⇄ fra", "ams → fra", "fra → ams", "RTT min", "p95", "3 tests", "AS path: 64500 * 64501",
		"route changes: 1", "198.18.2.9", "AS64500", "scouter-ams-0: avg", "loss┤", "jitter┤", "ttl┤"} {
		if !strings.Contains(f, want) {
			t.Errorf("detail lacks %q:\n%s", want, f)
		}
	}
	m = press(t, m, "esc")
	if s, d, _ := m.Selected(); s != "ams" || d != "fra" || !strings.Contains(frame(m), "src\\dst") {
		t.Errorf("back: selected %s→%s\n%s", s, d, frame(m))
	}
}

func TestMouse(t *testing.T) {
	m := newTestModel(t, 80, 24, Config{})
	g := m.grid
	// Row jfk (index 2) is on screen line gridTop+1+2; column sjc (index 4).
	x, y := g.rowHdrW+4*g.cellW+1, gridTop+1+2
	m = update(t, m, tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft})
	if s, d, _ := m.Selected(); s != "jfk" || d != "sjc" {
		t.Fatalf("click selected %s→%s", s, d)
	}
	nm, cmd := m.Update(tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft})
	m = runCmd(t, nm.(Model), cmd)
	if !strings.Contains(frame(m), "jfk ⇄ sjc") {
		t.Fatalf("second click did not drill down:\n%s", frame(m))
	}
}

func TestNoColor(t *testing.T) {
	m := newTestModel(t, 80, 24, Config{NoColor: true})
	raw := m.View().Content
	if strings.Contains(raw, "\x1b[38") || strings.Contains(raw, "\x1b[48") || strings.Contains(raw, ";2;") {
		t.Fatalf("colour in NO_COLOR frame: %q", raw)
	}
	f := frame(m)
	// States stay readable: markers for classes, words for states.
	for _, want := range []string{"FAIL", "DOWN", "!", "+fair", "318+"} {
		if !strings.Contains(f, want) {
			t.Errorf("NO_COLOR frame lacks %q:\n%s", want, f)
		}
	}
	if f := frame(press(t, m, "1")); !strings.Contains(f, "+<500") {
		t.Errorf("NO_COLOR latency legend:\n%s", f)
	}
}

func TestLargeMeshScrollsWithHeaders(t *testing.T) {
	st := mesh.NewStore(0)
	pops := make([]string, 120)
	for i := range pops {
		pops[i] = "p" + string(rune('a'+i/26)) + string(rune('a'+i%26))
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
	m := New(StoreSource{Store: st}, Config{})
	m = update(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	m = runCmd(t, m, m.fetch())
	m = press(t, m, "end")
	lines := strings.Split(frame(m), "\n")
	if len(lines) != 24 {
		t.Fatalf("frame is %d lines, want 24", len(lines))
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > 80 {
			t.Fatalf("line %d is %d wide", i, w)
		}
	}
	// end is the last pair, pep→peo (pep→pep is no pair).
	if !strings.Contains(lines[1], "peo") || !strings.HasPrefix(lines[1], "src\\dst") {
		t.Errorf("column header not kept in view: %q", lines[1])
	}
	if !strings.Contains(frame(m), "\npep ") {
		t.Errorf("row header of the last row missing:\n%s", frame(m))
	}
}

func TestSmallTerminalAndResize(t *testing.T) {
	m := newTestModel(t, 80, 24, Config{})
	for _, size := range [][2]int{{40, 12}, {20, 5}, {1, 1}, {80, 24}, {200, 60}} {
		m = update(t, m, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		m = press(t, m, "right", "down")
		for i, l := range strings.Split(frame(m), "\n") {
			if w := ansi.StringWidth(l); w > max(size[0], 1)+1 {
				t.Errorf("%dx%d: line %d is %d wide: %q", size[0], size[1], i, w, l)
			}
		}
	}
	m = press(t, m, "enter")
	m = update(t, m, tea.WindowSizeMsg{Width: 40, Height: 12})
	if !strings.Contains(frame(m), "⇄") {
		t.Errorf("detail at 40x12:\n%s", frame(m))
	}
}

func TestDataChangedIsThrottled(t *testing.T) {
	m := newTestModel(t, 80, 24, Config{})
	nm, cmd1 := m.Update(DataChangedMsg{})
	m = nm.(Model)
	_, cmd2 := m.Update(DataChangedMsg{})
	if cmd1 == nil || cmd2 != nil {
		t.Fatalf("a burst of changes must schedule one re-read: %v %v", cmd1 != nil, cmd2 != nil)
	}
}

func TestStatusBar(t *testing.T) {
	m := newTestModel(t, 120, 24, Config{})
	m = update(t, m, SweepStartedMsg{Total: 30})
	m = update(t, m, ProgressMsg{Done: 12, Total: 30})
	if !strings.Contains(frame(m), "sweep 12/30") {
		t.Errorf("progress:\n%s", frame(m))
	}
	m = update(t, m, SweepDoneMsg{Time: t0, Agents: []mesh.AgentStatus{{Agent: mesh.Agent{Name: "scouter-nrt-0"}, State: mesh.StateAuthFailed, Error: "refused the secret"}}})
	m = update(t, m, RecordStatusMsg{Backlog: 7, Dropped: 3})
	f := frame(m)
	for _, want := range []string{"last sweep 03:04:05", "scouter-nrt-0 auth_failed", "rec backlog 7, 3 DROPPED"} {
		if !strings.Contains(f, want) {
			t.Errorf("status lacks %q:\n%s", want, f)
		}
	}
}

// quickFake is a source with a cheap first matrix (no p95), like InfluxDB history.
type quickFake struct {
	StoreSource
	quickCalls, fullCalls int
}

func (q *quickFake) Name() string { return "influx" }

func (q *quickFake) QuickMatrix(ctx context.Context) (*mesh.Matrix, error) {
	q.quickCalls++
	return q.StoreSource.Matrix(ctx)
}

func (q *quickFake) Matrix(ctx context.Context) (*mesh.Matrix, error) {
	q.fullCalls++
	return q.StoreSource.Matrix(ctx)
}

func TestQuickMatrixFirst(t *testing.T) {
	src := &quickFake{StoreSource: StoreSource{Store: fixtureStore()}}
	m := New(src, Config{})
	m = update(t, m, tea.WindowSizeMsg{Width: 120, Height: 24})
	nm, cmd := m.Update(m.Init()())
	m = nm.(Model)
	if src.quickCalls != 1 || src.fullCalls != 0 {
		t.Fatalf("first read: quick %d full %d", src.quickCalls, src.fullCalls)
	}
	if f := frame(m); !strings.Contains(f, "src\\dst") || !strings.Contains(f, "p95 loading") {
		t.Fatalf("quick paint:\n%s", f)
	}
	m = runCmd(t, m, cmd) // the full read the quick one asked for
	if src.fullCalls != 1 || strings.Contains(frame(m), "p95 loading") {
		t.Fatalf("after the full read: full %d\n%s", src.fullCalls, frame(m))
	}
}
