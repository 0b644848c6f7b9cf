package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/meshtop/meshtop/blend"
	"github.com/meshtop/meshtop/influx"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/tui"
)

// reachOptions let live and serve read InfluxDB beside the store: the drill-down's
// history beyond --keep, and with --shard the other collectors' pairs. The database is
// --influx-url's, else --record's; credentials INFLUX_USERNAME/_PASSWORD (a read-only
// user), else the recorder's.
type reachOptions struct {
	url   string
	db    string
	reach time.Duration
}

func addReachFlags(cmd *cobra.Command, o *reachOptions) {
	f := cmd.Flags()
	f.StringVar(&o.url, "influx-url", "", "read older history (and, with --shard, the other collectors' pairs) from the\nInfluxDB 1.x at `URL` (default: the --record target; credentials: env\nINFLUX_USERNAME/_PASSWORD, else the recorder's)")
	f.StringVar(&o.db, "influx-db", "", "InfluxDB `database` to read (default: --record-db)")
	spanVar(f, &o.reach, "reach-back", 24*time.Hour, "how far back the drill-down reads history from InfluxDB (e.g. 24h, 7d; 0: the store only)", true)
}

// reader is the InfluxDB to read beside the store; nil without one.
func (o *reachOptions) reader(rec *recordOptions) (*influx.Reader, error) {
	if o.reach < 0 {
		return nil, fmt.Errorf("--reach-back %s: want 0 or more", o.reach)
	}
	url, db, dbFlag := o.url, o.db, "--influx-db"
	if url == "" {
		url = rec.url
	}
	if db == "" {
		db, dbFlag = rec.db, "--record-db"
	}
	if url == "" {
		return nil, nil
	}
	user, pass := os.Getenv("INFLUX_USERNAME"), os.Getenv("INFLUX_PASSWORD")
	if user == "" && o.url == "" {
		user, pass, _ = recordCredentials()
	}
	window := max(o.reach, time.Hour)
	r, err := influx.NewReader(influx.Config{URL: url, Database: db, DatabaseSetting: dbFlag, Username: user, Password: pass, Timeout: time.Minute}, window)
	if err != nil {
		return nil, fmt.Errorf("--influx-url: %w", err)
	}
	return r, nil
}

// blendSource is the UI's source for live and serve: the store, with InfluxDB behind it
// when there is one (blend.Source), and the other shards' pairs with --shard.
func blendSource(live tui.StoreSource, r *influx.Reader, reach time.Duration, shard probe.Shard, agents []mesh.Agent) *blend.Source {
	var archive func(from, to time.Time) blend.History
	if r != nil {
		archive = func(from, to time.Time) blend.History { return r.At(to.Sub(from), to) }
	}
	src := blend.New(live, archive, reach)
	if r != nil && shard.N > 1 {
		owned := map[string]bool{}
		for _, a := range shard.Sources(agents) {
			owned[a.Pop] = true
		}
		newest := r.At(r.Window(), time.Time{})
		src.Union = &blend.Union{Read: newest.NewestMatrix, Owns: func(pop string) bool { return owned[pop] }}
	}
	return src
}

// runUnion keeps the other shards' pairs fresh: one read an interval.
func runUnion(ctx context.Context, src *blend.Source, every time.Duration) {
	if src != nil && src.Union != nil {
		go src.Union.Run(ctx, every)
	}
}
