package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestHistoryProbesInTmux drills into a pair from a real influxd: the smoke of the
// probes and the per-probe rows (Packet 0-4, `p`) come from the ping points'
// probe_N_rtt_ms, as live does from its tests.
func TestHistoryProbesInTmux(t *testing.T) {
	srv, ctx := metricsDB(t, 60*time.Second)
	end := time.Now().UTC().Truncate(time.Minute)
	var b strings.Builder
	for i := range 30 {
		at := end.Add(-time.Duration(30-i) * time.Minute)
		for _, pr := range [][2]string{{"ams", "fra"}, {"fra", "ams"}} {
			// Probe 3 is lost every third test; the others spread 20-24 ms.
			p3 := "23.0"
			loss := "0.0"
			if i%3 == 0 {
				p3, loss = "0.0", "20.0"
			}
			fmt.Fprintf(&b, "ping,dst=198.18.0.9,dst_pop=%s,public_ip=203.0.113.9,src_pop=%s,src_slug=%s-1 avg_rtt_ms=22.0,failed=\"0\",jitter_ms=1.0,jitter_pct=5.0,loss_pct=%s,"+
				"probe_0_rtt_ms=20.0,probe_1_rtt_ms=21.0,probe_2_rtt_ms=22.0,probe_3_rtt_ms=%s,probe_4_rtt_ms=24.0 %d\n", pr[1], pr[0], pr[0], loss, p3, at.UnixNano())
		}
	}
	if err := srv.WriteLines(ctx, "metricsdb", b.String()); err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t)
	cmd := fmt.Sprintf("env NO_COLOR=1 XDG_CONFIG_HOME=%s %s history --influx-url %s --window 1h --refresh 0; e=$?; echo meshtop-exit=$e; exit $e",
		t.TempDir(), bin, srv.URL)
	s := newTmux(t, 160, 48, cmd)
	s.waitFor("src\\dst", "ams", "fra")
	s.keys("Enter")
	scr := s.waitFor("⇄", "p10–90", "-1: avg 22.0 ms")
	s.keys("p")
	scr = s.waitFor("pkt0┤", "pkt4┤")
	row := func(name string) string {
		for _, l := range strings.Split(scr, "\n") {
			if strings.Contains(l, name+"┤") {
				return l
			}
		}
		return ""
	}
	if !strings.Contains(row("pkt3"), "✕") || strings.Contains(row("pkt0"), "✕") {
		t.Errorf("probe 3's losses are not on its row (and only there):\n%s", scr)
	}
	s.keys("q")
	s.waitQuit(bin)
}
