package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshtop/meshtop/probe/scoutertest"
)

const testSecret = "snapshot-test-secret"

// runCLI runs meshtop in-process with args and returns what it printed.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // no config file of the machine's user
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err = root.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

type fakeAgent struct {
	pop string
	cfg scoutertest.Config
}

// writeInventory starts the fake agents and writes an inventory listing them.
func writeInventory(t *testing.T, agents ...fakeAgent) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("agents:\n")
	for i, a := range agents {
		if a.cfg.Secret == "" {
			a.cfg.Secret = testSecret
		}
		s := scoutertest.New(a.cfg)
		t.Cleanup(s.Close)
		fmt.Fprintf(&b, "  - name: scouter-%s-0\n    pop: %s\n    address: 198.18.0.%d\n    url: %s\n", a.pop, a.pop, i+1, s.URL)
	}
	path := filepath.Join(t.TempDir(), "inventory.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func fixedRTT(ms float64) func(string, int) []float64 {
	return func(_ string, n int) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = ms
		}
		return out
	}
}

func TestSnapshotJSON(t *testing.T) {
	t.Setenv("SCOUTER_SECRET", testSecret)
	inv := writeInventory(t,
		fakeAgent{"ams", scoutertest.Config{RTT: fixedRTT(20)}},
		fakeAgent{"jfk", scoutertest.Config{RTT: fixedRTT(300)}},
		fakeAgent{"sjc", scoutertest.Config{RTT: fixedRTT(20)}},
	)
	out, _, err := runCLI(t, "snapshot", "--inventory", inv, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var doc snapDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if doc.Source != "live" || doc.Metric != "health" || strings.Join(doc.Pops, ",") != "ams,jfk,sjc" || len(doc.Agents) != 3 || len(doc.Cells) != 6 {
		t.Fatalf("doc %+v", doc)
	}
	for _, c := range doc.Cells {
		want := "green"
		if c.SrcPop == "jfk" {
			want = "yellow" // 300 ms >= 250
		}
		if c.Class != want || c.DecidedBy != "latency" || c.AvgRTT == nil || c.Samples != 1 || c.LossPct == nil || *c.LossPct != 0 {
			t.Errorf("cell %+v (avg %v)", c, c.AvgRTT)
		}
	}
	if strings.Contains(out, testSecret) {
		t.Error("output leaks the secret")
	}
}

func TestSnapshotFailuresAreLocal(t *testing.T) {
	t.Setenv("SCOUTER_SECRET", testSecret)
	inv := writeInventory(t,
		fakeAgent{"ams", scoutertest.Config{RTT: fixedRTT(20)}},
		fakeAgent{"jfk", scoutertest.Config{Secret: "other"}},
		fakeAgent{"sjc", scoutertest.Config{Mode: scoutertest.HTMLPage}},
		fakeAgent{"syd", scoutertest.Config{RTT: fixedRTT(20)}},
	)
	out, _, err := runCLI(t, "snapshot", "--inventory", inv, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var doc snapDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	states := map[string]agentJSON{}
	for _, a := range doc.Agents {
		states[a.Pop] = a
	}
	if a := states["jfk"]; a.State != "auth_failed" || !strings.Contains(a.Error, "scouter-jfk-0") || !strings.Contains(a.Error, "SCOUTER_SECRET") {
		t.Errorf("wrong secret: %+v", a)
	}
	if a := states["sjc"]; a.State != "error" || !strings.Contains(a.Error, "text/html") {
		t.Errorf("HTML agent: %+v", a)
	}
	for _, c := range doc.Cells {
		switch c.SrcPop {
		case "jfk", "sjc":
			if c.Class != "unreachable" {
				t.Errorf("%s->%s: %s", c.SrcPop, c.DstPop, c.Class)
			}
		default:
			if c.Class != "green" {
				t.Errorf("healthy row %s->%s: %s %s", c.SrcPop, c.DstPop, c.Class, c.Error)
			}
		}
	}
}

func TestSnapshotFailOn(t *testing.T) {
	t.Setenv("SCOUTER_SECRET", testSecret)
	inv := writeInventory(t, fakeAgent{"ams", scoutertest.Config{RTT: fixedRTT(600)}}, fakeAgent{"jfk", scoutertest.Config{RTT: fixedRTT(10)}})
	for _, tt := range []struct {
		failOn string
		exit   int
	}{{"yellow", 2}, {"orange", 2}, {"red", 0}} {
		_, _, err := runCLI(t, "snapshot", "--inventory", inv, "--fail-on", tt.failOn, "--format", "csv")
		var ee exitError
		switch {
		case tt.exit == 0 && err != nil:
			t.Errorf("--fail-on %s: %v", tt.failOn, err)
		case tt.exit != 0 && (!errors.As(err, &ee) || ee.code != tt.exit):
			t.Errorf("--fail-on %s: got %v, want exit %d", tt.failOn, err, tt.exit)
		}
	}
}

func TestSnapshotTableAndCSV(t *testing.T) {
	t.Setenv("SCOUTER_SECRET", testSecret)
	inv := writeInventory(t, fakeAgent{"ams", scoutertest.Config{RTT: fixedRTT(42)}}, fakeAgent{"jfk", scoutertest.Config{RTT: func(string, int) []float64 { return []float64{-1, -1, -1, -1, -1} }}})
	out, _, err := runCLI(t, "snapshot", "--inventory", inv)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out, "\n")
	if !strings.Contains(lines[0], "Health (last)") || !strings.Contains(lines[1], "ams") || !strings.Contains(lines[1], "jfk") {
		t.Fatalf("table header:\n%s", out)
	}
	if !strings.Contains(lines[2], "42") || !strings.Contains(lines[3], "FAIL") || strings.Contains(out, "\x1b[") {
		t.Fatalf("table rows (no colour off a terminal):\n%s", out)
	}
	out, _, err = runCLI(t, "snapshot", "--inventory", inv, "--format", "csv", "--metric", "loss")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "src_pop,dst_pop,stat,avg_rtt_ms,jitter_ms,jitter_pct,loss_pct,min_rtt_ms,max_rtt_ms,failed,samples,class,decided_by,error,newest\n") ||
		!strings.Contains(out, "\njfk,ams,last,,,,100,,,true,1,red,") || !strings.Contains(out, "\nams,jfk,last,42,0,0,0,42,42,false,1,green,loss,") {
		t.Fatalf("csv:\n%s", out)
	}
}

