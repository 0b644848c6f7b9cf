package influx

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/influx/influxtest"
)

// TestRecordWrongPasswordSmallBuffer: with a wrong password and a buffer too small for
// the backlog, the status keeps the cause (the 401, naming the settings used) next to
// the drop, and a flush at exit gives up at once on the 401 instead of waiting out its
// deadline.
func TestRecordWrongPasswordSmallBuffer(t *testing.T) {
	s, _ := testDB(t, true)
	rec, err := NewRecorder(RecorderConfig{Config: Config{URL: s.URL, Username: influxtest.AdminUser, Password: "wrong-pw-xyz",
		CredentialEnv: "INFLUX_RECORD_USERNAME and INFLUX_RECORD_PASSWORD"},
		Buffer: 6, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	rec.Record(testSweep(now, []string{"ams", "fra"}, 0))
	deadline := time.Now().Add(10 * time.Second)
	for rec.WriteErr() == nil {
		if time.Now().After(deadline) {
			t.Fatal("no write error for a wrong password")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for i := 1; i < 4; i++ {
		rec.Record(testSweep(now.Add(time.Duration(i)*time.Minute), []string{"ams", "fra"}, i))
	}
	_, dropped, last := rec.Status()
	if dropped == 0 || last == nil {
		t.Fatalf("dropped %d, last %v", dropped, last)
	}
	for _, want := range []string{"dropped", "401", "INFLUX_RECORD_USERNAME"} {
		if !strings.Contains(last.Error(), want) {
			t.Errorf("status error %q lacks %q", last, want)
		}
	}
	if strings.Contains(last.Error(), "wrong-pw-xyz") {
		t.Error("the password is in the error")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = rec.Close(ctx)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("Close = %v, want the 401", err)
	}
	if ctx.Err() != nil {
		t.Error("Close waited for its deadline on a permanent 401")
	}
}

// TestNotAnInfluxDBAnswer: a URL that is some other web server gets "not an InfluxDB
// answer" with a short sanitised excerpt, never the page.
func TestNotAnInfluxDBAnswer(t *testing.T) {
	page := "<!DOCTYPE html><html><head><title>Router login</title><style>body{color:red}</style></head><body>" +
		"<h1>Welcome \x1b]0;pwned\x07to the router</h1>" + strings.Repeat("<p>lorem ipsum dolor</p>", 500) + "</body></html>"
	for _, status := range []int{http.StatusOK, http.StatusNotFound, http.StatusUnauthorized} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(page))
		}))
		r, err := NewReader(Config{URL: srv.URL}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Matrix(context.Background())
		srv.Close()
		if err == nil {
			t.Fatalf("HTTP %d: no error", status)
		}
		msg := err.Error()
		if !strings.Contains(msg, "not an InfluxDB answer") || !strings.Contains(msg, "Router login") {
			t.Errorf("HTTP %d: %q", status, msg)
		}
		if strings.ContainsAny(msg, "\x1b\x07<") || len(msg) > 400 {
			t.Errorf("HTTP %d: raw page in the error (%d bytes): %q", status, len(msg), msg)
		}
	}
}

// TestInfluxTextSanitised: error text and tag values from InfluxDB reach the screen
// without control characters.
func TestInfluxTextSanitised(t *testing.T) {
	s, cfg := testDB(t, false)
	end := time.Now().UTC().Truncate(time.Minute)
	line := "ping,dst=198.18.0.2,dst_pop=fr\\ a\x1b[2J,src_pop=ams,src_slug=ams-1 avg_rtt_ms=7.0,failed=\"0\",jitter_ms=1.0,jitter_pct=14.0,loss_pct=0.0 " + itoa(end.Add(-time.Minute)) + "\n"
	if err := s.WriteLines(context.Background(), DefaultDatabase, line); err != nil {
		t.Fatal(err)
	}
	r, _ := NewReader(cfg, time.Hour)
	r.SetEnd(end)
	m, err := r.Matrix(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Pops {
		if strings.ContainsAny(p, "\x1b") {
			t.Errorf("PoP %q reaches the screen raw", p)
		}
	}
	if len(m.Pops) != 2 {
		t.Errorf("pops %q", m.Pops)
	}
}
