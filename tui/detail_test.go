package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/meshtop/meshtop/mesh"
)

// pressRun sends keys and runs every command they return (a neighbour's fetch).
func pressRun(t *testing.T, m Model, keys ...string) Model {
	t.Helper()
	for _, k := range keys {
		var msg tea.KeyPressMsg
		switch k {
		case "tab":
			msg = tea.KeyPressMsg{Code: tea.KeyTab}
		case "shift+tab":
			msg = tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
		case "pgdown":
			msg = tea.KeyPressMsg{Code: tea.KeyPgDown}
		default:
			msg = tea.KeyPressMsg{Code: []rune(k)[0], Text: k}
		}
		nm, cmd := m.Update(msg)
		m = nm.(Model)
		if cmd == nil {
			continue
		}
		// A move asks the root, which opens the pair there and reads it.
		if mv, ok := cmd().(detailMoveMsg); ok {
			nm, cmd = m.Update(mv)
			m = runCmd(t, nm.(Model), cmd)
		}
	}
	return m
}

// content is the whole drill-down, scrolled or not, without styles.
func content(m Model) string { return ansi.Strip(m.detail.vp.GetContent()) }

// hopRow finds the line of ttl in the first hop table of the content.
func hopRow(t *testing.T, text string, ttl string) string {
	t.Helper()
	in := false
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		if len(f) > 0 && f[0] == "ttl" {
			in = true
			continue
		}
		if in && len(f) > 1 && f[0] == ttl {
			return l
		}
	}
	t.Fatalf("no hop row for ttl %s in:\n%s", ttl, text)
	return ""
}

func TestDetailHopStatistics(t *testing.T) {
	m := newDetailModel(t, 160, 48, Config{}, "ams", "fra")
	c := content(m)
	// The current path of the first agent of ams (the route changed at sweep 16: the
	// older path is folded under the table, never averaged into it).
	for _, want := range []string{"hops scouter-ams-0 → 198.18.1.2 · 14 traces, 11 reached · agent 1/2 (a: next)",
		"this path since 03:20:05 (route changed; 1 earlier path below)",
		"path 2: 03:04:05–03:19:05, 12 traces, destination loss 5.0%", "  198.18.2.1 198.18.2.2 198.18.3.1 198.18.1.2",
		"ans/snt", "avg", "best", "wrst", "AS64502"} {
		if !strings.Contains(c, want) {
			t.Errorf("drill-down lacks %q:\n%s", want, c)
		}
	}
	// Rate limiting at ttl 2 (~: it loses clearly more than the destination), path loss
	// from ttl 3 (!), five probes per hop; ttl 2 is the new router only.
	if r := hopRow(t, c, "2"); !strings.Contains(r, "198.18.2.9 ") || strings.Contains(r, "198.18.2.2") || !strings.Contains(r, "80%") ||
		!strings.Contains(r, "14/70") || !strings.Contains(r, flagRate) || strings.Contains(r, flagLoss) {
		t.Errorf("ttl 2 is not told as rate limiting: %q", r)
	}
	if r := hopRow(t, c, "3"); !strings.Contains(r, "21%") || !strings.Contains(r, flagLoss) || !strings.Contains(r, "55/70") {
		t.Errorf("ttl 3 is not where path loss starts: %q", r)
	}
	// The destination's row is the agent's pings over the path's time ("p").
	if r := hopRow(t, c, "4"); !strings.Contains(r, "54/70p") || strings.Contains(r, flagLoss) {
		t.Errorf("destination row: %q", r)
	}
	for _, want := range []string{"path loss from ttl 3", "ICMP rate limit, not path loss", "p: destination row of the pings (14 tests)"} {
		if !strings.Contains(c, want) {
			t.Errorf("hop legend lacks %q", want)
		}
	}
	// The other direction: upstream's traces (one probe per hop), a clean path.
	if !strings.Contains(c, "hops scouter-fra-0 → 198.18.1.1 · 26 traces, 26 reached") || !strings.Contains(c, "130/130p") {
		t.Errorf("reverse direction:\n%s", c)
	}
	// a: the other agent of the PoP.
	m = pressRun(t, m, "a")
	if c := content(m); !strings.Contains(c, "hops scouter-ams-1 → 198.18.1.2") || !strings.Contains(c, "agent 2/2") {
		t.Errorf("a did not show the second agent:\n%s", c)
	}
	m = pressRun(t, m, "a")
	if !strings.Contains(content(m), "hops scouter-ams-0") {
		t.Error("a does not cycle back to the first agent")
	}
}

