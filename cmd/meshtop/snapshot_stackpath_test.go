package main

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/meshtop/meshtop/probe/scoutertest"
	"github.com/meshtop/meshtop/stackpath/spfake"
)

// stackpathFleet starts fake agents on 127.0.0.2, .3, .4 sharing one port (discovered
// agents are reached at http://ADDRESS:--scouter-port) and a fake StackPath listing them,
// plus a stopped instance that must not be probed.
func stackpathFleet(t *testing.T) (*spfake.Server, int) {
	t.Helper()
	var port int
	var servers []*scoutertest.Server
	// Find a port free on all three addresses; retry a few times on a collision.
	for try := 0; try < 10 && len(servers) < 3; try++ {
		for _, s := range servers {
			s.Close()
		}
		servers = nil
		l, err := net.Listen("tcp", "127.0.0.2:0")
		if err != nil {
			t.Skipf("no 127.0.0.2 on this machine: %v", err)
		}
		port = l.Addr().(*net.TCPAddr).Port
		l.Close()
		for i := 2; i <= 4; i++ {
			s, err := scoutertest.Start(scoutertest.Config{Secret: testSecret, Addr: fmt.Sprintf("127.0.0.%d:%d", i, port), RTT: fixedRTT(30)})
			if err != nil {
				break
			}
			servers = append(servers, s)
		}
	}
	if len(servers) < 3 {
		t.Fatal("no common free port on 127.0.0.2-4")
	}
	for _, s := range servers {
		t.Cleanup(s.Close)
	}
	var inst []spfake.Instance
	for i, city := range []string{"AMS", "JFK", "SJC"} {
		inst = append(inst, spfake.Instance{Name: "scouter-" + strings.ToLower(city) + "-0", Phase: "RUNNING",
			ExternalIPAddress: fmt.Sprintf("127.0.0.%d", i+2), Location: spfake.Location{CityCode: city}})
	}
	inst = append(inst, spfake.Instance{Name: "scouter-fra-0", Phase: "STOPPED", ExternalIPAddress: "127.0.0.9", Location: spfake.Location{CityCode: "FRA"}})
	sp := spfake.New(spfake.Config{Instances: inst, MaxPageSize: 2})
	t.Cleanup(sp.Close)
	t.Setenv("SP_API_CLIENT_ID", spfake.DefaultClientID)
	t.Setenv("SP_API_CLIENT_SECRET", spfake.DefaultClientSecret)
	t.Setenv("SP_STACK_ID", spfake.DefaultStackID)
	t.Setenv("SCOUTER_WORKLOAD_ID", spfake.DefaultWorkloadID)
	t.Setenv("SCOUTER_SECRET", testSecret)
	return sp, port
}

func TestSnapshotFromStackPath(t *testing.T) {
	sp, port := stackpathFleet(t)
	out, _, err := runCLI(t, "snapshot", "--stackpath-url", sp.URL, "--scouter-port", fmt.Sprint(port), "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var doc snapDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if strings.Join(doc.Pops, ",") != "ams,jfk,sjc" || len(doc.Cells) != 6 {
		t.Fatalf("pops %v cells %d", doc.Pops, len(doc.Cells))
	}
	for _, c := range doc.Cells {
		if c.Class != "green" || c.AvgRTT == nil || *c.AvgRTT != 30 {
			t.Errorf("cell %+v", c)
		}
	}
	if sp.PagesServed() < 2 {
		t.Errorf("listing was not paginated: %d pages", sp.PagesServed())
	}
}

func TestSnapshotStackPathOutage(t *testing.T) {
	sp, port := stackpathFleet(t)
	sp.AddInstanceFaults(spfake.Repeat(10, spfake.Fault{Status: 503, RetryAfter: "0"})...)
	_, _, err := runCLI(t, "snapshot", "--stackpath-url", sp.URL, "--scouter-port", fmt.Sprint(port))
	if err == nil {
		t.Fatal("snapshot succeeded during a StackPath outage")
	}
	msg := err.Error()
	if !strings.Contains(msg, "stackpath") || !strings.Contains(msg, "503") || strings.Contains(msg, "\n") || strings.Contains(msg, spfake.DefaultClientSecret) {
		t.Fatalf("error %q: want one line naming StackPath and the status, without the secret", msg)
	}
}
