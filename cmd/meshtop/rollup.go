package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/meshtop/meshtop/influx"
)

// rollupOptions are `meshtop rollup`: continuous queries and a backfill that keep 10 min
// and 1 h aggregates per pair, so long history windows read buckets, not tests.
type rollupOptions struct {
	influx   influxOptions
	backfill bool
	since    string
	print    bool
}

func init() { register(newRollupCmd) }

func newRollupCmd() *cobra.Command {
	o := &rollupOptions{}
	cmd := &cobra.Command{
		Use:   "rollup",
		Short: "Keep 10 min, 1 h and 6 h aggregates in InfluxDB for long windows",
		Long: `Set up InfluxDB continuous queries that keep, per PoP pair, 10 minute,
1 hour and 6 hour aggregates of the ping measurement (test counts, failed
tests, sums, minima, maxima, newest values and histogram counts) in their own
retention policies (mt_rollup_10m: 35 days, mt_rollup_1h: 400 days,
mt_rollup_6h: 800 days; the 1 h level is summed from the 10 min one, the 6 h
level from the 1 h one), and compute them for the data already there
(--backfill, from the raw tests of up to 35 days). history and snapshot then
read windows of 3 hours and more from whole 6 h, 1 h and 10 min buckets with
the edges and the newest tests from the raw tests (up to 24 h checked against
the raw test counts) and say so in the status bar (their flag --rollup picks
one level alone).

It needs an admin user of InfluxDB (INFLUX_USERNAME, INFLUX_PASSWORD): it
creates retention policies and continuous queries. history and snapshot read
the rollups with the read-only user they always use. It works on a workshop
database as it is (failed stored as text): only the RTT, jitter and loss
fields are read.

Means and maxima from a rollup are exact. A p95 is read from the histogram
counts of every test in the window, never a p95 of bucket p95s:
` + influx.HistogramText + `,
kept inside the window's min and max. Rollups made by an older meshtop (whose
histograms had 25 % buckets) give no p95 until this is run again: it computes
the new histograms from the raw tests; buckets older than the raw tests kept
stay without one, and history says so.`,
		Example: `  INFLUX_USERNAME=admin INFLUX_PASSWORD=... meshtop rollup \
      --influx-url http://127.0.0.1:8086
  meshtop rollup --since now-7d      # backfill the last week only
  meshtop rollup --backfill=false    # continuous queries only
  meshtop rollup --print             # the InfluxQL, to run by hand`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRollup(cmd.Context(), o, cmd.OutOrStdout()) },
	}
	addInfluxConnFlags(cmd, &o.influx, "an admin user: it creates continuous queries")
	cmd.Flags().DurationVar(&o.influx.timeout, "influx-timeout", 10*time.Minute, "give up on an InfluxDB request after this long")
	cmd.Flags().BoolVar(&o.backfill, "backfill", true, "also compute the rollups of the data already stored")
	cmd.Flags().StringVar(&o.since, "since", "", "backfill from this time on (RFC 3339 or now-7d, now-2w; default: all raw data, up to 35 days)")
	cmd.Flags().BoolVar(&o.print, "print", false, "print the statements instead of running them")
	return cmd
}

func runRollup(ctx context.Context, o *rollupOptions, out io.Writer) error {
	// The reader's own window is not used: rollups cover whatever is stored.
	o.influx.window, o.influx.rollup = influx.DefaultWindow, "auto"
	r, err := o.influx.reader()
	if err != nil {
		return err
	}
	if o.print {
		for _, q := range r.RollupStatements() {
			fmt.Fprintln(out, q+";")
		}
		return nil
	}
	checkCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = r.Check(checkCtx)
	cancel()
	if err != nil {
		return err
	}
	opts := rollupSetup(o, out)
	if o.since != "" {
		t, _, err := parseWhen(o.since, time.Now())
		if err != nil {
			return fmt.Errorf("--since: %w", err)
		}
		opts.Since = t
	}
	t0 := time.Now()
	if err := r.SetupRollups(ctx, opts); err != nil {
		return rollupError(err)
	}
	fmt.Fprintf(out, "rollups ready in %s\n", time.Since(t0).Round(time.Millisecond))
	return nil
}

// rollupError turns InfluxDB's refusal of a user without the admin privilege into the
// remedy (the generic hint of an HTTP 403 names READ or WRITE grants, which are not it).
func rollupError(err error) error {
	var he *influx.HTTPError
	if errors.As(err, &he) && he.Status == http.StatusForbidden || strings.Contains(err.Error(), "requires admin privilege") ||
		strings.Contains(err.Error(), "not authorized to execute statement") {
		msg := err.Error()
		if he != nil {
			msg = he.Msg
		}
		return fmt.Errorf("meshtop rollup needs an admin user of InfluxDB: it creates retention policies and continuous queries. "+
			"Set INFLUX_USERNAME and INFLUX_PASSWORD to one (history and snapshot keep their read-only user). InfluxDB said: %s", msg)
	}
	return err
}

func rollupSetup(o *rollupOptions, out io.Writer) influx.RollupOptions {
	return influx.RollupOptions{Backfill: o.backfill, Progress: func(msg string) { fmt.Fprintln(out, msg) }}
}