// TestDetailHopReset: z starts the hop statistics from now, as mtr's r does: the table
// counts the traces (and the destination row the pings) taken since, says so, and a
// pair opened afterwards starts from the whole window again.
func TestDetailHopReset(t *testing.T) {
	m := newDetailModel(t, 160, 48, Config{}, "ams", "fra")
	m.ui.cfg.Now = func() time.Time { return t0.Add(25 * time.Minute) }
	m = pressRun(t, m, "z")
	c := content(m)
	for _, want := range []string{"hops scouter-ams-0 → 198.18.1.2 · 5 traces, 4 reached", "from 03:29:05 (z: reset)", "25/25 ", "p: destination row of the pings (5 tests)"} {
		if !strings.Contains(c, want) {
			t.Errorf("after z, the drill-down lacks %q:\n%s", want, c)
		}
	}
	if strings.Contains(c, "path 2:") {
		t.Errorf("after z, the path taken before the reset is still listed:\n%s", c)
	}
	// Nothing since: say so.
	m.ui.cfg.Now = func() time.Time { return t0.Add(time.Hour) }
	m = pressRun(t, m, "z")
	if c := content(m); !strings.Contains(c, "no traceroute since 04:04:05 (z: reset): waiting for the next") {
		t.Errorf("z with no trace since:\n%s", c)
	}
	m = pressRun(t, m, "l", "h") // another pair and back
	m = runCmd(t, m, m.detail.Reload())
	if c := content(m); !strings.Contains(c, "hops scouter-ams-0 → 198.18.1.2 · 14 traces") {
		t.Errorf("a pair opened after z does not count the whole window:\n%s", c)
	}
	inHelp := false
	for _, col := range (detailHelp{}).FullHelp() {
		for _, b := range col {
			inHelp = inHelp || b.Help().Key == "z" && b.Help().Desc == "hop stats from now"
		}
	}
	if !inHelp {
		t.Error("the drill-down's help lacks z")
	}
}

func TestDetailHopColumnsNarrow(t *testing.T) {
	// At 40 columns the table keeps ttl, address, loss and the marks, and explains them.
	m := newDetailModel(t, 40, 12, Config{}, "ams", "fra")
	c := content(m)
	r := hopRow(t, c, "2")
	if !strings.Contains(r, "198.18.2.9") || !strings.Contains(r, "80%") || !strings.Contains(r, flagRate) {
		t.Errorf("narrow hop row: %q", r)
	}
	for i, l := range strings.Split(c, "\n") {
		if w := ansi.StringWidth(l); w > 40 {
			t.Errorf("line %d is %d wide: %q", i, w, l)
		}
	}
}

