package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/influxdb1-client/models"

	"github.com/meshtop/meshtop/influx"
	"github.com/meshtop/meshtop/influx/influxtest"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/probe/scoutertest"
)

func collectAgents(t *testing.T) []mesh.Agent {
	t.Helper()
	var agents []mesh.Agent
	for i, pop := range []string{"ams", "fra", "sin"} {
		s := scoutertest.New(scoutertest.Config{Secret: "collect-secret", EchoIDs: true})
		t.Cleanup(s.Close)
		agents = append(agents, mesh.Agent{Name: pop + "-1", Pop: pop, Address: fmt.Sprintf("198.18.0.%d", i+1), URL: s.URL})
	}
	return agents
}

func TestCollectLinesFitWorkshopDB(t *testing.T) {
	agents := collectAgents(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	o := &collectOptions{probe: probeOptions{count: 2, maxTests: 10, traceProto: "ICMP"}, publicIP: "203.0.113.9"}
	var stderr bytes.Buffer
	lines, err := collectLines(ctx, o, agents, "collect-secret", influx.WorkshopSchema(), probe.KindPing|probe.KindTraceroute, &stderr)
	if err != nil {
		t.Fatalf("%v (stderr %s)", err, stderr.String())
	}
	pts, err := models.ParsePointsString(string(lines))
	if err != nil {
		t.Fatalf("output is not line protocol: %v\n%s", err, lines)
	}
	count := map[string]int{}
	stamp := pts[0].UnixNano()
	for _, p := range pts {
		count[string(p.Name())]++
		if p.UnixNano() != stamp {
			t.Errorf("points of one sweep carry different timestamps: %d and %d", stamp, p.UnixNano())
		}
		fields, _ := p.Fields()
		if _, ok := fields["failed"].(string); !ok {
			t.Errorf("%s failed = %#v, want the workshop's string", p.Name(), fields["failed"])
		}
		if string(p.Name()) == "ping" {
			if _, ok := fields["avg_rtt_ms"].(float64); !ok {
				t.Errorf("avg_rtt_ms = %#v, want a float (no converter needed)", fields["avg_rtt_ms"])
			}
			if p.Tags().GetString("public_ip") != "203.0.113.9" || p.Tags().GetString("dst_pop") == "" {
				t.Errorf("tags = %v", p.Tags())
			}
		} else if _, ok := fields["final_hop_ttl"].(int64); !ok {
			t.Errorf("final_hop_ttl = %#v, want an integer", fields["final_hop_ttl"])
		}
	}
	if count["ping"] != 6 || count["traceroute"] != 6 {
		t.Fatalf("points = %v, want 6 ping and 6 traceroute", count)
	}

	// What Telegraf would do with it: write it into a database the workshop filled.
	srv := influxtest.Start(t, influxtest.Options{})
	if err := srv.CreateDatabase(ctx, "metricsdb"); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour).UnixNano()
	workshop := fmt.Sprintf("ping,dst=198.18.0.2,dst_pop=fra,public_ip=203.0.113.9,src_pop=ams,src_slug=ams-1 avg_rtt_ms=12.5,failed=\"0\",jitter_ms=0.5,jitter_pct=4.0,loss_pct=0.0,probe_0_rtt_ms=12.0 %d\n"+
		"traceroute,dport=80,dst=198.18.0.2,dst_pop=fra,proto=ICMP,public_ip=203.0.113.9,src_pop=ams,src_slug=ams-1 as_path=\"64511 *\",failed=\"0\",final_hop_rtt_ms=12.0,final_hop_ttl=2i %d\n", old, old)
	if err := srv.WriteLines(ctx, "metricsdb", workshop); err != nil {
		t.Fatal(err)
	}
	if err := srv.WriteLines(ctx, "metricsdb", string(lines)); err != nil {
		t.Fatalf("workshop database refused collect's output: %v", err)
	}
	// --types numeric is for new databases only: the workshop's keeps failed a string.
	numeric, err := collectLines(ctx, o, agents, "collect-secret", influx.NumericSchema(), probe.KindPing, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(numeric), "failed=0i") {
		t.Errorf("numeric output lacks failed=0i:\n%s", numeric)
	}
	if err := srv.WriteLines(ctx, "metricsdb", string(numeric)); err == nil || !strings.Contains(err.Error(), "field type conflict") {
		t.Errorf("numeric types into a workshop database: %v, want a field type conflict", err)
	}
}

