package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/meshtop/meshtop/influx"
)

// influxOptions say where history is read from (history, snapshot --source influx).
// Credentials are not flags: INFLUX_USERNAME and INFLUX_PASSWORD come from the
// environment (a read-only user is enough).
type influxOptions struct {
	url     string
	db      string
	window  time.Duration
	timeout time.Duration
	rollup  string
	// interactive: a UI reads (no per-request deadline by default: the user sees
	// "loading" and Esc cancels).
	interactive bool
}

func addInfluxFlags(cmd *cobra.Command, o *influxOptions) {
	addInfluxConnFlags(cmd, o, "a read-only user is enough")
	f := cmd.Flags()
	spanVar(f, &o.window, "window", influx.DefaultWindow, "time window, like Grafana's time range (e.g. 15m, 6h, 24h, 7d, 2w)", false)
	f.DurationVar(&o.timeout, "influx-timeout", 0, "give up on an InfluxDB request after this long (0: history waits while\nshowing \"loading\", Esc cancels; snapshot fits the window: 1 min + 1 min per 6 h)")
	f.StringVar(&o.rollup, "rollup", "auto", "read raw data or rollups (meshtop rollup): auto (raw up to 3 h; up to 24 h whole\n1h and 10m buckets with raw edges, checked; 10m up to 3 d, 1h up to 5 d, else 6h, each\nwhen it covers the window), raw, 10m, 1h, 6h")
}

// addInfluxConnFlags are the flags that say which database to reach; user says what
// the user in INFLUX_USERNAME must be allowed.
func addInfluxConnFlags(cmd *cobra.Command, o *influxOptions, user string) {
	f := cmd.Flags()
	f.StringVar(&o.url, "influx-url", "http://127.0.0.1:8086", "InfluxDB 1.x `URL` (env INFLUX_URL; credentials: env\nINFLUX_USERNAME, INFLUX_PASSWORD; "+user+")")
	f.StringVar(&o.db, "influx-db", influx.DefaultDatabase, "InfluxDB `database` (env INFLUX_DB)")
}

// requestTimeout is the per-request bound (negative: none).
func (o *influxOptions) requestTimeout() time.Duration {
	switch {
	case o.timeout > 0:
		return o.timeout
	case o.interactive:
		return -1
	}
	return time.Minute + o.window/(6*time.Hour)*time.Minute
}

// config is the connection, with the credentials from the environment.
func (o *influxOptions) config() influx.Config {
	return influx.Config{
		URL:      o.url,
		Database: o.db,
		Username: os.Getenv("INFLUX_USERNAME"),
		Password: os.Getenv("INFLUX_PASSWORD"),
		Timeout:  o.requestTimeout(),
	}
}

// reader opens the history reader.
func (o *influxOptions) reader() (*influx.Reader, error) {
	if o.window <= 0 {
		return nil, fmt.Errorf("--window %s: want a positive duration such as 1h", o.window)
	}
	r, err := influx.NewReader(o.config(), o.window)
	if err != nil {
		return nil, fmt.Errorf("--influx-url: %w", err)
	}
	if err := r.SetRollup(o.rollup); err != nil {
		return nil, fmt.Errorf("--rollup: %w", err)
	}
	return r, nil
}