func TestDetailTimeline(t *testing.T) {
	m := newDetailModel(t, 160, 48, Config{}, "ams", "fra")
	c := content(m)
	// The outage: sweeps 22-24 (both agents), over when sweep 25 answered.
	outage := "03:26:05  ✕ outage 3m (6 tests failed), until 03:29:05"
	if !strings.Contains(c, outage) {
		t.Errorf("timeline lacks %q:\n%s", outage, c)
	}
	for _, want := range []string{"timeline ·", "newest first", "latency", "crossed 250 ms", "◆ route change via scouter-ams-0",
		"new 198.18.2.1 198.18.2.9"} {
		if !strings.Contains(c, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
	// Newest first: the outage's end comes before the latency's turn to yellow at 03:22.
	if i, j := strings.Index(c, "outage 3m"), strings.Index(c, "latency"); i < 0 || j < 0 || i > j {
		t.Errorf("timeline not newest first (outage at %d, latency change at %d)", i, j)
	}
}

func TestDetailChartAndSummary(t *testing.T) {
	m := newDetailModel(t, 160, 48, Config{}, "ams", "fra")
	c := content(m)
	for _, want := range []string{"52 tests over 29m", "6 failed", "03:04:05–03:33:05", "▒ p10–90", "▓ p25–75", "█ mean",
		"◆ route change", "ttl┤4", "loss┤", "jitter┤", "03:10", "03:20", "03:30"} {
		if !strings.Contains(c, want) {
			t.Errorf("chart lacks %q:\n%s", want, c)
		}
	}
	// The gap (no sweeps 10-13) breaks the time axis; elsewhere it is whole.
	var axis string
	for _, l := range strings.Split(c, "\n") {
		if strings.Contains(l, "└") {
			axis = l
			break
		}
	}
	left := axis[:strings.Index(axis, "│")]
	plot := strings.TrimRight(left[strings.Index(left, "└")+len("└"):], " ")
	if !strings.Contains(plot, "─ ") || !strings.Contains(plot, " ─") && !strings.Contains(plot, " ◆") {
		t.Errorf("the axis is not broken by the gap: %q", plot)
	}
	// p: per-probe rows.
	m = pressRun(t, m, "p")
	if c := content(m); !strings.Contains(c, "pkt0┤") || !strings.Contains(c, "pkt4┤") {
		t.Errorf("p shows no per-probe rows:\n%s", c)
	}
}

func TestDetailLossByThresholds(t *testing.T) {
	// NO_COLOR carries the class as a marker: 15% loss is red (!) under 2,4,6 ...
	m := newDetailModel(t, 160, 48, Config{NoColor: true}, "ams", "fra")
	if c := content(m); !strings.Contains(c, "loss 15%! ") {
		t.Errorf("15%% loss not marked red:\n%s", c)
	}
	// ... and green under 20,30,40; no loss is never marked.
	th := mesh.DefaultThresholds()
	th[mesh.Loss] = mesh.Thresholds{20, 30, 40}
	m = newDetailModel(t, 160, 48, Config{NoColor: true, Thresholds: th}, "ams", "fra")
	if c := content(m); !strings.Contains(c, "loss 15%  ") || !strings.Contains(c, "loss 0%  ") {
		t.Errorf("loss under its thresholds is marked:\n%s", c)
	}
}

func TestDetailAgentDown(t *testing.T) {
	m := newDetailModel(t, 160, 48, Config{}, "lon", "ams")
	c := content(m)
	for _, want := range []string{"agent scouter-lon-0 down since 03:33:05", "connection refused", "no samples in the window",
		"agent scouter-lon-0 down: agent scouter-lon-0: connection refused"} {
		if !strings.Contains(c, want) {
			t.Errorf("down agent's drill-down lacks %q:\n%s", want, c)
		}
	}
	// The agent comes back: the timeline says so, the banner goes.
	st := detailFixtureStore()
	st.SetAgent(mesh.AgentStatus{Agent: mesh.Agent{Name: "scouter-lon-0", Pop: "lon"}, State: mesh.StateOK})
	st.AddPing(mesh.PingResult{Time: t0.Add(31 * time.Minute), Src: "scouter-lon-0", SrcPop: "lon", DstPop: "ams", Sent: 1, Recv: 1, AvgRTT: 5, MinRTT: 5, MaxRTT: 5, Probes: []float64{5}})
	m.ui.src = StoreSource{Store: st}
	m = runCmd(t, m, m.fetch())
	c = content(m)
	if strings.Contains(c, "down since") || !strings.Contains(c, "03:35:05  agent scouter-lon-0 up again") {
		t.Errorf("agent back up:\n%s", c)
	}
}

func TestDetailNavigation(t *testing.T) {
	m := newDetailModel(t, 160, 48, Config{}, "ams", "fra")
	pair := func() string { return m.detail.src + "→" + m.detail.dst }
	for _, step := range []struct{ key, want string }{
		{"l", "ams→lon"}, // next column
		{"l", "ams→lon"}, // the edge: stays
		{"h", "ams→fra"}, // previous column
		{"h", "ams→fra"}, // ams→ams is the diagonal and the edge
		{"J", "lon→fra"}, // next row steps over fra→fra
		{"K", "ams→fra"},
		{"x", "fra→ams"}, // reverse
		{"x", "ams→fra"},
	} {
		m = pressRun(t, m, step.key)
		if got := pair(); got != step.want {
			t.Fatalf("%s: at %s, want %s", step.key, got, step.want)
		}
		if s, d, _ := m.Selected(); s+"→"+d != step.want {
			t.Errorf("%s: the grid's cursor is on %s→%s, want %s", step.key, s, d, step.want)
		}
		if !strings.Contains(ansi.Strip(m.frame), strings.Replace(step.want, "→", " ⇄ ", 1)) {
			t.Errorf("%s: frame does not show %s", step.key, step.want)
		}
	}
	// esc returns to the grid on the pair last shown.
	m = press(t, m, "esc")
	if m.screen != screenGrid {
		t.Fatal("esc did not return to the grid")
	}
	if s, d, _ := m.Selected(); s != "ams" || d != "fra" {
		t.Errorf("grid cursor after the drill-down: %s→%s", s, d)
	}
}

func TestDetailFoldHint(t *testing.T) {
	m := newDetailModel(t, 80, 24, Config{}, "ams", "fra")
	f := ansi.Strip(m.frame)
	lines := strings.Split(f, "\n")
	if len(lines) != 24 {
		t.Fatalf("frame has %d lines", len(lines))
	}
	// The reverse direction and the route changes are below the fold: the hint says so.
	hint := lines[21]
	if !strings.Contains(hint, "▼ below:") || !strings.Contains(hint, "fra → ams") {
		t.Errorf("no fold hint naming the reverse direction: %q\n%s", hint, f)
	}
	// tab jumps from section to section until the reverse direction is at the top.
	for range 3 {
		m = pressRun(t, m, "tab")
	}
	if top := ansi.Strip(m.detail.vp.View()); !strings.HasPrefix(top, "fra → ams") {
		t.Errorf("three tabs did not reach the reverse direction:\n%s", top)
	}
	m = pressRun(t, m, "shift+tab")
	if top := ansi.Strip(m.detail.vp.View()); !strings.HasPrefix(top, "timeline") {
		t.Errorf("shift+tab did not go back to the timeline:\n%s", top)
	}
	// The help does not offer m: every metric is on screen.
	if strings.Contains(f, "metric") {
		t.Errorf("drill-down help offers the metric key:\n%s", f)
	}
}

func TestDetailOneTest(t *testing.T) {
	st := mesh.NewStore(0)
	r := mesh.PingResult{Time: t0, Src: "a", SrcPop: "ams", DstPop: "fra"}
	r.DerivePing(1, []float64{10}, -1)
	st.AddPing(r)
	m := New(StoreSource{Store: st}, Config{Now: func() time.Time { return t0 }})
	m = update(t, m, tea.WindowSizeMsg{Width: 100, Height: 30})
	m = runCmd(t, m, m.fetch())
	m = runCmd(t, m, m.openDetail("ams", "fra"))
	c := content(m)
	if !strings.Contains(c, "· 1 test") || strings.Contains(c, "1 tests") || strings.Contains(c, "1 samples") {
		t.Errorf("one test:\n%s", c)
	}
}

func TestDetailHistoryBucketsCountTests(t *testing.T) {
	// History buckets carry InfluxDB's count: the summary counts tests, not buckets.
	var ss []mesh.Sample
	for i := range 6 {
		ss = append(ss, mesh.Sample{Time: t0.Add(time.Duration(i) * time.Hour), MinRTT: 9, AvgRTT: 10, MaxRTT: 11, Tests: 360})
	}
	d := newDetail(newUIContext(StoreSource{Store: mesh.NewStore(0)}, Config{NoColor: true, Now: func() time.Time { return t0 }}))
	d.SetSize(100, 40)
	d.open("ams", "fra")
	d.setData(detailMsg{src: "ams", dst: "fra", fwd: ss})
	c := ansi.Strip(d.vp.GetContent())
	if !strings.Contains(c, "2160 tests over 5h00m") {
		t.Errorf("history summary:\n%s", c)
	}
	// Six buckets stretch over the whole width: every plot column holds data.
	for _, l := range strings.Split(c, "\n") {
		if strings.Contains(l, "└") {
			l, _, _ = strings.Cut(l, "│")
			plot := strings.TrimRight(l[strings.Index(l, "└")+len("└"):], " ")
			if strings.Contains(plot, " ") {
				t.Errorf("gaps in a gapless history: %q", plot)
			}
			break
		}
	}
}

// Golden views of the drill-down over the detail fixture (lossy hop, rate limiting, a
// route change, an outage, a gap, a down agent). Update with -update and read the diff.
func TestDetailGolden(t *testing.T) {
	for _, tt := range []struct {
		name     string
		w, h     int
		cfg      Config
		src, dst string
		keys     []string
	}{
		{"ams_fra_160x48", 160, 48, Config{}, "ams", "fra", nil},
		{"ams_fra_80x24", 80, 24, Config{}, "ams", "fra", nil},
		{"ams_fra_40x12", 40, 12, Config{}, "ams", "fra", nil},
		{"ams_fra_nocolor_160x48", 160, 48, Config{NoColor: true}, "ams", "fra", nil},
		{"ams_fra_nocolor_80x24_hops", 80, 24, Config{NoColor: true}, "ams", "fra", []string{"tab"}},
		{"ams_fra_nocolor_40x12_timeline", 40, 12, Config{NoColor: true}, "ams", "fra", []string{"tab", "tab"}},
		{"lon_ams_down_80x24", 80, 24, Config{NoColor: true}, "lon", "ams", nil},
		{"ams_fra_probes_160x48", 160, 48, Config{NoColor: true}, "ams", "fra", []string{"p"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := pressRun(t, newDetailModel(t, tt.w, tt.h, tt.cfg, tt.src, tt.dst), tt.keys...)
			golden.RequireEqual(t, []byte(m.View().Content))
		})
	}
}

func TestTimeAxis(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 1, 2, h, m, 0, 0, time.UTC) }
	for _, tt := range []struct {
		name     string
		from, to time.Time
		cols     int
		want     []string
	}{
		{"minutes", at(3, 4), at(3, 34), 60, []string{"03:05", "03:10", "03:15", "03:20", "03:25", "03:30"}},
		{"a day crossed", at(22, 0), at(22, 0).Add(4 * time.Hour), 40, []string{"22:00", "23:00", "01-03", "01:00"}},
		{"a week", at(0, 0), at(0, 0).Add(7 * 24 * time.Hour), 70, []string{"01-02", "01-03", "01-04", "01-05", "01-06", "01-07", "01-08"}},
		{"seconds", at(3, 4), at(3, 5), 60, []string{"03:04:00", "03:04:10", "03:04:20", "03:04:30", "03:04:40", "03:04:50"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, tk := range newTimeAxis(tt.from, tt.to, tt.cols).ticks() {
				got = append(got, tk.label)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("ticks %v, want %v", got, tt.want)
			}
		})
	}
	ax := newTimeAxis(at(22, 0), at(23, 59).Add(2*time.Hour), 10)
	if !ax.crossesDay() || fmtWhen(at(23, 0), ax) != "01-02 23:00:00" {
		t.Errorf("a span over midnight shows no date: %v", fmtWhen(at(23, 0), ax))
	}
}

func TestChartColumns(t *testing.T) {
	// Samples every minute with a 10-minute hole: columns in the hole stay empty.
	var ss []mesh.Sample
	for _, m := range []int{0, 1, 2, 3, 14, 15, 16} {
		ss = append(ss, mesh.Sample{Time: t0.Add(time.Duration(m) * time.Minute), MinRTT: 1, AvgRTT: 2, MaxRTT: 3})
	}
	ax, cols, covered := chartColumns(chartInput{samples: ss}, 17)
	if ax.cols != 17 || len(cols) != 17 {
		t.Fatalf("%d columns", len(cols))
	}
	for c, want := range []bool{true, true, true, true, false, false, false, false, false, false, false, false, false, false, true, true, true} {
		if covered[c] != want {
			t.Errorf("column %d covered %v, want %v", c, covered[c], want)
		}
	}
	// Two samples stretch over 40 columns: every column holds one of them.
	_, cols, covered = chartColumns(chartInput{samples: ss[:2]}, 40)
	for c := range cols {
		if !covered[c] || cols[c].n != 1 {
			t.Fatalf("column %d: covered %v, %d samples", c, covered[c], cols[c].n)
		}
	}
}
