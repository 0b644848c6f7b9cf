package influx

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshtop/meshtop/influx/influxtest"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
)

// testSweep is a full mesh of pops at t: pings (one failed, one not measured) and
// traceroutes with hops.
func testSweep(t time.Time, pops []string, salt int) probe.Sweep {
	sw := probe.Sweep{Time: t}
	for si, src := range pops {
		for di, dst := range pops {
			if src == dst {
				continue
			}
			r := mesh.PingResult{Time: t, Src: src + "-1", SrcPop: src, Dst: fmt.Sprintf("198.18.1.%d", di+1), DstName: dst + "-1", DstPop: dst}
			rtts := []float64{float64(10 + si + di + salt%3), 11, 12, mesh.Lost, 10.5}
			if si == 0 && di == 1 && salt%2 == 1 {
				rtts = []float64{mesh.Lost, mesh.Lost, mesh.Lost, mesh.Lost, mesh.Lost}
			}
			r.DerivePing(5, rtts, -1)
			sw.Pings = append(sw.Pings, r)
			tr := mesh.TraceResult{Time: t, Src: src + "-1", SrcPop: src, Dst: r.Dst, DstName: r.DstName, DstPop: dst, Proto: "ICMP", DPort: 80,
				Hops: []mesh.Hop{{TTL: 1, Addr: "198.18.9.1", ASN: 64511, RTT: 1.5,
					Probes: []mesh.HopProbe{{Addr: "198.18.9.1", RTT: 1.5}, {}, {Addr: "198.18.9.1", RTT: 1.7}}}, {TTL: 2, NoResponse: true},
					{TTL: 3, Addr: r.Dst, ASN: 64512 + di, RTT: r.AvgRTT + 0.25}}}
			tr.DeriveTrace()
			sw.Traces = append(sw.Traces, tr)
		}
	}
	// Not measured: must not be written.
	sw.Pings = append(sw.Pings, mesh.PingResult{Time: t, Src: "x-1", SrcPop: "x", Dst: "198.18.1.99", DstPop: "ams", Err: "agent unreachable"})
	return sw
}

