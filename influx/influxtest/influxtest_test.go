package influxtest

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestAuthUsers(t *testing.T) {
	s := Start(t, Options{Auth: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.CreateDatabase(ctx, "metricsdb"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, "grafana_ro", "ro-pw", "READ", "metricsdb"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, "telegraf_wo", "wo-pw", "WRITE", "metricsdb"); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteLines(ctx, "metricsdb", "ping,src_pop=ams loss_pct=0 1\n"); err != nil {
		t.Fatal(err)
	}
	// Appendix B answers, as the users see them.
	if err := s.query(ctx, "metricsdb", "grafana_ro", "ro-pw", "SELECT * FROM ping"); err != nil {
		t.Errorf("read-only user cannot read: %v", err)
	}
	if err := s.query(ctx, "metricsdb", "telegraf_wo", "wo-pw", "SHOW FIELD KEYS"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("write-only user querying: %v, want 403", err)
	}
	if err := s.query(ctx, "metricsdb", "", "", "SHOW DATABASES"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("no credentials: %v, want 401", err)
	}
}

func TestStopRestart(t *testing.T) {
	s := Start(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.CreateDatabase(ctx, "db"); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteLines(ctx, "db", "m v=1 1\n"); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteLines(ctx, "db", "m v=2 2\n"); err == nil {
		t.Fatal("write to a stopped server succeeded")
	}
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteLines(ctx, "db", "m v=2 2\n"); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if err := s.Exec(ctx, "db", "SELECT v FROM m"); err != nil {
		t.Fatal(err)
	}
}
