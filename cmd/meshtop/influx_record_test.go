package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/meshtop/meshtop/influx"
	"github.com/meshtop/meshtop/influx/influxtest"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
)

func TestRecordFlags(t *testing.T) {
	parse := func(args ...string) (*recordOptions, error) {
		o := &recordOptions{}
		cmd := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return nil }}
		addRecordFlags(cmd, o)
		cmd.SetArgs(args)
		return o, cmd.Execute()
	}
	o, err := parse()
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := o.recorder(context.Background()); rec != nil || err != nil {
		t.Errorf("no --record: %v, %v; want nil, nil", rec, err)
	}
	o, _ = parse("--record", "http://meshtop:hunter2@127.0.0.1:8086")
	if _, err := o.recorder(context.Background()); err == nil || !strings.Contains(err.Error(), "INFLUX_PASSWORD") ||
		strings.Contains(err.Error(), "hunter2") {
		t.Errorf("password in --record URL: %v", err)
	}
	o, _ = parse("--record", "http://127.0.0.1:8086", "--record-buffer", "0")
	if _, err := o.recorder(context.Background()); err == nil || !strings.Contains(err.Error(), "--record-buffer") {
		t.Errorf("--record-buffer 0: %v", err)
	}
}

func TestRecordFlagsWriteWithEnvUser(t *testing.T) {
	srv := influxtest.Start(t, influxtest.Options{Auth: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.CreateDatabase(ctx, "metricsdb"); err != nil {
		t.Fatal(err)
	}
	if err := srv.CreateUser(ctx, "rec_wo", "rec-pw", "WRITE", "metricsdb"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("INFLUX_USERNAME", "someone_else")
	t.Setenv("INFLUX_PASSWORD", "other")
	t.Setenv("INFLUX_RECORD_USERNAME", "rec_wo")
	t.Setenv("INFLUX_RECORD_PASSWORD", "rec-pw")
	o := &recordOptions{url: srv.URL, db: "metricsdb", buffer: 100, publicIP: "203.0.113.9"}
	rec, err := o.recorder(ctx)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Add(-time.Minute)
	r := mesh.PingResult{Time: at, Src: "ams-1", SrcPop: "ams", Dst: "198.18.0.2", DstPop: "fra"}
	r.DerivePing(3, []float64{5, 6, 7}, -1)
	rec.Record(probe.Sweep{Time: at, Pings: []mesh.PingResult{r}})
	if err := rec.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if backlog, dropped, err := rec.Status(); backlog != 0 || dropped != 0 || err != nil {
		t.Fatalf("status %d %d %v", backlog, dropped, err)
	}
	reader, err := influx.NewReader(influx.Config{URL: srv.URL, Username: influxtest.AdminUser, Password: influxtest.AdminPassword}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	m, err := reader.Matrix(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Cell("ams", "fra"); c == nil || c.Values[mesh.Latency][mesh.Last] != 6 {
		t.Errorf("recorded cell = %+v", c)
	}
}

// TestRecordWrongPasswordExitsNonZero: `live --record` / `snapshot --record` with a
// wrong password and a small buffer: the flush at exit fails at once with the 401 (which
// names the INFLUX_RECORD_* settings actually used) and the dropped points, so the
// command exits non-zero.
func TestRecordWrongPasswordExitsNonZero(t *testing.T) {
	srv := influxtest.Start(t, influxtest.Options{Auth: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.CreateDatabase(ctx, "metricsdb"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("INFLUX_RECORD_USERNAME", influxtest.AdminUser)
	t.Setenv("INFLUX_RECORD_PASSWORD", "not-the-password")
	o := &recordOptions{url: srv.URL, db: "metricsdb", buffer: 1, publicIP: "203.0.113.9"}
	rec, err := o.recorder(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		at := time.Now().UTC().Add(time.Duration(i-5) * time.Minute)
		r := mesh.PingResult{Time: at, Src: "ams-1", SrcPop: "ams", Dst: "198.18.0.2", DstPop: "fra"}
		r.DerivePing(3, []float64{5, 6, 7}, -1)
		rec.Record(probe.Sweep{Time: at, Pings: []mesh.PingResult{r}})
	}
	err = closeRecorder(rec)
	if err == nil {
		t.Fatal("closing a recorder that lost every point succeeded")
	}
	for _, want := range []string{"401", "INFLUX_RECORD_USERNAME"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "not-the-password") {
		t.Error("password in the error")
	}
	if ctx.Err() != nil {
		t.Error("the flush waited out its deadline")
	}
}