func countPoints(t *testing.T, cfg Config, measurement, field string) int {
	t.Helper()
	c, err := newConn(cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.query(ctxT(t), fmt.Sprintf("SELECT count(%s) FROM %s", typedColsCount(field), QuoteIdent(measurement)))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range allSeries(res[0].Series) {
		for _, row := range s.rows {
			for col := range s.col {
				if col != "time" {
					v, _ := s.float(row, col)
					n += int(v)
				}
			}
		}
	}
	return n
}

// typedColsCount counts a field under both types.
func typedColsCount(f string) string {
	return QuoteIdent(f) + "::float), count(" + QuoteIdent(f) + "::string"
}

// fieldTypesOf reads SHOW FIELD KEYS as admin.
func fieldTypesOf(t *testing.T, cfg Config) FieldTypes {
	t.Helper()
	c, err := newConn(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ft, err := c.fieldTypes(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	return ft
}

// drain waits until the recorder has written everything (bounded: 30 s).
func drain(t *testing.T, r *Recorder) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		backlog, _, err := r.Status()
		if backlog == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("recorder still has %d points after 30 s: %v", backlog, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (l *logSink) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func TestRecordIntoWorkshopDB(t *testing.T) {
	for _, auth := range []bool{false, true} {
		t.Run(fmt.Sprintf("auth=%v", auth), func(t *testing.T) {
			s, cfg := testDB(t, auth)
			end := time.Now().UTC().Truncate(time.Minute)
			f := newFixture(end.Add(-10*time.Minute), 20)
			writeWorkshop(t, s, f, []mesh.TraceResult{{Time: end.Add(-15 * time.Minute), Src: "ams-1", SrcPop: "ams", Dst: "198.18.0.2",
				DstPop: "fra", Proto: "ICMP", DPort: 80, ASPath: "64511 * 64513", FinalHopTTL: 3, FinalHopRTT: 12.5}})
			before := fieldTypesOf(t, cfg)
			if !before.Has("ping", "failed", TypeString) || !before.Has("traceroute", "final_hop_ttl", TypeInteger) {
				t.Fatalf("fixture types = %v", before)
			}
			rcfg := RecorderConfig{Config: cfg, PublicIP: "203.0.113.10", MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}
			log := &logSink{}
			rcfg.Logf = log.logf
			if auth {
				// The recorder's own user may only write (as Telegraf's telegraf_wo).
				if err := s.CreateUser(ctxT(t), "meshtop_wo", "wo pass'word", "WRITE", DefaultDatabase); err != nil {
					t.Fatal(err)
				}
				rcfg.Username, rcfg.Password = "meshtop_wo", "wo pass'word"
			}
			rec, err := NewRecorder(rcfg)
			if err != nil {
				t.Fatal(err)
			}
			pops := []string{"ams", "fra", "sin", "jfk"}
			for i := range 5 {
				rec.Record(testSweep(end.Add(-time.Duration(5-i)*time.Minute), pops, i))
			}
			drain(t, rec)
			if err := rec.Close(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			_, dropped, lastErr := rec.Status()
			if dropped != 0 || lastErr != nil {
				t.Fatalf("dropped %d, last error %v; log:\n%s", dropped, lastErr, log)
			}
			if strings.Contains(log.String(), "conflict") || strings.Contains(log.String(), "keeps") {
				t.Errorf("recording hit a type conflict:\n%s", log)
			}
			after := fieldTypesOf(t, cfg)
			for m, fields := range after {
				for fld, types := range fields {
					if len(types) != 1 {
						t.Errorf("%s.%s has types %v after recording", m, fld, types)
					}
					if old := before[m][fld]; len(old) > 0 && old[0] != types[0] {
						t.Errorf("%s.%s was %s, now %v", m, fld, old[0], types)
					}
				}
			}
			if got, want := countPoints(t, cfg, "ping", "loss_pct"), len(f.pings)+5*12; got != want {
				t.Errorf("ping points = %d, want %d", got, want)
			}
			if got, want := countPoints(t, cfg, "traceroute", "as_path"), 1+5*12; got != want {
				t.Errorf("traceroute points = %d, want %d", got, want)
			}

			// Both generations read back: the workshop's (fixture, 10+ min ago) and ours.
			r, _ := NewReader(cfg, time.Hour)
			r.SetEnd(end)
			m, err := r.Matrix(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			if c := m.Cell("ams", "fra"); c == nil || c.Samples != 20+5 {
				t.Fatalf("ams→fra = %+v, want 25 samples", c)
			}
			if c := m.Cell("ams", "jfk"); c == nil || c.Samples != 5 || !near(c.Values[mesh.Latency][mesh.Last], (14+11+12+10.5)/4) {
				t.Errorf("ams→jfk (meshtop only) = %+v", c)
			}
			// Sweep 3 (salt 3) failed ams→fra and the newest (salt 4) did not.
			traces, err := r.PairTraces(ctxT(t), "ams", "fra")
			if err != nil {
				t.Fatal(err)
			}
			if len(traces) != 6 {
				t.Fatalf("traces = %d, want 6 (1 workshop + 5 meshtop)", len(traces))
			}
			if traces[0].Hops != nil || traces[0].ASPath != "64511 * 64513" || traces[0].FinalHopTTL != 3 || traces[0].Failed {
				t.Errorf("workshop trace = %+v", traces[0])
			}
			last := traces[len(traces)-1]
			if len(last.Hops) != 3 || last.Hops[1].NoResponse != true || last.Hops[2].ASN != 64513 || last.ASPath != "64511 * 64513" ||
				last.FinalHopTTL != 3 || last.DPort != 80 || last.Proto != "ICMP" || last.Src != "ams-1" {
				t.Errorf("meshtop trace = %+v", last)
			}
			// Each probe of a hop (meshtop's agent sends several) is kept for the hop table.
			if p := last.Hops[0].Probes; len(p) != 3 || !p[1].Lost() || p[2] != (mesh.HopProbe{Addr: "198.18.9.1", RTT: 1.7}) {
				t.Errorf("probes of hop 1 read back: %+v", p)
			}
		})
	}
}

func TestRecordLearnsTypeFromConflict(t *testing.T) {
	// A database where failed is a float and as_path... a float too (someone's converter
	// listed it): a write-only recorder cannot read the types, writes the workshop's,
	// gets "field type conflict" and rewrites with the types the errors name.
	s, cfg := testDB(t, true)
	now := time.Now().UTC().Truncate(time.Minute)
	lines := fmt.Sprintf("ping,dst=198.18.0.2,dst_pop=fra,src_pop=ams,src_slug=ams-1 avg_rtt_ms=5.0,failed=0,loss_pct=0.0 %d\n"+
		"traceroute,dst=198.18.0.2,dst_pop=fra,src_pop=ams,src_slug=ams-1 as_path=1.0,failed=1i,final_hop_ttl=3i %d\n",
		now.Add(-30*time.Minute).UnixNano(), now.Add(-30*time.Minute).UnixNano())
	if err := s.WriteLines(ctxT(t), DefaultDatabase, lines); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctxT(t), "wo", "secret-wo-pw", "WRITE", DefaultDatabase); err != nil {
		t.Fatal(err)
	}
	log := &logSink{}
	rec, err := NewRecorder(RecorderConfig{Config: Config{URL: s.URL, Username: "wo", Password: "secret-wo-pw"},
		PublicIP: "203.0.113.10", Logf: log.logf, MinBackoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rec.Record(testSweep(now.Add(-2*time.Minute), []string{"ams", "fra", "sin"}, 1))
	rec.Record(testSweep(now.Add(-1*time.Minute), []string{"ams", "fra", "sin"}, 2))
	drain(t, rec)
	if err := rec.Close(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if _, dropped, err := rec.Status(); dropped != 0 || err != nil {
		t.Fatalf("dropped %d, %v; log:\n%s", dropped, err, log)
	}
	for _, want := range []string{"ping.failed as float", "traceroute.failed as integer", "cannot read field types"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log.String(), "secret-wo-pw") {
		t.Errorf("log shows the password:\n%s", log)
	}
	admin := cfg
	if got := countPoints(t, admin, "ping", "failed"); got != 1+2*6 {
		t.Errorf("ping points with failed = %d, want 13", got)
	}
	// as_path cannot be a number: those points are kept without it, but with the rest.
	if got := countPoints(t, admin, "traceroute", "final_hop_ttl"); got != 1+2*6 {
		t.Errorf("traceroute points = %d, want 13", got)
	}
	ft := fieldTypesOf(t, admin)
	if len(ft["ping"]["failed"]) != 1 || len(ft["traceroute"]["failed"]) != 1 {
		t.Errorf("types after recording: %v", ft)
	}
	// The read-only path reads failed as float just as well.
	r, _ := NewReader(cfg, time.Hour)
	m, err := r.Matrix(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Cell("ams", "fra"); c == nil || c.Samples != 3 || c.Failed[mesh.Last] || c.Last.Failed {
		t.Errorf("ams→fra = %+v", c)
	}
}

func TestRecordSurvivesOutage(t *testing.T) {
	s, cfg := testDB(t, false)
	log := &logSink{}
	rec, err := NewRecorder(RecorderConfig{Config: cfg, PublicIP: "203.0.113.10", Logf: log.logf,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	pops := []string{"ams", "fra", "sin"}
	start := time.Now().UTC().Truncate(time.Minute).Add(-30 * time.Minute)
	for i := range 3 {
		rec.Record(testSweep(start.Add(time.Duration(i)*time.Minute), pops, i))
	}
	drain(t, rec)
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	for i := 3; i < 10; i++ {
		rec.Record(testSweep(start.Add(time.Duration(i)*time.Minute), pops, i))
	}
	// The recorder notices the outage and keeps everything.
	deadline := time.Now().Add(20 * time.Second)
	for {
		backlog, dropped, lastErr := rec.Status()
		if lastErr != nil {
			if backlog != 7*12 || dropped != 0 {
				t.Fatalf("during the outage: backlog %d dropped %d, want %d and 0", backlog, dropped, 7*12)
			}
			if !strings.Contains(lastErr.Error(), "127.0.0.1") {
				t.Errorf("outage error does not say where: %v", lastErr)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no error reported while influxd is down")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a few failed retries
	if err := s.Restart(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	drain(t, rec)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rec.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, dropped, lastErr := rec.Status(); dropped != 0 || lastErr != nil {
		t.Fatalf("after recovery: dropped %d, error %v", dropped, lastErr)
	}
	if got := countPoints(t, cfg, "ping", "loss_pct"); got != 10*6 {
		t.Errorf("ping points = %d, want 60 (none lost)", got)
	}
	if got := countPoints(t, cfg, "traceroute", "as_path"); got != 10*6 {
		t.Errorf("traceroute points = %d, want 60 (none lost)", got)
	}
	if !strings.Contains(log.String(), "resumed") {
		t.Errorf("log lacks the recovery:\n%s", log)
	}
}

func TestRecordBufferOverflow(t *testing.T) {
	// Nothing listens there: every write fails.
	rec, err := NewRecorder(RecorderConfig{Config: Config{URL: "http://127.0.0.1:1", Username: "u", Password: "pw-never-shown"},
		Buffer: 30, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for i := range 5 {
		rec.Record(testSweep(now.Add(time.Duration(i)*time.Minute), []string{"ams", "fra"}, i*2)) // 4 points each
	}
	backlog, dropped, lastErr := rec.Status()
	if backlog != 20 || dropped != 0 {
		t.Fatalf("backlog %d dropped %d, want 20 and 0", backlog, dropped)
	}
	for i := range 5 {
		rec.Record(testSweep(now.Add(time.Duration(10+i)*time.Minute), []string{"ams", "fra"}, i*2))
	}
	backlog, dropped, lastErr = rec.Status()
	if backlog > 30 || backlog+int(dropped) != 40 || dropped == 0 {
		t.Fatalf("backlog %d dropped %d, want <= 30 and 40 in all", backlog, dropped)
	}
	if lastErr == nil || !strings.Contains(lastErr.Error(), "dropped") || !strings.Contains(lastErr.Error(), "--record-buffer") {
		t.Errorf("overflow error = %v", lastErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err = rec.Close(ctx)
	if err == nil || !strings.Contains(err.Error(), "points not written") {
		t.Fatalf("Close = %v, want a count of unwritten points", err)
	}
	if strings.Contains(err.Error(), "pw-never-shown") {
		t.Errorf("error shows the password: %v", err)
	}
}

func TestRecordWrongPasswordKeepsPoints(t *testing.T) {
	s, _ := testDB(t, true)
	rec, err := NewRecorder(RecorderConfig{Config: Config{URL: s.URL, Username: influxtest.AdminUser, Password: "wrong-pw-xyz"},
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rec.Record(testSweep(time.Now(), []string{"ams", "fra"}, 0))
	deadline := time.Now().Add(10 * time.Second)
	for {
		backlog, dropped, lastErr := rec.Status()
		if lastErr != nil {
			if backlog != 4 || dropped != 0 {
				t.Errorf("backlog %d dropped %d", backlog, dropped)
			}
			msg := lastErr.Error()
			if !strings.Contains(msg, "401") || !strings.Contains(msg, "INFLUX_PASSWORD") || strings.Contains(msg, "wrong-pw-xyz") {
				t.Errorf("auth error = %q", msg)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no error for a wrong password")
		}
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := rec.Close(ctx); err == nil || strings.Contains(err.Error(), "wrong-pw-xyz") {
		t.Errorf("Close = %v", err)
	}
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in, err string
	}{
		{"http://127.0.0.1:8086", ""},
		{"https://influx.example:8086/prefix/", ""},
		{"http://bob:hunter2@127.0.0.1:8086", "INFLUX_PASSWORD"},
		{"http://bob@127.0.0.1:8086", "INFLUX_USERNAME"},
		{"ftp://127.0.0.1", "scheme"},
		{"127.0.0.1:8086", "http://host:8086"},
		{"", "no InfluxDB URL"},
		{"http://", "no host"},
	} {
		_, err := ParseURL(tc.in)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("ParseURL(%q) = %v", tc.in, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseURL(%q) = %v, want error with %q", tc.in, err, tc.err)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ParseURL(%q) error shows the password: %v", tc.in, err)
		}
	}
}

func TestRecordWaitsForMissingDatabase(t *testing.T) {
	s := influxtest.Start(t, influxtest.Options{})
	cfg := Config{URL: s.URL, Database: "later"}
	rec, err := NewRecorder(RecorderConfig{Config: cfg, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rec.Record(testSweep(time.Now().UTC().Add(-time.Minute), []string{"ams", "fra"}, 0))
	deadline := time.Now().Add(10 * time.Second)
	for {
		backlog, _, lastErr := rec.Status()
		if lastErr != nil {
			if backlog != 4 || !strings.Contains(lastErr.Error(), `has no database "later"`) {
				t.Fatalf("backlog %d, error %v", backlog, lastErr)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no error for a missing database")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.CreateDatabase(ctxT(t), "later"); err != nil {
		t.Fatal(err)
	}
	drain(t, rec)
	if err := rec.Close(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if got := countPoints(t, cfg, "ping", "loss_pct"); got != 2 {
		t.Errorf("ping points = %d, want 2", got)
	}
}
