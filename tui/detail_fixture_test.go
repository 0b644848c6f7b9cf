package tui

import (
	"fmt"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/meshtop/meshtop/mesh"
)

// detailFixture is a small mesh for the drill-down with something to tell: ams has two
// agents; ams→fra goes through a router that rate-limits ICMP (ttl 2 answers every other
// trace) and a lossy link from ttl 3 on (every fifth trace loses everything from there),
// changes route at sweep 16 (ttl 2 via 198.18.2.9), turns yellow for three sweeps, has a
// three-sweep outage at 22-24, and no data at all during sweeps 10-13 (a gap). fra→ams
// is clean. lon's agent is down.
const (
	fixSweeps   = 30
	fixOutageAt = 22
	fixRouteAt  = 16
)

func detailFixtureStore() *mesh.Store {
	st := mesh.NewStore(0)
	st.SetClock(func() time.Time { return t0 }) // agents' events: a fixed time for golden views
	agents := []mesh.AgentStatus{
		{Agent: mesh.Agent{Name: "scouter-ams-0", Pop: "ams", Address: "198.18.1.1"}, State: mesh.StateOK},
		{Agent: mesh.Agent{Name: "scouter-ams-1", Pop: "ams", Address: "198.18.1.4"}, State: mesh.StateOK},
		{Agent: mesh.Agent{Name: "scouter-fra-0", Pop: "fra", Address: "198.18.1.2"}, State: mesh.StateOK},
		{Agent: mesh.Agent{Name: "scouter-lon-0", Pop: "lon", Address: "198.18.1.3"}, State: mesh.StateUnreachable, Error: "agent scouter-lon-0: connection refused"},
	}
	st.SetAgents(agents)
	addr := map[string]string{"ams": "198.18.1.1", "fra": "198.18.1.2", "lon": "198.18.1.3"}
	for i := range fixSweeps {
		if i >= 10 && i < 14 {
			continue // the collector was not running
		}
		at := t0.Add(time.Duration(i) * time.Minute)
		for _, a := range agents {
			for _, dst := range []string{"ams", "fra", "lon"} {
				if dst == a.Pop {
					continue
				}
				r := mesh.PingResult{Time: at, Src: a.Name, SrcPop: a.Pop, DstPop: dst, DstName: "scouter-" + dst + "-0", Dst: addr[dst]}
				if a.Pop == "lon" {
					r.Err = a.Error
					st.AddPing(r)
					continue
				}
				base := 20.0
				if a.Pop == "ams" && dst == "fra" {
					base = 25
				}
				if dst == "lon" || a.Pop == "lon" {
					base = 12
				}
				v := base + float64(i%4)
				probes := []float64{v, v + 2, v + 1, v + 4, v + 0.5}
				if a.Pop == "ams" && dst == "fra" {
					switch {
					case i >= 18 && i < 21:
						for k := range probes {
							probes[k] += 280 // yellow
						}
					case i >= fixOutageAt && i < fixOutageAt+3:
						probes = []float64{mesh.Lost, mesh.Lost, mesh.Lost, mesh.Lost, mesh.Lost}
					case i%5 == 0:
						probes[1] = mesh.Lost // 20% loss: orange
					}
				}
				r.DerivePing(5, probes, -1)
				st.AddPing(r)
			}
			if a.Pop == "ams" {
				st.AddTrace(fixtureTrace(at, a.Name, i, true))
			}
			if a.Pop == "fra" {
				st.AddTrace(fixtureTrace(at, a.Name, i, false))
			}
		}
	}
	return st
}

// fixtureTrace is sweep i's traceroute of agent src, towards fra (lossy) or ams (clean).
// Towards fra it is meshtop's agent's, five probes per hop: ttl 2 rate-limits (one probe
// of five answers), and from ttl 3 on one trace in five loses every probe (path loss, as
// the pings' at the destination), walking on to ttl 6. Towards ams it is upstream's, one
// probe per hop.
func fixtureTrace(at time.Time, src string, i int, toFra bool) mesh.TraceResult {
	type h struct {
		addr, name string
		asn        int
		rtt        float64
	}
	var path []h
	dst := "198.18.1.1"
	if toFra {
		dst = "198.18.1.2"
		mid := h{"198.18.2.2", "core1.ams.example.net", 64501, 2.5}
		if i >= fixRouteAt {
			mid = h{"198.18.2.9", "core2.ams.example.net", 64501, 3.1}
		}
		path = []h{{"198.18.2.1", "gw.ams.example.net", 64500, 0.6}, mid, {"198.18.3.1", "edge.fra.example.net", 64502, 21.4}, {dst, "", 64510, 24.8}}
	} else {
		path = []h{{"198.18.4.1", "gw.fra.example.net", 64510, 0.5}, {"198.18.4.2", "", 64510, 18.2}, {dst, "", 64500, 20.1}}
	}
	tr := mesh.TraceResult{Time: at, Src: src, SrcPop: "ams", DstPop: "fra", Dst: dst, Proto: "ICMP", DPort: 80}
	if !toFra {
		tr.SrcPop, tr.DstPop = "fra", "ams"
	}
	for k, p := range path {
		rtt := p.rtt + float64(i%3)*0.3
		hop := mesh.Hop{TTL: k + 1, Addr: p.addr, Name: p.name, ASN: p.asn, RTT: rtt}
		if toFra {
			hop = mesh.Hop{TTL: k + 1, NoResponse: true}
			for j := range 5 {
				lost := (k == 1 && j != i%5) || (k >= 2 && i%5 == 2)
				pr := mesh.HopProbe{Addr: p.addr, RTT: rtt + float64(j)*0.1}
				if lost {
					pr = mesh.HopProbe{}
				} else if hop.NoResponse {
					hop.Addr, hop.Name, hop.ASN, hop.RTT, hop.NoResponse = p.addr, p.name, p.asn, pr.RTT, false
				}
				hop.Probes = append(hop.Probes, pr)
			}
		}
		tr.Hops = append(tr.Hops, hop)
	}
	if toFra && i%5 == 2 {
		// The destination never answered: the traceroute walks on.
		for k := len(tr.Hops); k < 6; k++ {
			tr.Hops = append(tr.Hops, mesh.Hop{TTL: k + 1, NoResponse: true, Probes: make([]mesh.HopProbe, 5)})
		}
	}
	tr.Failed = toFra && i%5 == 2
	tr.DeriveTrace()
	return tr
}

// newDetailModel opens the drill-down of src→dst over the detail fixture.
func newDetailModel(t *testing.T, w, h int, cfg Config, src, dst string) Model {
	t.Helper()
	end := t0.Add(fixSweeps * time.Minute)
	cfg.Now = func() time.Time { return end }
	m := New(StoreSource{Store: detailFixtureStore()}, cfg)
	m = update(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	m = runCmd(t, m, m.fetch())
	g := &m.grid
	for r, row := range g.rows {
		for c, col := range g.cols {
			if s, d := g.pair(row, col); s == src && d == dst {
				g.moveTo(r, c)
			}
		}
	}
	if s, d, _ := g.Selected(); s != src || d != dst {
		t.Fatalf("cannot select %s→%s", src, dst)
	}
	return press(t, m, "enter")
}

var _ = fmt.Sprint
