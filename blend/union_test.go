package blend

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/meshtop/meshtop/influx"
	"github.com/meshtop/meshtop/influx/influxtest"
	"github.com/meshtop/meshtop/live"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/probe/scoutertest"
	"github.com/meshtop/meshtop/tui"
)

// sweeps passes finished sweeps to the recorder and counts them.
type sweeps struct {
	*influx.Recorder
	mu sync.Mutex
	n  int
}

func (s *sweeps) Record(sw probe.Sweep) {
	s.mu.Lock()
	s.n++
	s.mu.Unlock()
	s.Recorder.Record(sw)
}

func (s *sweeps) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// collect runs one sharded live loop for one sweep, recording into url, and returns its
// store once the recording is flushed.
func collect(t *testing.T, url, publicIP string, agents []mesh.Agent, shard probe.Shard) *mesh.Store {
	t.Helper()
	r, err := influx.NewRecorder(influx.RecorderConfig{Config: influx.Config{URL: url, Database: influx.DefaultDatabase}, PublicIP: publicIP})
	if err != nil {
		t.Fatal(err)
	}
	rec := &sweeps{Recorder: r}
	store := mesh.NewStore(10)
	l := &live.Loop{Agents: agents, Options: probe.Options{Secret: "x", Count: 2, Shard: shard}, Interval: time.Hour,
		TraceInterval: time.Hour, Store: store, Recorder: rec}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	deadline := time.Now().Add(30 * time.Second)
	for rec.count() < 1 {
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("shard %s: no sweep within 30 s; stats %+v", shard, l.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if err := r.Close(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	return store
}

// TestShardUnionShowsTheWholeMesh: issue 14 item 3. Two collectors, --shard 1/2 and 2/2,
// record into one real influxd; collector 1's blended matrix holds every pair of the
// mesh, its own from its store and the others as collector 2 measured them.
func TestShardUnionShowsTheWholeMesh(t *testing.T) {
	srv := influxtest.Start(t, influxtest.Options{})
	ctx := ctxT(t)
	if err := srv.CreateDatabase(ctx, influx.DefaultDatabase); err != nil {
		t.Fatal(err)
	}
	var agents []mesh.Agent
	for i := range 8 {
		// Each source has its own latencies, so a cell from the wrong row is seen.
		s := scoutertest.New(scoutertest.Config{Secret: "x", RTT: func(dst string, count int) []float64 {
			out := make([]float64, count)
			for k := range out {
				out[k] = float64(10*(i+1)+len(dst)) + 0.25*float64(k)
			}
			return out
		}})
		t.Cleanup(s.Close)
		agents = append(agents, mesh.Agent{Name: fmt.Sprintf("scouter-p%d-0", i), Pop: fmt.Sprintf("p%d", i), Address: fmt.Sprintf("198.18.0.%d", i+1), URL: s.URL})
	}
	one, two := probe.Shard{K: 1, N: 2}, probe.Shard{K: 2, N: 2}
	if len(one.Sources(agents)) == 0 || len(two.Sources(agents)) == 0 {
		t.Fatalf("the hash put every agent in one shard")
	}
	store1 := collect(t, srv.URL, "203.0.113.1", agents, one)
	store2 := collect(t, srv.URL, "203.0.113.2", agents, two)

	r, err := influx.NewReader(influx.Config{URL: srv.URL, Database: influx.DefaultDatabase, Timeout: 20 * time.Second}, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	owned := map[string]bool{}
	for _, a := range one.Sources(agents) {
		owned[a.Pop] = true
	}
	src := New(tui.StoreSource{Store: store1}, nil, 0)
	src.Union = &Union{Read: r.NewestMatrix, Owns: func(pop string) bool { return owned[pop] }}

	// Before the first read: the collector's own pairs only.
	m, err := src.Matrix(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := cells(m); n != 7*len(owned) {
		t.Errorf("before any read: %d cells, want this shard's %d", n, 7*len(owned))
	}
	changed := 0
	src.Union.Changed = func() { changed++ }
	if err := src.Union.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if changed != 1 {
		t.Errorf("a read told viewers %d times, want once", changed)
	}
	m, err = src.Matrix(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := src.Matrix(ctx); again != m {
		t.Error("an unchanged store and read built the blend again")
	}
	if src.Name() != UnionSource {
		t.Errorf("name %q, want %q", src.Name(), UnionSource)
	}
	if m.Source != UnionSource || len(m.Pops) != 8 {
		t.Fatalf("blended matrix: source %q, %d PoPs; want %q, 8", m.Source, len(m.Pops), UnionSource)
	}
	if n := cells(m); n != 8*7 {
		t.Errorf("blended matrix: %d cells, want the whole mesh's %d", n, 8*7)
	}
	m1, m2 := store1.Matrix(), store2.Matrix()
	for _, a := range m.Pops {
		for _, b := range m.Pops {
			if a == b {
				continue
			}
			got := m.Cell(a, b)
			want, from := m1.Cell(a, b), "collector 1's store"
			if !owned[a] {
				want, from = m2.Cell(a, b), "collector 2 (via InfluxDB)"
			}
			if got == nil || want == nil {
				t.Errorf("%s→%s: got %v, want %v (%s)", a, b, got, want, from)
				continue
			}
			if owned[a] && got != want {
				t.Errorf("%s→%s: not the store's cell", a, b)
			}
			for _, met := range mesh.Metrics {
				g, w := got.Values[met][mesh.Last], want.Values[met][mesh.Last]
				if !(g == w || math.IsNaN(g) && math.IsNaN(w) || math.Abs(g-w) < 1e-9) {
					t.Errorf("%s→%s %s last: %v, want %v (%s)", a, b, met, g, w, from)
				}
			}
			if got.Last.Failed != want.Last.Failed || !got.Last.Time.Equal(want.Last.Time) {
				t.Errorf("%s→%s newest test: failed %v at %s, want %v at %s (%s)", a, b, got.Last.Failed, got.Last.Time, want.Last.Failed, want.Last.Time, from)
			}
			if !owned[a] && got.Values[mesh.Latency][mesh.Mean] != got.Values[mesh.Latency][mesh.Last] {
				t.Errorf("%s→%s: another collector's cell shows its newest test under every stat", a, b)
			}
		}
	}

	// InfluxDB gone: the last good values stay, the error is kept.
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	var reported []error
	src.Union.Report = func(err error) { reported = append(reported, err) }
	for range 2 {
		if err := src.Union.Refresh(ctx); err == nil || src.Union.Err() == nil {
			t.Error("a read from a stopped influxd did not fail")
		}
	}
	if len(reported) != 1 {
		t.Errorf("reported %d times, want once: %v", len(reported), reported)
	}
	if changed != 1 {
		t.Errorf("failed reads told viewers to re-read (%d)", changed)
	}
	if m, _ = src.Matrix(ctx); cells(m) != 8*7 {
		t.Errorf("after a failed read: %d cells, want the last good %d", cells(m), 8*7)
	}
}

func cells(m *mesh.Matrix) int {
	n := 0
	for _, a := range m.Pops {
		for _, b := range m.Pops {
			if a != b && m.Cell(a, b) != nil {
				n++
			}
		}
	}
	return n
}
