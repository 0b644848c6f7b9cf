package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/spf13/cobra"

	"github.com/meshtop/meshtop/influx"
)

// recordOptions set up --record: every sweep also written to InfluxDB in the workshop's
// schema. Credentials come from INFLUX_RECORD_USERNAME / INFLUX_RECORD_PASSWORD, else
// INFLUX_USERNAME / INFLUX_PASSWORD; a write-only user is enough.
type recordOptions struct {
	url      string
	db       string
	buffer   int
	publicIP string
	// log receives the recorder's state changes (outage, recovery); nil discards them.
	// A TUI leaves it nil and shows Status() instead. logf, when set, takes them
	// instead (serve's structured log).
	log  io.Writer
	logf func(format string, args ...any)
}

func addRecordFlags(cmd *cobra.Command, o *recordOptions) {
	f := cmd.Flags()
	f.StringVar(&o.url, "record", "", "also write every sweep to the InfluxDB 1.x at `URL` (credentials: env\nINFLUX_RECORD_USERNAME/_PASSWORD, else INFLUX_USERNAME/_PASSWORD)")
	f.StringVar(&o.db, "record-db", influx.DefaultDatabase, "InfluxDB `database` to record into")
	f.IntVar(&o.buffer, "record-buffer", influx.DefaultRecordBuffer, "points kept while InfluxDB is down; beyond, the oldest are dropped")
	f.StringVar(&o.publicIP, "record-public-ip", "", "public_ip tag of recorded points (default: this host's address)")
}

// recordCredentials prefers the recorder's own user (typically write-only). from names
// the variables used, so that a 401 points at the ones to fix.
func recordCredentials() (user, pass, from string) {
	if u := os.Getenv("INFLUX_RECORD_USERNAME"); u != "" {
		return u, os.Getenv("INFLUX_RECORD_PASSWORD"), "INFLUX_RECORD_USERNAME and INFLUX_RECORD_PASSWORD"
	}
	if u := os.Getenv("INFLUX_USERNAME"); u != "" {
		return u, os.Getenv("INFLUX_PASSWORD"), "INFLUX_USERNAME and INFLUX_PASSWORD (INFLUX_RECORD_USERNAME is not set)"
	}
	return "", os.Getenv("INFLUX_PASSWORD"),
		"INFLUX_RECORD_USERNAME and INFLUX_RECORD_PASSWORD, or INFLUX_USERNAME and INFLUX_PASSWORD: none is set"
}

// recorder starts the recorder; nil (and no error) when --record was not given.
func (o *recordOptions) recorder(ctx context.Context) (*influx.Recorder, error) {
	_ = ctx // the recorder contacts InfluxDB in the background; nothing to wait for here
	if o.url == "" {
		return nil, nil
	}
	if o.buffer < 1 {
		return nil, fmt.Errorf("--record-buffer %d: want at least 1", o.buffer)
	}
	user, pass, from := recordCredentials()
	cfg := influx.RecorderConfig{
		Config: influx.Config{URL: o.url, Database: o.db, Username: user, Password: pass, CredentialEnv: from,
			DatabaseSetting: "--record-db"},
		PublicIP: o.publicIP,
		Buffer:   o.buffer,
	}
	if cfg.PublicIP == "" {
		cfg.PublicIP = hostAddress()
	}
	if o.log != nil {
		w := o.log
		cfg.Logf = func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	}
	if o.logf != nil {
		cfg.Logf = o.logf
	}
	r, err := influx.NewRecorder(cfg)
	if err != nil {
		return nil, fmt.Errorf("--record: %w", err)
	}
	return r, nil
}

// hostAddress is this host's first global unicast address: the workshop tagged points
// with the collector's public address (public_ip), which its dashboard lists.
func hostAddress() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	var v6 string
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || !ipn.IP.IsGlobalUnicast() {
			continue
		}
		if ipn.IP.To4() != nil {
			return ipn.IP.String()
		}
		if v6 == "" {
			v6 = ipn.IP.String()
		}
	}
	return v6
}
