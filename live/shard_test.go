package live

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/meshtop/meshtop/influx"
	"github.com/meshtop/meshtop/influx/influxtest"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/probe/scoutertest"
)

// countingRecorder passes sweeps on and counts them.
type countingRecorder struct {
	*influx.Recorder
	rec *recorded
}

func (c countingRecorder) Record(sw probe.Sweep) { c.rec.Record(sw); c.Recorder.Record(sw) }

// collectOnce runs one live loop for one sweep (of pings and of traceroutes) into db
// and flushes it.
func collectOnce(t *testing.T, srvURL, db, publicIP string, agents []mesh.Agent, shard probe.Shard) {
	t.Helper()
	r, err := influx.NewRecorder(influx.RecorderConfig{Config: influx.Config{URL: srvURL, Database: db}, PublicIP: publicIP})
	if err != nil {
		t.Fatal(err)
	}
	rec := countingRecorder{r, &recorded{}}
	l := &Loop{Agents: agents, Options: probe.Options{Secret: "x", Count: 1, Shard: shard}, Interval: time.Hour,
		TraceInterval: time.Hour, Store: mesh.NewStore(10), Recorder: rec}
	runFor(t, l, 20*time.Second, func() bool { return len(rec.rec.pings()) >= 1 && len(rec.rec.traces()) >= 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// series lists "measurement src_slug>dst" with the number of points of each.
func series(t *testing.T, srvURL, db string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, m := range []string{"ping", "traceroute"} {
		q := fmt.Sprintf(`SELECT count("failed") FROM %q GROUP BY "src_slug", "dst"`, m)
		resp, err := http.Get(srvURL + "/query?" + url.Values{"db": {db}, "q": {q}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Results []struct {
				Series []struct {
					Tags   map[string]string `json:"tags"`
					Values [][]any           `json:"values"`
				} `json:"series"`
			} `json:"results"`
		}
		err = json.NewDecoder(resp.Body).Decode(&doc)
		resp.Body.Close()
		if err != nil || len(doc.Results) != 1 {
			t.Fatalf("query %s: %v %+v", q, err, doc)
		}
		for _, s := range doc.Results[0].Series {
			n, _ := s.Values[0][1].(float64)
			out[m+" "+s.Tags["src_slug"]+">"+s.Tags["dst"]] += int(n)
		}
	}
	return out
}

// TestShardsSplitOneMesh: issue 14 item 3. Two collectors with --shard 1/2 and 2/2
// record into one real influxd; together they wrote exactly what one collector of the
// whole mesh writes, and no point twice.
func TestShardsSplitOneMesh(t *testing.T) {
	srv := influxtest.Start(t, influxtest.Options{})
	ctx := context.Background()
	for _, db := range []string{"sharded", "single"} {
		if err := srv.CreateDatabase(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	var agents []mesh.Agent
	for i := range 8 {
		s := scoutertest.New(scoutertest.Config{Secret: "x"})
		t.Cleanup(s.Close)
		agents = append(agents, mesh.Agent{Name: fmt.Sprintf("scouter-p%d-0", i), Pop: fmt.Sprintf("p%d", i), Address: fmt.Sprintf("198.18.0.%d", i+1), URL: s.URL})
	}
	one, two := probe.Shard{K: 1, N: 2}, probe.Shard{K: 2, N: 2}
	if len(one.Sources(agents)) == 0 || len(two.Sources(agents)) == 0 {
		t.Fatalf("the hash put every agent in one shard: %d / %d", len(one.Sources(agents)), len(two.Sources(agents)))
	}
	collectOnce(t, srv.URL, "sharded", "203.0.113.1", agents, one)
	collectOnce(t, srv.URL, "sharded", "203.0.113.2", agents, two)
	collectOnce(t, srv.URL, "single", "203.0.113.3", agents, probe.Shard{})

	union, single := series(t, srv.URL, "sharded"), series(t, srv.URL, "single")
	if want := 2 * 8 * 7; len(single) != want {
		t.Fatalf("one collector wrote %d series, want %d", len(single), want)
	}
	keys := func(m map[string]int) []string {
		var k []string
		for s := range m {
			k = append(k, s)
		}
		slices.Sort(k)
		return k
	}
	if !slices.Equal(keys(union), keys(single)) {
		t.Errorf("the shards' union differs from one collector's mesh:\nunion  %v\nsingle %v", keys(union), keys(single))
	}
	for s, n := range union {
		if n != 1 {
			t.Errorf("%s: %d points, want 1 (written by one shard only)", s, n)
		}
	}
}
