package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/meshtop/meshtop/influx"
	"github.com/meshtop/meshtop/influx/influxtest"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/tui"
)

// TestHistoryUI feeds the real UI from a real influxd holding data meshtop recorded:
// the grid appears, and the drill-down shows the pair's hop path from history.
func TestHistoryUI(t *testing.T) {
	srv, ctx := metricsDB(t, 60*time.Second)
	rec, err := influx.NewRecorder(influx.RecorderConfig{Config: influx.Config{URL: srv.URL}, PublicIP: "203.0.113.9"})
	if err != nil {
		t.Fatal(err)
	}
	pops := []string{"ams", "fra", "sin"}
	start := time.Now().UTC().Add(-10 * time.Minute)
	for i := range 5 {
		at := start.Add(time.Duration(i) * time.Minute)
		sw := probe.Sweep{Time: at}
		for _, s := range pops {
			for _, d := range pops {
				if s == d {
					continue
				}
				r := mesh.PingResult{Time: at, Src: s + "-1", SrcPop: s, Dst: "198.18.7.1", DstPop: d}
				r.DerivePing(3, []float64{20, 21, 22}, -1)
				sw.Pings = append(sw.Pings, r)
				tr := mesh.TraceResult{Time: at, Src: s + "-1", SrcPop: s, Dst: "198.18.7.1", DstPop: d, Proto: "ICMP", DPort: 80,
					Hops: []mesh.Hop{{TTL: 1, Addr: "198.18.9.77", ASN: 64577, RTT: 1}, {TTL: 2, Addr: "198.18.7.1", ASN: 64578, RTT: 20}}}
				tr.DeriveTrace()
				sw.Traces = append(sw.Traces, tr)
			}
		}
		rec.Record(sw)
	}
	if err := rec.Close(ctx); err != nil {
		t.Fatal(err)
	}

	o := &influxOptions{url: srv.URL, db: "metricsdb", window: time.Hour, timeout: 10 * time.Second}
	r, err := o.reader()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Check(ctx); err != nil {
		t.Fatal(err)
	}
	tm := teatest.NewTestModel(t, tui.New(r, tui.Config{Window: "1h"}), teatest.WithInitialTermSize(120, 40))
	waitFor := func(what string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(what)) },
			teatest.WithDuration(15*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	}
	waitFor("sin")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyRight})
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitFor("198.18.9.77")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second))
}

func TestHistoryRefusesBadSetup(t *testing.T) {
	srv := influxtest.Start(t, influxtest.Options{})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"history", "--influx-url", srv.URL, "--influx-db", "nosuch"}, `has no database "nosuch"`},
		{[]string{"history", "--influx-url", "http://u:secretpw@127.0.0.1:1"}, "INFLUX_PASSWORD"},
		{[]string{"history", "--influx-url", srv.URL, "--window", "0s"}, "--window"},
	} {
		root := newRootCmd()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(tc.args)
		err := root.ExecuteContext(context.Background())
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "secretpw") {
			t.Errorf("%v: %v, want an error with %q", tc.args, err, tc.want)
		}
	}
}
