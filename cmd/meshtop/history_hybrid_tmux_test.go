package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestHistoryHybridInTmux is the operator's journey to fast history: `meshtop rollup`
// over a database with hours of tests, then `history --window 6h`, which reads the
// rollups' whole buckets with raw edges and says so, checked, in the status bar; the
// numbers are the raw read's (the same grid with --rollup raw), at each terminal size.
func TestHistoryHybridInTmux(t *testing.T) {
	srv, ctx := metricsDB(t, 90*time.Second)
	end := time.Now().UTC().Truncate(time.Minute)
	lines := meshLines([]string{"ams", "fra", "sin"}, end, 8*60, func(i, si, di int) int { return 10 + 30*si + 7*di + i%5 })
	if err := srv.WriteLines(ctx, "metricsdb", lines); err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t)
	out, err := exec.CommandContext(ctx, bin, "rollup", "--influx-url", srv.URL).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "rollups ready") {
		t.Fatalf("meshtop rollup: %v\n%s", err, out)
	}
	for _, size := range [][2]int{{160, 48}, {80, 24}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			grid := func(rollup, want string) string {
				cmd := fmt.Sprintf("env NO_COLOR=1 XDG_CONFIG_HOME=%s %s history --influx-url %s --window 6h --refresh 0 --rollup %s; e=$?; echo meshtop-exit=$e; exit $e",
					t.TempDir(), bin, srv.URL, rollup)
				s := newTmux(t, size[0], size[1], cmd)
				scr := s.waitForWithout("loading", "6h to now", want, "ams")
				s.keys("q")
				s.waitQuit(bin)
				return scr
			}
			hy := grid("auto", "raw edges")
			if size[0] >= 160 && !strings.Contains(hy, "rollup 1h+10m and raw edges, checked") {
				t.Errorf("status bar does not say where the grid comes from:\n%s", hy)
			}
			raw := grid("raw", "raw")
			if g, w := gridRows(hy), gridRows(raw); g != w || g == "" {
				t.Errorf("hybrid grid:\n%s\nraw grid:\n%s", g, w)
			}
		})
	}
}

// gridRows are the screen's rows of the grid (those starting with a PoP code).
func gridRows(scr string) string {
	var rows []string
	for _, l := range strings.Split(scr, "\n") {
		f := strings.Fields(l)
		if len(f) > 1 && (f[0] == "ams" || f[0] == "fra" || f[0] == "sin") {
			rows = append(rows, strings.TrimRight(l, " "))
		}
	}
	return strings.Join(rows, "\n")
}
