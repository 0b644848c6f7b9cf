package main

import (
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/meshtop/meshtop/probe/scoutertest"
)

// lossyTrace is ams's path to fra as a person would see it from mtr, five probes per hop
// as meshtop's agent sends them: ttl 2 is a router that rate-limits ICMP (it answers one
// probe in five), and from ttl 3 on one probe in ten is lost, as at the destination
// (lossyRTT): path loss.
func lossyTrace() func(dst string) []scoutertest.Hop {
	var n atomic.Int64
	return func(dst string) []scoutertest.Hop {
		i := int(n.Add(1) - 1)
		probes := func(rtt float64, lost func(j int) bool) []float64 {
			out := make([]float64, 5)
			for j := range out {
				out[j] = rtt
				if lost(j) {
					out[j] = -1
				}
			}
			return out
		}
		never := func(int) bool { return false }
		path := func(j int) bool { return i%2 == 0 && j == 0 }
		return []scoutertest.Hop{
			{Addr: "198.18.200.1", ASN: 64500, RTT: 0.5, Probes: probes(0.5, never)},
			{Addr: "198.18.200.2", ASN: 64501, RTT: 1.5, Probes: probes(1.5, func(j int) bool { return j != i%5 })},
			{Addr: "198.18.201.1", ASN: 64502, RTT: 18, Probes: probes(18, path)},
			{Addr: dst, ASN: 64510, RTT: 20, Probes: probes(20, path)},
		}
	}
}

// lossyRTT is ams's pings to fra: one probe in ten lost, as the path of lossyTrace.
func lossyRTT() func(string, int) []float64 {
	var n atomic.Int64
	return func(_ string, count int) []float64 {
		i := n.Add(1) - 1
		out := make([]float64, count)
		for j := range out {
			out[j] = 20
		}
		if i%2 == 0 {
			out[0] = -1
		}
		return out
	}
}

// TestDetailJourneyInTmux drills into a pair whose path has a rate-limiting router and
// a lossy link, in the real binary over fake agents (scoutertest): the per-hop table puts
// the rate limit on ttl 2 and the path loss from ttl 3, the timeline and the time axis are
// there, x turns to the reverse direction, and at 80x24 the hint names what is below.
func TestDetailJourneyInTmux(t *testing.T) {
	bin := buildBinary(t)
	inv := writeInventory(t,
		fakeAgent{"ams", scoutertest.Config{RTT: lossyRTT(), Trace: lossyTrace()}},
		fakeAgent{"fra", scoutertest.Config{RTT: fixedRTT(22)}},
	)
	cmd := fmt.Sprintf("env NO_COLOR=1 SCOUTER_SECRET=%s XDG_CONFIG_HOME=%s %s live --inventory %s --interval 1s --traceroute-interval 1s --count 5; e=$?; echo meshtop-exit=$e; exit $e",
		testSecret, t.TempDir(), bin, inv)
	s := newTmux(t, 160, 48, cmd)
	s.waitFor("src\\dst", "fra")
	s.keys("l", "Enter") // ams→fra (the last column: l stays there if the cursor starts on it)
	// Enough probes for the verdicts (20 a hop: four traces, four pings): ttl 2 loses
	// 80% (rate limit), ttl 3 and the destination 10% (path loss).
	scr := s.waitFor("ams ⇄ fra", "hops scouter-ams-0 → 198.18.0.2", "~ ICMP rate limit, not path loss", "! path loss from ttl 3")
	ttl2 := regexp.MustCompile(`(?m)^\s+2 198\.18\.200\.2 .*~`)
	ttl3 := regexp.MustCompile(`(?m)^\s+3 198\.18\.201\.1 .*!`)
	if !ttl2.MatchString(scr) || !ttl3.MatchString(scr) {
		t.Fatalf("verdicts not on the right hops:\n%s", scr)
	}
	for _, want := range []string{"ttl┤", "loss┤", "jitter┤", "└", "timeline", "tests over"} {
		if !strings.Contains(scr, want) {
			t.Errorf("drill-down lacks %q:\n%s", want, scr)
		}
	}
	// The reverse direction is one key.
	s.keys("x")
	s.waitFor("fra ⇄ ams", "hops scouter-fra-0 → 198.18.0.1")
	// At 80x24 what is below the fold is named.
	s.run("resize-window", "-t", "mt", "-x", "80", "-y", "24")
	s.waitFor("▼ below:", "ams → fra")
	s.keys("Escape")
	s.waitFor("src\\dst")
	s.keys("q")
	s.waitQuit(bin)
}
