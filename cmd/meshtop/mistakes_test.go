package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/meshtop/meshtop/influx/influxtest"
	"github.com/meshtop/meshtop/probe/scoutertest"
)

// TestMistakeMessages: the mistakes operators make, each through the real command (real
// agents over HTTP, a real influxd with authentication), and the message it gets: what
// happened and the exact fix, never advice that points the wrong way.
func TestMistakeMessages(t *testing.T) {
	srv := influxtest.Start(t, influxtest.Options{Auth: true})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, db := range []string{"metricsdb", "otherdb"} {
		if err := srv.CreateDatabase(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.CreateUser(ctx, "grafana_ro", "ro-pw", "READ", "metricsdb"); err != nil {
		t.Fatal(err)
	}
	if err := srv.CreateUser(ctx, "rec_wo", "wo-pw", "WRITE", "metricsdb"); err != nil {
		t.Fatal(err)
	}
	two := writeInventory(t, fakeAgent{"ams", scoutertest.Config{RTT: fixedRTT(20)}}, fakeAgent{"fra", scoutertest.Config{RTT: fixedRTT(25)}})
	one := writeInventory(t, fakeAgent{"ams", scoutertest.Config{RTT: fixedRTT(20)}})
	admin := map[string]string{"INFLUX_USERNAME": influxtest.AdminUser, "INFLUX_PASSWORD": influxtest.AdminPassword}
	reader := map[string]string{"INFLUX_USERNAME": "grafana_ro", "INFLUX_PASSWORD": "ro-pw"}
	for _, tc := range []struct {
		mistake string
		env     map[string]string
		args    []string
		want    []string // every one in the message
		not     []string // none of these
	}{
		{
			mistake: "no secret set at all",
			env:     map[string]string{"SCOUTER_SECRET": ""},
			args:    []string{"snapshot", "--inventory", two},
			want:    []string{"no secret is set", "set SCOUTER_SECRET or --scouter-secret-file FILE", "SCOUTER_API_SECRET"},
			not:     []string{"refused the secret"},
		},
		{
			mistake: "a wrong secret",
			env:     map[string]string{"SCOUTER_SECRET": "not-the-secret"},
			args:    []string{"snapshot", "--inventory", two},
			want:    []string{"the agent refused the secret (HTTP 403)", "set SCOUTER_SECRET"},
			not:     []string{"no secret is set", "not-the-secret"},
		},
		{
			mistake: "--influx-db nosuchdb (history, admin)",
			env:     admin,
			args:    []string{"history", "--influx-url", srv.URL, "--influx-db", "nosuchdb"},
			want:    []string{`has no database "nosuchdb"`, "set --influx-db to one of: metricsdb, otherdb", `CREATE DATABASE "nosuchdb"`},
			not:     []string{"GRANT"},
		},
		{
			mistake: "--influx-db nosuchdb (snapshot, read-only user)",
			env:     reader,
			args:    []string{"snapshot", "--source", "influx", "--influx-url", srv.URL, "--influx-db", "nosuchdb"},
			want:    []string{`no database "nosuchdb" among those user "grafana_ro" may read`, "set --influx-db to one of: metricsdb"},
			not:     []string{"the user lacks the privilege", "otherdb"},
		},
		{
			mistake: "--influx-db nosuchdb (snapshot, admin)",
			env:     admin,
			args:    []string{"snapshot", "--source", "influx", "--influx-url", srv.URL, "--influx-db", "nosuchdb"},
			want:    []string{`has no database "nosuchdb"`, "set --influx-db to one of: metricsdb, otherdb"},
			not:     []string{"GRANT"},
		},
		{
			mistake: "--record-db nosuchdb (a write-only user)",
			env:     map[string]string{"SCOUTER_SECRET": testSecret, "INFLUX_RECORD_USERNAME": "rec_wo", "INFLUX_RECORD_PASSWORD": "wo-pw"},
			args:    []string{"snapshot", "--inventory", two, "--record", srv.URL, "--record-db", "nosuchdb"},
			want:    []string{`has no database "nosuchdb"`, "set --record-db to one of: metricsdb"},
			not:     []string{"the user lacks the privilege", "otherdb"},
		},
		{
			mistake: "a one-agent inventory",
			env:     map[string]string{"SCOUTER_SECRET": testSecret},
			args:    []string{"snapshot", "--inventory", one},
			want:    []string{"a mesh needs at least two agents", "one agent (scouter-ams-0 in ams)", "add another agent"},
		},
		{
			mistake: "a one-agent inventory (live)",
			env:     map[string]string{"SCOUTER_SECRET": testSecret},
			args:    []string{"live", "--inventory", one},
			want:    []string{"a mesh needs at least two agents"},
		},
	} {
		t.Run(tc.mistake, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			out, errOut, err := runCLI(t, tc.args...)
			if err == nil {
				t.Fatalf("%v succeeded (exit 0); output:\n%s%s", tc.args, out, errOut)
			}
			msg := err.Error() + "\n" + out + errOut
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message lacks %q:\n%s", w, msg)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(msg, n) {
					t.Errorf("message says %q:\n%s", n, msg)
				}
			}
			if strings.Contains(msg, "pw") && !strings.Contains(strings.Join(tc.args, " "), "pw") {
				t.Errorf("a password in the message:\n%s", msg)
			}
		})
	}
}

// TestMistakeMessageOnANarrowStatusLine: the real binary in tmux at 40x12 without a
// secret: the status line is cut keeping who and what to do, and points to the help,
// which has the whole message.
func TestMistakeMessageOnANarrowStatusLine(t *testing.T) {
	bin := buildBinary(t)
	inv := writeInventory(t, fakeAgent{"ams", scoutertest.Config{RTT: fixedRTT(20)}}, fakeAgent{"fra", scoutertest.Config{RTT: fixedRTT(25)}})
	cmd := fmt.Sprintf("env NO_COLOR=1 SCOUTER_SECRET= XDG_CONFIG_HOME=%s %s live --inventory %s --interval 2s --count 1; e=$?; echo meshtop-exit=$e; exit $e",
		t.TempDir(), bin, inv)
	s := newTmux(t, 40, 12, cmd)
	scr := s.waitFor("src\\dst", "set SCOUTER_SECRET", "? help")
	for i, l := range strings.Split(scr, "\n") {
		if w := ansi.StringWidth(l); w > 40 {
			t.Errorf("line %d is %d wide: %q", i, w, l)
		}
	}
	s.keys("?")
	// The help wraps the whole message; join its lines to read it.
	deadline := time.Now().Add(20 * time.Second)
	for {
		whole := strings.Join(strings.Fields(s.screen()), " ")
		if strings.Contains(whole, "no secret is set") && strings.Contains(whole, "--scouter-secret-file FILE") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the help does not have the whole message:\n%s", s.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.keys("q")
	s.waitQuit(bin)
}