func TestSnapshotBadInput(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"snapshot"}, "no agents"},
		{[]string{"snapshot", "--inventory", "/nonexistent/inv.yaml"}, "inventory"},
		{[]string{"snapshot", "--inventory", "x", "--format", "xml"}, "--format"},
		{[]string{"snapshot", "--inventory", "x", "--metric", "speed"}, "--metric"},
		{[]string{"snapshot", "--inventory", "x", "--count", "50"}, "--count"},
		{[]string{"snapshot", "--inventory", "x", "--thresholds-latency", "1,2"}, "--thresholds-latency"},
		{[]string{"snapshot", "--inventory", "x", "--fail-on", "purple"}, "--fail-on"},
	} {
		_, _, err := runCLI(t, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: got %v, want an error mentioning %q", tt.args, err, tt.want)
		}
	}
}

// snapDoc is snapshot's JSON as a script reads it (under --stat last the values carry
// the workshop's names).
type snapDoc struct {
	Time   string        `json:"time"`
	Source string        `json:"source"`
	Metric string        `json:"metric"`
	Stat   string        `json:"stat"`
	Window *windowJSON   `json:"window"`
	Notes  []string      `json:"notes"`
	Pops   []string      `json:"pops"`
	Agents []agentJSON   `json:"agents"`
	Cells  []snapCellDoc `json:"cells"`
	Traces []traceJSON   `json:"traces"`
}

type snapCellDoc struct {
	SrcPop    string   `json:"src_pop"`
	DstPop    string   `json:"dst_pop"`
	Stat      string   `json:"stat"`
	AvgRTT    *float64 `json:"avg_rtt_ms"`
	JitterMs  *float64 `json:"jitter_ms"`
	JitterPct *float64 `json:"jitter_pct"`
	LossPct   *float64 `json:"loss_pct"`
	MinRTT    *float64 `json:"min_rtt_ms"`
	MaxRTT    *float64 `json:"max_rtt_ms"`
	Failed    bool     `json:"failed"`
	Samples   int      `json:"samples"`
	Class     string   `json:"class"`
	DecidedBy string   `json:"decided_by"`
	Error     string   `json:"error"`
	Newest    string   `json:"newest"`
}
