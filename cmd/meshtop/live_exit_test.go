package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLiveExitsNonZeroAfterLosingPoints: issue 23 item 9. live quit while recording
// fails (here InfluxDB refuses the credentials) said "points not written" and exited
// 0: the flush's error was dropped for the cancelled context. However it is quit — q,
// ctrl+c, SIGTERM — the status is now non-zero and the reason printed.
func TestLiveExitsNonZeroAfterLosingPoints(t *testing.T) {
	bin := buildBinary(t)
	inv := liveFleet(t)
	influxd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Influxdb-Version", "1.6.7")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"authorization failed"}`))
	}))
	t.Cleanup(influxd.Close)
	for _, quit := range []string{"q", "C-c", "SIGTERM"} {
		t.Run(quit, func(t *testing.T) {
			cmd := fmt.Sprintf("env SCOUTER_SECRET=%s INFLUX_USERNAME=u INFLUX_PASSWORD=wrong XDG_CONFIG_HOME=%s %s live --inventory %s --interval 2s --traceroute-interval 0 --count 1 --record %s; e=$?; echo meshtop-exit=$e; sleep 60",
				testSecret, t.TempDir(), bin, inv, influxd.URL)
			s := newTmux(t, 100, 30, cmd)
			// A sweep is in (syd's row has values) and the recorder has failed: the status
			// bar puts the recorder's error first and may cut "last sweep" off at 100
			// columns, so that is not what to wait for.
			s.waitFor("src\\dst", "syd", "420", "rec")
			if quit == "SIGTERM" {
				// The pane's shell runs meshtop as its only child: signal that PID.
				shell := strings.TrimSpace(s.run("display-message", "-p", "-t", "mt", "#{pane_pid}"))
				out, err := exec.Command("pgrep", "-P", shell).Output()
				pid, perr := strconv.Atoi(strings.TrimSpace(string(out)))
				if err != nil || perr != nil {
					t.Fatalf("meshtop's pid under shell %s: %q %v", shell, out, err)
				}
				if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
			} else {
				s.keys(quit)
			}
			deadline := time.Now().Add(30 * time.Second)
			for {
				scr := s.screen()
				if strings.Contains(scr, "meshtop-exit=") {
					if !strings.Contains(scr, "meshtop-exit=1") || !strings.Contains(scr, "points not written") {
						t.Fatalf("quit with %s:\n%s", quit, scr)
					}
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("meshtop did not exit on %s:\n%s", quit, scr)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}
