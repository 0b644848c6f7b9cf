package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/influxdb1-client/models"

	"github.com/meshtop/meshtop/probe/scoutertest"
)

// TestCollectDeadline: issue 23 item 5. With one agent that never finishes among
// healthy ones, collect ran 80 s and Telegraf, killing it at its timeout, got nothing.
// Now the first lines reach stdout while it still runs (as each batch finishes), and at
// --deadline it prints what it has, names what it left out on stderr and exits 0.
func TestCollectDeadline(t *testing.T) {
	bin := buildBinary(t)
	inv := writeInventory(t,
		fakeAgent{"ams", scoutertest.Config{RTT: fixedRTT(20)}},
		fakeAgent{"fra", scoutertest.Config{RTT: fixedRTT(30)}},
		fakeAgent{"jfk", scoutertest.Config{RTT: fixedRTT(90)}},
		fakeAgent{"stuck", scoutertest.Config{RTT: fixedRTT(1), TestDuration: time.Hour}},
	)
	cmd := exec.Command(bin, "collect", "--inventory", inv, "--count", "1", "--deadline", "4s", "--public-ip", "203.0.113.9")
	cmd.Env = append(os.Environ(), "SCOUTER_SECRET="+testSecret, "XDG_CONFIG_HOME="+t.TempDir())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	sc := bufio.NewScanner(stdout)
	var lines []string
	if sc.Scan() {
		lines = append(lines, sc.Text())
	}
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		t.Fatalf("the first line came only as collect exited (%v): results must be printed as batches finish", err)
	default:
	}
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := <-exited; err != nil {
		t.Fatalf("collect: %v\n%s", err, stderr.String())
	}
	t.Logf("collect with --deadline 4s exited after %s", time.Since(start).Round(10*time.Millisecond))
	pts, err := models.ParsePointsString(strings.Join(lines, "\n"))
	if err != nil {
		t.Fatalf("stdout is not line protocol: %v", err)
	}
	// 3 healthy sources x 3 destinations; stuck's 3 tests are left out.
	if len(pts) != 9 {
		t.Errorf("%d points, want 9:\n%s", len(pts), strings.Join(lines, "\n"))
	}
	for _, p := range pts {
		if p.Tags().GetString("src_pop") == "stuck" {
			t.Errorf("a point from the stuck agent: %s", p)
		}
	}
	if e := stderr.String(); !strings.Contains(e, "--deadline 4s reached: printed 9 results, left out 3 tests not finished by then: scouter-stuck-0 (stuck): 3") {
		t.Errorf("stderr does not say what was left out:\n%s", e)
	}
}
