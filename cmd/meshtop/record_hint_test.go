package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/influx/influxtest"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
)

// TestRecord401NamesTheSettingsUsed: a wrong INFLUX_RECORD_PASSWORD is reported as such,
// not as "check INFLUX_USERNAME and INFLUX_PASSWORD" (issue 10).
func TestRecord401NamesTheSettingsUsed(t *testing.T) {
	srv := influxtest.Start(t, influxtest.Options{Auth: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.CreateDatabase(ctx, "metricsdb"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		env          map[string]string
		want, absent string
	}{
		{map[string]string{"INFLUX_RECORD_USERNAME": "rec_wo", "INFLUX_RECORD_PASSWORD": "wrong", "INFLUX_USERNAME": "", "INFLUX_PASSWORD": ""},
			"check INFLUX_RECORD_USERNAME and INFLUX_RECORD_PASSWORD)", ""},
		{map[string]string{"INFLUX_RECORD_USERNAME": "", "INFLUX_RECORD_PASSWORD": "", "INFLUX_USERNAME": "u", "INFLUX_PASSWORD": "wrong"},
			"check INFLUX_USERNAME and INFLUX_PASSWORD (INFLUX_RECORD_USERNAME is not set))", ""},
		{map[string]string{"INFLUX_RECORD_USERNAME": "", "INFLUX_RECORD_PASSWORD": "", "INFLUX_USERNAME": "", "INFLUX_PASSWORD": ""},
			"none is set", ""},
	} {
		for k, v := range tc.env {
			t.Setenv(k, v)
		}
		o := &recordOptions{url: srv.URL, db: "metricsdb", buffer: 10, publicIP: "203.0.113.9"}
		rec, err := o.recorder(ctx)
		if err != nil {
			t.Fatal(err)
		}
		at := time.Now().UTC().Add(-time.Minute)
		r := mesh.PingResult{Time: at, Src: "ams-1", SrcPop: "ams", Dst: "198.18.0.2", DstPop: "fra"}
		r.DerivePing(3, []float64{5, 6, 7}, -1)
		rec.Record(probe.Sweep{Time: at, Pings: []mesh.PingResult{r}})
		// Wait for the first failed write (bounded), then stop the recorder.
		msg := ""
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if _, _, lastErr := rec.Status(); lastErr != nil && strings.Contains(lastErr.Error(), "401") {
				msg = lastErr.Error()
				break
			}
		}
		cctx, ccancel := context.WithCancel(ctx)
		ccancel()
		_ = rec.Close(cctx)
		if !strings.Contains(msg, "401") || !strings.Contains(msg, tc.want) {
			t.Errorf("env %v: errors %q, want a 401 saying %q", tc.env, msg, tc.want)
		}
		if strings.Contains(msg, "wrong") {
			t.Errorf("errors %q show the password", msg)
		}
	}
}
