package main

import (
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/tui"
)

// TestReachWiring: live and serve read InfluxDB only when there is one to read (the
// --influx-url, else the --record target), and blend other shards' pairs only with
// --shard.
func TestReachWiring(t *testing.T) {
	agents := []mesh.Agent{{Name: "scouter-ams-0", Pop: "ams"}, {Name: "scouter-fra-0", Pop: "fra"}, {Name: "scouter-sin-0", Pop: "sin"}}
	live := tui.StoreSource{Store: mesh.NewStore(3)}
	cases := []struct {
		name          string
		reach         reachOptions
		rec           recordOptions
		shard         probe.Shard
		archive, join bool
		wantErr       bool
	}{
		{name: "no InfluxDB", reach: reachOptions{reach: time.Hour}},
		{name: "record target", reach: reachOptions{reach: time.Hour}, rec: recordOptions{url: "http://127.0.0.1:1", db: "m"}, archive: true},
		{name: "influx-url", reach: reachOptions{url: "http://127.0.0.1:1", reach: time.Hour}, archive: true},
		{name: "sharded", reach: reachOptions{url: "http://127.0.0.1:1", reach: time.Hour}, shard: probe.Shard{K: 1, N: 2}, archive: true, join: true},
		{name: "sharded without InfluxDB", reach: reachOptions{reach: time.Hour}, shard: probe.Shard{K: 1, N: 2}},
		{name: "negative reach", reach: reachOptions{reach: -time.Hour}, wantErr: true},
		{name: "bad URL", reach: reachOptions{url: "ftp://x", reach: time.Hour}, wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := c.reach.reader(&c.rec)
			if (err != nil) != c.wantErr {
				t.Fatalf("err %v, want error %v", err, c.wantErr)
			}
			if err != nil {
				return
			}
			src := blendSource(live, r, c.reach.reach, c.shard, agents)
			if (src.Archive != nil) != c.archive || (src.Union != nil) != c.join {
				t.Errorf("archive %v, union %v; want %v, %v", src.Archive != nil, src.Union != nil, c.archive, c.join)
			}
			if src.Union != nil {
				for _, a := range agents {
					if src.Union.Owns(a.Pop) != c.shard.Owns(a.Name) {
						t.Errorf("%s: owned %v, want %v", a.Pop, src.Union.Owns(a.Pop), c.shard.Owns(a.Name))
					}
				}
			}
		})
	}
}
