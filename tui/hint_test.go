package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/meshtop/meshtop/mesh"
)

// transatlanticStore is a live store a minute into a lossy transatlantic router: every
// pair between ams/fra/lon and nyc/sjc loses 40 % and passes atl (198.18.9.2), which
// its traces say; sjc→nyc is slow besides, so sjc is bad towards all it measures (a row
// pattern that would blame sjc).
func transatlanticStore(t *testing.T) *mesh.Store {
	t.Helper()
	st := mesh.NewStore(0)
	t0 := time.Unix(1_700_000_000, 0).UTC()
	eu := map[string]bool{"ams": true, "fra": true, "lon": true}
	pops := []string{"ams", "fra", "lon", "nyc", "sjc"}
	addr := func(p string) string {
		return "198.18.1." + map[string]string{"ams": "1", "fra": "2", "lon": "3", "nyc": "4", "sjc": "5"}[p]
	}
	for i := range 6 {
		at := t0.Add(time.Duration(i) * 10 * time.Second)
		for _, s := range pops {
			for _, d := range pops {
				if s == d {
					continue
				}
				rtts := []float64{20, 20, 20, 20, 20}
				hops := []mesh.Hop{{TTL: 1, Addr: "198.18.9.1", Name: "eu-ix.lab", ASN: 64700}}
				switch {
				case eu[s] != eu[d]:
					rtts = []float64{80, mesh.Lost, 80, mesh.Lost, 80}
					hops = append(hops, mesh.Hop{TTL: 2, Addr: "198.18.9.2", Name: "atl.lab", ASN: 64701})
				case s == "sjc" && d == "nyc":
					rtts = []float64{700, 700, 700, 700, 700}
				}
				r := mesh.PingResult{Time: at, Src: s + "-0", SrcPop: s, DstPop: d, Dst: addr(d)}
				r.DerivePing(5, rtts, -1)
				st.AddPing(r)
				hops = append(hops, mesh.Hop{TTL: len(hops) + 1, Addr: addr(d)})
				st.AddTrace(mesh.TraceResult{Time: at, Src: s + "-0", SrcPop: s, DstPop: d, Dst: addr(d), Hops: hops})
			}
		}
	}
	return st
}

// The hint names the hop the bad pairs share, not the PoP whose row it makes bad; the
// row pattern stays for what traces do not explain.
func TestHintNamesSharedHop(t *testing.T) {
	m := transatlanticStore(t).Matrix()
	th := mesh.DefaultThresholds()
	hop, ok := sharedHop(m, mesh.Health, mesh.Last, th)
	got := patternHint(m, mesh.Health, mesh.Last, th, hop, ok)
	want := "hint: 12 of 13 bad pairs pass 198.18.9.2 (atl.lab, AS64701), no good pair does: suspect that hop"
	if !strings.HasPrefix(got, want) {
		t.Errorf("hint %q\nwant %q…", got, want)
	}
	// Without traces (history), the same grid blames sjc's row.
	got = patternHint(m, mesh.Health, mesh.Last, th, mesh.HopSuspect{}, false)
	if !strings.Contains(got, "sjc is bad towards 4 of 4 destinations (row pattern)") {
		t.Errorf("hint without paths %q", got)
	}
}

// The grid reads the paths once a matrix, and the hint line shows the hop.
func TestGridShowsSharedHopHint(t *testing.T) {
	m := New(StoreSource{Store: transatlanticStore(t)}, Config{NoColor: true, Now: func() time.Time { return time.Unix(1_700_000_060, 0) }})
	m = update(t, m, tea.WindowSizeMsg{Width: 160, Height: 48})
	m = runCmd(t, m, m.fetch())
	if v := frame(m); !strings.Contains(v, "hint: 12 of 13 bad pairs pass 198.18.9.2") {
		t.Errorf("no shared-hop hint on screen:\n%s", v)
	}
}
