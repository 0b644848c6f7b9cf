package main

import (
	"context"
	"fmt"
	"io"
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
mt_rollup_6h: 800 days; each level is summed from the finer one, the 6 h level
from the 1 h level, never from raw tests), and compute them for the data
already there (--backfill). history then reads windows of 3 to 24 hours from
whole 1 h and 10 min buckets with the edges from raw tests (exactly the raw
tests' numbers, checked against their counts), a 3-day window from the 10 min
rollup, up to 5 days from the 1 h rollup and longer ones from the 6 h rollup
(--rollup auto) and says so in the status bar. Works on a workshop database
as it is (failed stored as text): only the RTT, jitter and loss fields are
read. Needs an admin user (INFLUX_USERNAME, INFLUX_PASSWORD) to create
continuous queries.

Means and maxima from a rollup are exact. A rollup p95 is not a p95 of bucket
p95s: it is read from the summed histogram counts of every test in the window,
interpolated inside the histogram bucket that holds the 95th-percentile rank,
so it is within one bucket of the true p95 (25 % of the value for RTT and
jitter, 5 points for loss).`,
		Example: `  meshtop rollup --influx-url http://127.0.0.1:8086
  meshtop rollup --since now-7d      # backfill the last week only
  meshtop rollup --print             # the InfluxQL, to run by hand`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRollup(cmd.Context(), o, cmd.OutOrStdout()) },
	}
	addInfluxFlags(cmd, &o.influx)
	cmd.Flags().BoolVar(&o.backfill, "backfill", true, "also compute the rollups of the data already stored")
	cmd.Flags().StringVar(&o.since, "since", "", "backfill from this time on (RFC 3339 or now-7d; default: all raw data)")
	cmd.Flags().BoolVar(&o.print, "print", false, "print the statements instead of running them")
	return cmd
}

func runRollup(ctx context.Context, o *rollupOptions, out io.Writer) error {
	if o.influx.timeout == 0 {
		// A day of backfill is a few dozen statements over a day of tests each.
		o.influx.timeout = 10 * time.Minute
	}
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
		return err
	}
	fmt.Fprintf(out, "rollups ready in %s\n", time.Since(t0).Round(time.Millisecond))
	return nil
}

func rollupSetup(o *rollupOptions, out io.Writer) influx.RollupOptions {
	return influx.RollupOptions{Backfill: o.backfill, Progress: func(msg string) { fmt.Fprintln(out, msg) }}
}
