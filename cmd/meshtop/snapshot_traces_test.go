package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/meshtop/meshtop/probe/scoutertest"
)

// TestSnapshotTraceroute: issue 12 item 11. --traceroute prints the traces: hops and AS
// path in JSON, a summary line per pair in the table.
func TestSnapshotTraceroute(t *testing.T) {
	t.Setenv("SCOUTER_SECRET", testSecret)
	trace := func(dst string) []scoutertest.Hop {
		return []scoutertest.Hop{{Addr: "198.18.200.1", ASN: 64500, RTT: 1}, {}, {Addr: dst, ASN: 64501, RTT: 12.5}}
	}
	inv := writeInventory(t,
		fakeAgent{"ams", scoutertest.Config{RTT: fixedRTT(20), Trace: trace}},
		fakeAgent{"jfk", scoutertest.Config{RTT: fixedRTT(20), Trace: trace}},
		fakeAgent{"sjc", scoutertest.Config{Secret: "other"}},
	)
	out, _, err := runCLI(t, "snapshot", "--inventory", inv, "--traceroute", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var doc snapDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Traces) != 6 {
		t.Fatalf("%d traces, want 6 (3 sources x 2 destinations)", len(doc.Traces))
	}
	for _, tr := range doc.Traces {
		switch tr.SrcPop {
		case "sjc":
			if tr.Error == "" || len(tr.Hops) != 0 {
				t.Errorf("trace from the refusing agent: %+v", tr)
			}
		default:
			if tr.Error != "" || tr.ASPath != "64500 * 64501" || len(tr.Hops) != 3 || tr.FinalHopTTL != 3 ||
				tr.Hops[0].ASN != 64500 || !tr.Hops[1].NoResponse || tr.Hops[1].RTT != nil || tr.FinalHopRTT == nil || *tr.FinalHopRTT != 12.5 {
				t.Errorf("trace %+v", tr)
			}
		}
	}
	// Without --traceroute the key is absent, as before.
	out, _, err = runCLI(t, "snapshot", "--inventory", inv, "--format", "json")
	if err != nil || strings.Contains(out, `"traces"`) {
		t.Errorf("traces without --traceroute (err %v):\n%s", err, out)
	}
	out, _, err = runCLI(t, "snapshot", "--inventory", inv, "--traceroute")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Traceroutes (6):", "ams→jfk (scouter-ams-0)", "reached in 3 hops, 12.5 ms, 1 silent; AS path 64500 * 64501", "sjc→ams (scouter-sjc-0)  ! "} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// TestSnapshotFailOnNamesPairsAndMarksTable: --fail-on names the pairs at fault, worst
// first; the table without colour carries the TUI's class markers.
func TestSnapshotFailOnNamesPairsAndMarksTable(t *testing.T) {
	t.Setenv("SCOUTER_SECRET", testSecret)
	inv := writeInventory(t,
		fakeAgent{"ams", scoutertest.Config{RTT: fixedRTT(20)}},
		fakeAgent{"jfk", scoutertest.Config{RTT: fixedRTT(600)}},
		fakeAgent{"sjc", scoutertest.Config{RTT: fixedRTT(1200)}},
	)
	out, _, err := runCLI(t, "snapshot", "--inventory", inv, "--fail-on", "orange")
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("err %v, want exit 2", err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "4 pairs at or above --fail-on orange: sjc→ams (red: latency 1200 ms), sjc→jfk (red: latency 1200 ms), "+
		"jfk→ams (orange: latency 600 ms), jfk→sjc (orange: latency 600 ms)") {
		t.Errorf("message %q", msg)
	}
	if strings.Contains(msg, "ams→") {
		t.Errorf("a green pair is named: %q", msg)
	}
	lines := strings.Split(out, "\n")
	if !strings.Contains(lines[3], "600*") || !strings.Contains(lines[4], "1200!") || strings.ContainsAny(lines[2], "*!+") {
		t.Errorf("table rows lack the class markers:\n%s", out)
	}
}

// TestSnapshotEveryAgentDown: with not one usable agent the output still shows why, and
// the exit status is 3, so a script never reads an empty mesh as a healthy one.
func TestSnapshotEveryAgentDown(t *testing.T) {
	t.Setenv("SCOUTER_SECRET", testSecret)
	inv := writeInventory(t,
		fakeAgent{"ams", scoutertest.Config{Secret: "other"}},
		fakeAgent{"jfk", scoutertest.Config{Mode: scoutertest.Status500}},
	)
	for _, format := range []string{"table", "json"} {
		out, _, err := runCLI(t, "snapshot", "--inventory", inv, "--format", format)
		var ee exitError
		if !errors.As(err, &ee) || ee.code != 3 || !strings.Contains(err.Error(), "every agent is down (2 of 2)") {
			t.Errorf("%s: err %v, want exit 3 saying every agent is down", format, err)
		}
		if !strings.Contains(out, "auth_failed") {
			t.Errorf("%s: output does not say why:\n%s", format, out)
		}
	}
	// One agent up is not "every agent down".
	inv = writeInventory(t, fakeAgent{"ams", scoutertest.Config{RTT: fixedRTT(20)}}, fakeAgent{"jfk", scoutertest.Config{Secret: "other"}})
	if _, _, err := runCLI(t, "snapshot", "--inventory", inv); err != nil {
		t.Errorf("one agent up: %v", err)
	}
}

// TestSnapshotFailOnLoss: a fast pair losing 60 % is red under health (the default) and
// --fail-on red names it and its loss; the latency table marks the loss it would hide.
func TestSnapshotFailOnLoss(t *testing.T) {
	t.Setenv("SCOUTER_SECRET", testSecret)
	lossy := func(string, int) []float64 { return []float64{11, -1, -1, 11, -1} } // 60 % at 11 ms
	inv := writeInventory(t,
		fakeAgent{"lon", scoutertest.Config{RTT: lossy}},
		fakeAgent{"nyc", scoutertest.Config{RTT: fixedRTT(11)}},
	)
	out, _, err := runCLI(t, "snapshot", "--inventory", inv, "--fail-on", "red")
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("err %v, want exit 2\n%s", err, out)
	}
	if msg := err.Error(); msg != "1 pair at or above --fail-on red: lon→nyc (red: loss 60 %)" {
		t.Errorf("message %q", msg)
	}
	if lines := strings.Split(out, "\n"); !strings.Contains(lines[2], "60%!") || !strings.Contains(lines[3], "11") {
		t.Errorf("health table:\n%s", out)
	}
	// The latency view would pass it: the table marks the loss, the legend says so.
	out, _, err = runCLI(t, "snapshot", "--inventory", inv, "--metric", "latency", "--fail-on", "red")
	if err != nil {
		t.Fatalf("latency alone: %v", err)
	}
	if lines := strings.Split(out, "\n"); !strings.Contains(lines[2], "11 ~") || !strings.Contains(out, "~ loses 2 % or more") {
		t.Errorf("latency table does not mark the loss:\n%s", out)
	}
	// JSON says what decided the class.
	out, _, err = runCLI(t, "snapshot", "--inventory", inv, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"class": "red",
      "decided_by": "loss"`) {
		t.Errorf("json:\n%s", out)
	}
}