func TestCollectRefusesSecretFlags(t *testing.T) {
	for _, o := range []*collectOptions{{clientSecret: "abc"}, {scouterSecret: "abc"}} {
		err := runCollect(context.Background(), o, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "SP_API_CLIENT_SECRET") || strings.Contains(err.Error(), "abc") {
			t.Errorf("runCollect with a secret flag = %v", err)
		}
	}
}

func TestCollectDeadAgents(t *testing.T) {
	agents := []mesh.Agent{{Name: "ams-1", Pop: "ams", Address: "198.18.0.1", URL: "http://127.0.0.1:1"},
		{Name: "fra-1", Pop: "fra", Address: "198.18.0.2", URL: "http://127.0.0.1:1"}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	o := &collectOptions{probe: probeOptions{count: 1, maxTests: 10, traceProto: "ICMP"}}
	_, err := collectLines(ctx, o, agents, "", influx.WorkshopSchema(), probe.KindPing, &stderr)
	if err == nil || !strings.Contains(err.Error(), "no result") {
		t.Errorf("all agents dead: %v", err)
	}
	if !strings.Contains(stderr.String(), "ams-1") || !strings.Contains(stderr.String(), "unreachable") {
		t.Errorf("stderr does not name the dead agents: %q", stderr.String())
	}
}

func TestCollectTargets(t *testing.T) {
	agents := []mesh.Agent{{Name: "ams-1", Pop: "ams", Address: "198.18.0.1"}, {Name: "fra-1", Pop: "fra", Address: "198.18.0.2"},
		{Name: "sin-1", Pop: "sin", Address: "198.18.0.3"}}
	names := func(as []mesh.Agent) string {
		var s []string
		for _, a := range as {
			s = append(s, a.Name+"@"+a.Pop)
		}
		return strings.Join(s, ",")
	}
	for _, tc := range []struct {
		dsts, pops []string
		want, err  string
	}{
		{nil, nil, "", ""},
		{nil, []string{"FRA", " sin"}, "fra-1@fra,sin-1@sin", ""},
		{[]string{"198.18.0.2", "203.0.113.7"}, nil, "fra-1@fra,203.0.113.7@Unknown", ""},
		{[]string{"198.18.0.2", "203.0.113.7"}, []string{"fra"}, "fra-1@fra", ""},
		{nil, []string{"nowhere"}, "", "no destination"},
	} {
		got, err := collectTargets(agents, tc.dsts, tc.pops)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v %v: err %v, want %q", tc.dsts, tc.pops, err, tc.err)
			}
			continue
		}
		if err != nil || names(got) != tc.want {
			t.Errorf("%v %v = %q, %v; want %q", tc.dsts, tc.pops, names(got), err, tc.want)
		}
	}
}

// TestCollectCommand runs `meshtop collect` as Telegraf would: flags from the workshop's
// script, secret in the environment, line protocol on stdout.
func TestCollectCommand(t *testing.T) {
	agents := collectAgents(t)
	inv := "agents:\n"
	for _, a := range agents {
		inv += fmt.Sprintf("  - name: %s\n    pop: %s\n    address: %s\n    url: %s\n", a.Name, a.Pop, a.Address, a.URL)
	}
	file := t.TempDir() + "/agents.yaml"
	if err := os.WriteFile(file, []byte(inv), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SCOUTER_SECRET", "collect-secret")
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs([]string{"collect", "--inventory", file, "--utility", "ping", "--count", "2", "--dst-pops", "fra,sin", "--public-ip", "203.0.113.9"})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("%v (stderr %s)", err, errOut.String())
	}
	pts, err := models.ParsePointsString(out.String())
	if err != nil {
		t.Fatalf("stdout is not line protocol: %v\n%s", err, out.String())
	}
	// ams→fra, ams→sin, fra→sin, sin→fra.
	if len(pts) != 4 {
		t.Fatalf("%d points, want 4:\n%s", len(pts), out.String())
	}
	for _, p := range pts {
		if dst := p.Tags().GetString("dst_pop"); dst != "fra" && dst != "sin" {
			t.Errorf("dst_pop %q outside --dst-pops", dst)
		}
	}
}
