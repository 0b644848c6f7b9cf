package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/influx/influxtest"
)

// TestRollupNeedsAdmin: a read-only user (the one history uses) is told what rollup
// needs and where to set it, not to GRANT READ or WRITE; rollup offers only its own
// flags and says one thing about its user.
func TestRollupNeedsAdmin(t *testing.T) {
	srv := influxtest.Start(t, influxtest.Options{Auth: true})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.CreateDatabase(ctx, "metricsdb"); err != nil {
		t.Fatal(err)
	}
	if err := srv.WriteLines(ctx, "metricsdb", meshLines([]string{"ams", "fra"}, time.Now().UTC(), 3, func(int, int, int) int { return 10 })); err != nil {
		t.Fatal(err)
	}
	if err := srv.CreateUser(ctx, "grafana_ro", "ro-pw", "READ", "metricsdb"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("INFLUX_USERNAME", "grafana_ro")
	t.Setenv("INFLUX_PASSWORD", "ro-pw")
	_, _, err := runCLI(t, "rollup", "--influx-url", srv.URL)
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), "needs an admin user") || !strings.Contains(err.Error(), "INFLUX_USERNAME") ||
		strings.Contains(err.Error(), "GRANT READ or WRITE") || strings.Contains(err.Error(), "ro-pw") {
		t.Errorf("rollup as a read-only user: %v", err)
	}
	help, _, err := runCLI(t, "rollup", "--help")
	if err != nil {
		t.Fatal(err)
	}
	flags := help[strings.Index(help, "Flags:"):]
	for _, bad := range []string{"--window", "--rollup", "read-only user is enough"} {
		if strings.Contains(flags, bad) || strings.Contains(help, "read-only user is enough") {
			t.Errorf("rollup --help says %q", bad)
		}
	}
	if !strings.Contains(help, "admin user") {
		t.Errorf("rollup --help does not say it needs an admin user")
	}
}
