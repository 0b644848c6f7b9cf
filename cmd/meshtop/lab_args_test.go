//go:build linux

package main

import (
	"slices"
	"strings"
	"testing"
)

// TestLabPassesLiveFlags is issue 12 item 10: `meshtop lab` takes the live flags and
// hands them to the live grid, with demo intervals unless others are given.
func TestLabPassesLiveFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
		not  []string
	}{
		{nil, []string{"--interval=10s", "--traceroute-interval=15s"}, []string{"--count"}},
		{[]string{"--interval", "30s", "--count", "10", "--metric", "loss", "--thresholds-latency", "100,200,300", "--no-scenario"},
			[]string{"--interval=30s", "--traceroute-interval=15s", "--count=10", "--metric=loss", "--thresholds-latency=100,200,300"},
			[]string{"--interval=10s", "--no-scenario", "--reply-wait"}},
		{[]string{"--traceroute-interval", "0s", "--record", "http://127.0.0.1:8086", "--reply-wait", "5s"},
			[]string{"--traceroute-interval=0s", "--record=http://127.0.0.1:8086", "--interval=10s"}, []string{"--reply-wait=5s"}},
	} {
		cmd := newLabCmd()
		if err := cmd.ParseFlags(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		got := liveArgs(cmd.Flags(), "/run/meshtop-lab/demo/inventory.yaml")
		if !slices.Equal(got[:3], []string{"live", "--inventory", "/run/meshtop-lab/demo/inventory.yaml"}) {
			t.Errorf("%v: live args %v", tc.args, got)
		}
		joined := strings.Join(got, " ")
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("%v: live args %q lack %s", tc.args, joined, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(joined, n) {
				t.Errorf("%v: live args %q carry %s", tc.args, joined, n)
			}
		}
	}
}
