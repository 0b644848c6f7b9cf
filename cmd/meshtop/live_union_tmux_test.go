package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/probe/scoutertest"
)

// TestShardedLiveShowsTheWholeMeshInTmux: issue 14 item 3 as a person sees it. Collector
// 2/2 (a snapshot) records its sources' rows into a real influxd; `live --shard 1/2`
// recording into the same database shows every row: its own measured, the others read
// from InfluxDB.
func TestShardedLiveShowsTheWholeMeshInTmux(t *testing.T) {
	srv, _ := metricsDB(t, 60*time.Second)
	// Two PoPs per shard, each with a latency of its own, so a row's number says who
	// measured it.
	one, two := probe.Shard{K: 1, N: 2}, probe.Shard{K: 2, N: 2}
	var agents []fakeAgent
	rtt := map[string]int{}
	mine, theirs := 0, 0
	for _, pop := range []string{"ams", "fra", "jfk", "sjc", "syd", "sin", "gru", "nrt", "lhr", "iad"} {
		name := "scouter-" + pop + "-0"
		switch {
		case one.Owns(name) && mine < 2:
			rtt[pop] = 21 + 10*mine
			mine++
		case two.Owns(name) && theirs < 2:
			rtt[pop] = 333 + 111*theirs
			theirs++
		default:
			continue
		}
		agents = append(agents, fakeAgent{pop, scoutertest.Config{RTT: fixedRTT(float64(rtt[pop]))}})
	}
	if mine < 2 || theirs < 2 {
		t.Fatalf("could not find two PoPs per shard: %v", rtt)
	}
	inv := writeInventory(t, agents...)
	bin := buildBinary(t)
	env := fmt.Sprintf("env SCOUTER_SECRET=%s XDG_CONFIG_HOME=%s", testSecret, t.TempDir())
	other := exec.Command("sh", "-c", fmt.Sprintf("%s %s snapshot --inventory %s --shard 2/2 --count 1 --record %s", env, bin, inv, srv.URL))
	if out, err := other.CombinedOutput(); err != nil {
		t.Fatalf("collector 2/2: %v\n%s", err, out)
	}
	cmd := fmt.Sprintf("%s %s live --inventory %s --shard 1/2 --interval 2s --traceroute-interval 0 --count 1 --record %s; e=$?; echo meshtop-exit=$e; exit $e",
		env, bin, inv, srv.URL)
	s := newTmux(t, 120, 30, cmd)
	want := []string{"src\\dst", "live+shards"}
	for _, ms := range rtt {
		want = append(want, fmt.Sprint(ms))
	}
	scr := s.waitFor(want...)
	// The other shard's rows are InfluxDB's: its numbers sit in their sources' rows.
	for _, l := range strings.Split(scr, "\n") {
		for pop, ms := range rtt {
			if ms >= 333 && strings.HasPrefix(strings.TrimSpace(l), pop+" ") && !strings.Contains(l, fmt.Sprint(ms)) {
				t.Errorf("row %s lacks collector 2/2's %d ms: %q", pop, ms, l)
			}
		}
	}
	s.keys("q")
	s.waitQuit(bin)
}
