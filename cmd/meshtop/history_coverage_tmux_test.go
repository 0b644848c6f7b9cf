package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestHistoryCoverageInTmux: a database with 7 minutes of tests read over a 6 h window
// (the workshop's, no rollups) paints its grid and says, first after the range, that the
// data spans 6 minutes of the 6 hours; a step back to a range without tests says so; at
// 160, 80 and 40 columns.
func TestHistoryCoverageInTmux(t *testing.T) {
	srv, ctx := metricsDB(t, 90*time.Second)
	end := time.Now().UTC().Truncate(time.Minute)
	if err := srv.WriteLines(ctx, "metricsdb", meshLines([]string{"ams", "fra", "sin"}, end, 7, func(i, si, di int) int { return 10 + 30*si + 7*di })); err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t)
	for _, size := range [][2]int{{160, 48}, {80, 24}, {40, 12}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			cmd := fmt.Sprintf("env NO_COLOR=1 XDG_CONFIG_HOME=%s %s history --influx-url %s --window 6h --refresh 0; e=$?; echo meshtop-exit=$e; exit $e",
				t.TempDir(), bin, srv.URL)
			s := newTmux(t, size[0], size[1], cmd)
			scr := s.waitForWithout("loading", "6h to now", "data in 6m", "ams")
			if size[0] >= 80 {
				from := end.Add(-7 * time.Minute).Local().Format("15:04")
				if !strings.Contains(scr, "("+from+"–") {
					t.Errorf("coverage does not say from when (%s):\n%s", from, scr)
				}
			}
			s.keys("[")
			if size[0] >= 80 {
				s.waitForWithout("loading", ", no tests in this range")
			} else {
				s.waitForWithout("loading", "no data yet", ", no…")
			}
			s.keys("q")
			s.waitQuit(bin)
		})
	}
}
