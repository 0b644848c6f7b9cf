package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// The drill-down's timeline tells jitter's colour changes, beside latency's and loss's.
func TestTimelineTellsJitter(t *testing.T) {
	st := mesh.NewStore(0)
	for i := range fixSweeps {
		at := t0.Add(time.Duration(i) * time.Minute)
		for _, pr := range [][2]string{{"ams", "fra"}, {"fra", "ams"}} {
			r := mesh.PingResult{Time: at, Src: "scouter-" + pr[0] + "-0", SrcPop: pr[0], DstPop: pr[1], DstName: "scouter-" + pr[1] + "-0", Dst: "198.18.1.9"}
			rtts := []float64{20, 21, 20, 21, 20}
			if pr[0] == "ams" && i >= 10 && i < 14 { // jitter ~12 ms: yellow (10 ms) for four sweeps
				rtts = []float64{20, 32, 20, 32, 20}
			}
			r.DerivePing(5, rtts, -1)
			st.AddPing(r)
		}
	}
	f := openDetailOver(t, StoreSource{Store: st}, "ams", "fra")
	for _, want := range []string{
		// Jitter now is the median of the newest five tests': yellow once three of them are.
		"03:16:05  jitter ms  green → +yellow  12 ms (crossed 10 ms)",
		"03:20:05  jitter ms +yellow →  green  1.0 ms (crossed 10 ms)",
	} {
		if !strings.Contains(f, want) {
			t.Errorf("timeline lacks %q:\n%s", want, f)
		}
	}
}
