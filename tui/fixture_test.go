package tui

import (
	"fmt"
	"os"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/meshtop/meshtop/mesh"
)

func TestMain(m *testing.M) {
	time.Local = time.UTC // golden views print times
	os.Exit(m.Run())
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fixtureStore is a small mesh with every state: a healthy core, syd bad towards
// everyone (a row pattern), jfk→sjc failing, nrt's agent down, and a route change
// ams→fra between the second and third sweep.
func fixtureStore() *mesh.Store {
	st := mesh.NewStore(0)
	st.SetClock(func() time.Time { return t0 })
	pops := []string{"ams", "fra", "jfk", "nrt", "sjc", "syd"}
	base := map[string]float64{"ams": 10, "fra": 15, "jfk": 80, "nrt": 200, "sjc": 150, "syd": 300}
	var agents []mesh.AgentStatus
	for _, p := range pops {
		a := mesh.AgentStatus{Agent: mesh.Agent{Name: "scouter-" + p + "-0", Pop: p, Address: "198.18.1." + fmt.Sprint(len(agents)+1)}, State: mesh.StateOK}
		if p == "nrt" {
			a.State, a.Error = mesh.StateUnreachable, "agent scouter-nrt-0: connection refused"
		}
		agents = append(agents, a)
	}
	st.SetAgents(agents)
	for sweep := range 3 {
		at := t0.Add(time.Duration(sweep) * time.Minute)
		for _, s := range pops {
			for _, d := range pops {
				if s == d {
					continue
				}
				r := mesh.PingResult{Time: at, Src: "scouter-" + s + "-0", SrcPop: s, DstPop: d, DstName: "scouter-" + d + "-0", Dst: "198.18.1.9"}
				switch {
				case s == "nrt":
					r.Err = "agent scouter-nrt-0: connection refused"
					st.AddPing(r)
					continue
				case s == "jfk" && d == "sjc":
					r.DerivePing(5, []float64{mesh.Lost, mesh.Lost, mesh.Lost, mesh.Lost, mesh.Lost}, -1)
				default:
					v := base[s] + base[d] + float64(sweep)
					if s == "syd" {
						v += 900
					}
					r.DerivePing(5, []float64{v, v + 2, v + 1, v + 3, v}, -1)
				}
				st.AddPing(r)
			}
		}
		via := []string{"198.18.2.1", "198.18.2.2"}
		if sweep >= 1 { // a route change needs a second trace to confirm it
			via = []string{"198.18.2.9"}
		}
		tr := mesh.TraceResult{Time: at, Src: "scouter-ams-0", SrcPop: "ams", DstPop: "fra", Dst: "198.18.1.2", Proto: "ICMP", DPort: 80}
		for i, h := range append(via, "198.18.1.2") {
			tr.Hops = append(tr.Hops, mesh.Hop{TTL: i + 1, Addr: h, ASN: 64500 + i, RTT: float64(10 * (i + 1))})
		}
		tr.Hops = append(tr.Hops[:1], append([]mesh.Hop{{TTL: 2, NoResponse: true}}, tr.Hops[1:]...)...)
		for i := range tr.Hops {
			tr.Hops[i].TTL = i + 1
		}
		tr.DeriveTrace()
		st.AddTrace(tr)
	}
	return st
}

// newTestModel builds a sized model with the fixture loaded, as after Init.
func newTestModel(t *testing.T, w, h int, cfg Config) Model {
	t.Helper()
	cfg.Now = func() time.Time { return t0 }
	m := New(StoreSource{Store: fixtureStore()}, cfg)
	m = update(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	return settlePanel(t, runCmd(t, m, m.fetch()))
}

// settlePanel reads the panel's pair history at once, as the debounced read would.
func settlePanel(t *testing.T, m Model) Model {
	t.Helper()
	p := &m.grid.panel
	if m.screen != screenGrid || !p.visible || p.src == "" {
		return m
	}
	if p.histFor != p.wantKey() {
		m.grid.panel.follow(false)
	}
	return update(t, m, m.grid.panel.read(m.grid.panel.gen)())
}

func update(t *testing.T, m Model, msg tea.Msg) Model {
	t.Helper()
	nm, _ := m.Update(msg)
	return nm.(Model)
}

// runCmd runs a command and feeds its message back (one level; batches are expanded).
func runCmd(t *testing.T, m Model, cmd tea.Cmd) Model {
	t.Helper()
	if cmd == nil {
		return m
	}
	msg := cmd()
	if batch, ok := msg.(tea.BatchMsg); ok {
		for _, c := range batch {
			m = runCmd(t, m, c)
		}
		return m
	}
	nm, next := m.Update(msg)
	m = nm.(Model)
	// A drill-down asked for (openPairMsg) answers with its read: follow it.
	if _, open := msg.(openPairMsg); open {
		m = runCmd(t, m, next)
	}
	return m
}

// press sends keys and runs the commands they return (a drill-down's fetch).
func press(t *testing.T, m Model, keys ...string) Model {
	t.Helper()
	for _, k := range keys {
		var msg tea.KeyPressMsg
		switch k {
		case "enter":
			msg = tea.KeyPressMsg{Code: tea.KeyEnter}
		case "esc":
			msg = tea.KeyPressMsg{Code: tea.KeyEscape}
		case "down":
			msg = tea.KeyPressMsg{Code: tea.KeyDown}
		case "right":
			msg = tea.KeyPressMsg{Code: tea.KeyRight}
		case "end":
			msg = tea.KeyPressMsg{Code: tea.KeyEnd}
		default:
			r := []rune(k)[0]
			msg = tea.KeyPressMsg{Code: r, Text: k}
		}
		nm, cmd := m.Update(msg)
		m = nm.(Model)
		if k == "enter" {
			m = runCmd(t, m, cmd)
		}
		m = settlePanel(t, m)
	}
	return m
}
