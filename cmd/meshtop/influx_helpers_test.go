package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/influx/influxtest"
)

// metricsDB starts a real influxd with the workshop's database, and a context for the
// test's calls to it (cancelled when the test ends).
func metricsDB(t *testing.T, timeout time.Duration) (*influxtest.Server, context.Context) {
	t.Helper()
	srv := influxtest.Start(t, influxtest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	if err := srv.CreateDatabase(ctx, "metricsdb"); err != nil {
		t.Fatal(err)
	}
	return srv, ctx
}

// meshLines are minutes of tests of every pair of pops in the workshop's schema, the
// newest one minute before end; rtt gives a test's latency (ms) by minute and pair.
func meshLines(pops []string, end time.Time, minutes int, rtt func(i, si, di int) int) string {
	var b strings.Builder
	for i := range minutes {
		at := end.Add(-time.Duration(minutes-i) * time.Minute)
		for si, s := range pops {
			for di, d := range pops {
				if s == d {
					continue
				}
				fmt.Fprintf(&b, "ping,dst=198.18.0.%d,dst_pop=%s,public_ip=203.0.113.9,src_pop=%s,src_slug=%s-1 avg_rtt_ms=%d.0,failed=\"0\",jitter_ms=1.0,jitter_pct=5.0,loss_pct=0.0 %d\n",
					di+1, d, s, s, rtt(i, si, di), at.UnixNano())
			}
		}
	}
	return b.String()
}
