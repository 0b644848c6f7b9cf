package blend

import (
	"context"
	"testing"
	"time"

	"github.com/meshtop/meshtop/influx"
	"github.com/meshtop/meshtop/influx/influxtest"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/tui"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// ping is one test of src→dst at t with the given average RTT (0: failed).
func ping(t time.Time, src, dst string, rtt float64) mesh.PingResult {
	r := mesh.PingResult{Time: t, Src: src + "-1", SrcPop: src, Dst: "198.18.0.9", DstName: dst + "-1", DstPop: dst}
	rtts := []float64{rtt, rtt, rtt}
	if rtt == 0 {
		rtts = []float64{mesh.Lost, mesh.Lost, mesh.Lost}
	}
	r.DerivePing(3, rtts, -1)
	return r
}

func trace(t time.Time, src, dst string, ttl int) mesh.TraceResult {
	return mesh.TraceResult{Time: t, Src: src + "-1", SrcPop: src, Dst: "198.18.0.9", DstName: dst + "-1", DstPop: dst,
		Proto: "icmp", FinalHopTTL: ttl, FinalHopRTT: 10, Hops: []mesh.Hop{{TTL: 1, Addr: "198.18.0.1", RTT: 1}}}
}

// record writes the pings and traces into db through a real recorder and flushes it.
func record(t *testing.T, url, db string, pings []mesh.PingResult, traces []mesh.TraceResult) {
	t.Helper()
	rec, err := influx.NewRecorder(influx.RecorderConfig{Config: influx.Config{URL: url, Database: db}, PublicIP: "203.0.113.1"})
	if err != nil {
		t.Fatal(err)
	}
	// A sweep stamps its results with its time: one sweep per timestamp.
	byTime := map[time.Time]*probe.Sweep{}
	var order []time.Time
	sweep := func(t time.Time) *probe.Sweep {
		if byTime[t] == nil {
			byTime[t] = &probe.Sweep{Time: t}
			order = append(order, t)
		}
		return byTime[t]
	}
	for _, p := range pings {
		sw := sweep(p.Time)
		sw.Pings = append(sw.Pings, p)
	}
	for _, tr := range traces {
		sw := sweep(tr.Time)
		sw.Traces = append(sw.Traces, tr)
	}
	for _, t := range order {
		rec.Record(*byTime[t])
	}
	if err := rec.Close(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

// TestHistoryReachesBackIntoInfluxDB: issue 11 item 4. The store keeps the newest 5
// minutes; the collector recorded an hour. The drill-down's history is InfluxDB's before
// the store's oldest sample and the store's after, in order, nothing twice at the seam.
func TestHistoryReachesBackIntoInfluxDB(t *testing.T) {
	srv := influxtest.Start(t, influxtest.Options{})
	ctx := ctxT(t)
	if err := srv.CreateDatabase(ctx, influx.DefaultDatabase); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Minute)
	store := mesh.NewStore(5)
	var pings []mesh.PingResult
	var traces []mesh.TraceResult
	for i := 60; i >= 1; i-- {
		at := now.Add(-time.Duration(i) * time.Minute)
		rtt := float64(100 + i) // the minute is in the value: a sample shown twice or out of order is seen
		if i == 30 {
			rtt = 0
		}
		p := ping(at, "ams", "fra", rtt)
		pings = append(pings, p, ping(at, "fra", "ams", rtt+1))
		if i <= 5 { // the store holds the newest five, recorded too (as --record does)
			store.AddPing(p)
		}
		if i%10 == 0 || i <= 2 {
			tr := trace(at, "ams", "fra", 60-i)
			traces = append(traces, tr)
			if i <= 2 {
				store.AddTrace(tr)
			}
		}
	}
	record(t, srv.URL, influx.DefaultDatabase, pings, traces)
	r, err := influx.NewReader(influx.Config{URL: srv.URL, Database: influx.DefaultDatabase, Timeout: 20 * time.Second}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	archive := func(from, to time.Time) History { return r.At(to.Sub(from), to) }
	live := tui.StoreSource{Store: store}
	src := New(live, archive, 2*time.Hour)
	src.Now = func() time.Time { return now }

	// 120 points over 2 h: one-minute buckets, one test each.
	h, err := src.PairHistory(ctx, "ams", "fra", 120)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.ArchiveErr(); err != nil {
		t.Fatal(err)
	}
	if len(h) != 60 {
		t.Fatalf("%d samples, want 60 (55 from InfluxDB, 5 from the store): %+v", len(h), h)
	}
	for k, s := range h {
		i := 60 - k
		want := now.Add(-time.Duration(i) * time.Minute)
		if !s.Time.Equal(want) {
			t.Fatalf("sample %d at %s, want %s", k, s.Time, want)
		}
		if i == 30 {
			if !s.Failed {
				t.Errorf("sample at -30m: %+v, want the failed test", s)
			}
			continue
		}
		if s.AvgRTT != float64(100+i) {
			t.Errorf("sample at -%dm: avg %v, want %d", i, s.AvgRTT, 100+i)
		}
	}
	storeH := store.History("ams", "fra")
	for k, s := range h[55:] {
		if s.Time != storeH[k].Time || s.AvgRTT != storeH[k].AvgRTT {
			t.Errorf("the newest samples are not the store's: %+v vs %+v", s, storeH[k])
		}
	}

	tr, err := src.PairTraces(ctx, "ams", "fra")
	if err != nil {
		t.Fatal(err)
	}
	var ago []int
	for k, x := range tr {
		ago = append(ago, int(now.Sub(x.Time)/time.Minute))
		if k > 0 && !x.Time.After(tr[k-1].Time) {
			t.Errorf("traces out of order or twice: %v then %v", tr[k-1].Time, x.Time)
		}
	}
	// -60,-50,...,-10 from InfluxDB (the newest one it adds is the store's), -2,-1 live.
	if want := []int{60, 50, 40, 30, 20, 10, 2, 1}; !equalInts(ago, want) {
		t.Errorf("traces at minutes ago %v, want %v", ago, want)
	}

	// Without InfluxDB: the store's, unchanged.
	plain := New(live, nil, 2*time.Hour)
	h, _ = plain.PairHistory(ctx, "ams", "fra", 120)
	if len(h) != 5 {
		t.Errorf("without InfluxDB: %d samples, want the store's 5", len(h))
	}
	// A reach inside the store's window needs no InfluxDB.
	short := New(live, func(from, to time.Time) History { t.Fatal("read InfluxDB"); return nil }, 3*time.Minute)
	short.Now = src.Now
	if h, _ = short.PairHistory(ctx, "ams", "fra", 120); len(h) != 5 {
		t.Errorf("short reach: %d samples, want 5", len(h))
	}
}

// TestHistoryWithInfluxDBDown: a dead InfluxDB leaves the drill-down with the store's
// part and says why in ArchiveErr.
func TestHistoryWithInfluxDBDown(t *testing.T) {
	srv := influxtest.Start(t, influxtest.Options{})
	url := srv.URL
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Minute)
	store := mesh.NewStore(5)
	store.AddPing(ping(now.Add(-time.Minute), "ams", "fra", 12))
	r, err := influx.NewReader(influx.Config{URL: url, Database: influx.DefaultDatabase, Timeout: 5 * time.Second}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	src := New(tui.StoreSource{Store: store}, func(from, to time.Time) History { return r.At(to.Sub(from), to) }, time.Hour)
	var reported []error
	src.Report = func(err error) { reported = append(reported, err) }
	for range 2 {
		h, err := src.PairHistory(ctxT(t), "ams", "fra", 60)
		if err != nil || len(h) != 1 || h[0].AvgRTT != 12 {
			t.Fatalf("got %+v, %v; want the store's one sample", h, err)
		}
	}
	if src.ArchiveErr() == nil {
		t.Error("no error recorded for the dead InfluxDB")
	}
	if len(reported) != 1 {
		t.Errorf("reported %d times, want once: %v", len(reported), reported)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
