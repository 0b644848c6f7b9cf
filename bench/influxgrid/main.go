// Command influxgrid measures the time to the first grid from InfluxDB: a mesh of -pops
// PoPs with -hours of -interval data (50 PoPs, 24 h, 60 s: 50*49*1440 ≈ 3.5M points) is
// written into a fresh influxd, then meshtop's Reader.Matrix (the whole history path:
// field-type check, the aggregate query, decoding, building the matrix) is timed next to
// the same query sent with curl in the same run. The difference is meshtop's overhead.
//
//	go run ./bench/influxgrid                 # 50 PoPs, 24 h
//	go run ./bench/influxgrid -hours 6 -runs 9
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/meshtop/meshtop/influx"
	"github.com/meshtop/meshtop/influx/influxtest"
	"github.com/meshtop/meshtop/mesh"
)

func main() {
	pops := flag.Int("pops", 50, "PoPs (one agent each); pairs = pops*(pops-1)")
	hours := flag.Float64("hours", 24, "hours of data")
	interval := flag.Duration("interval", time.Minute, "sweep interval")
	batch := flag.Int("batch", 10000, "points per write")
	writers := flag.Int("writers", 2, "concurrent writers")
	runs := flag.Int("runs", 7, "timed runs of each (median reported)")
	dir := flag.String("dir", "", "keep influxd's data in `DIR` and reuse it when it is there (skips generating; same -pops/-hours/-interval)")
	serve := flag.Duration("serve", 0, "after loading, print the URL and keep influxd up this long (for manual queries) instead of timing")
	flag.Parse()
	serveFor = *serve
	if err := run(*dir, *pops, *hours, *interval, *batch, *writers, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "influxgrid:", err)
		os.Exit(1)
	}
}

func run(dir string, nPops int, hours float64, interval time.Duration, batchSize, writers, runs int) error {
	if _, err := exec.LookPath("curl"); err != nil {
		return fmt.Errorf("curl is needed for the bare query time: %w", err)
	}
	reuse := false
	if dir == "" {
		d, err := os.MkdirTemp("", "mt-influxgrid-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	} else if _, err := os.Stat(filepath.Join(dir, "data", influx.DefaultDatabase)); err == nil {
		reuse = true
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ctx := context.Background()
	srv, err := influxtest.Launch(ctx, dir, influxtest.Options{})
	if err != nil {
		return err
	}
	defer srv.Stop()
	if err := srv.CreateDatabase(ctx, influx.DefaultDatabase); err != nil {
		return err
	}

	pops := make([]string, nPops)
	for i := range pops {
		pops[i] = fmt.Sprintf("p%02d", i)
	}
	sweeps := int(hours * float64(time.Hour) / float64(interval))
	end := time.Now().UTC().Truncate(interval)
	total := sweeps * nPops * (nPops - 1)
	fmt.Printf("influxd %s, %d PoPs, %d pairs, %d sweeps (%.1f h at %s): %d points\n",
		version(), nPops, nPops*(nPops-1), sweeps, hours, interval, total)

	window := time.Duration(hours * float64(time.Hour))
	if reuse {
		fmt.Printf("reusing the data in %s\n", dir)
	} else {
		t0 := time.Now()
		if err := generate(ctx, srv, pops, sweeps, end, interval, batchSize, writers); err != nil {
			return err
		}
		gen := time.Since(t0)
		fmt.Printf("generate+write: %s (%.0f points/s)\n", gen.Round(time.Millisecond), float64(total)/gen.Seconds())
	}

	if serveFor > 0 {
		fmt.Println("serving", srv.URL)
		time.Sleep(serveFor)
		return nil
	}
	r, err := influx.NewReader(influx.Config{URL: srv.URL, Timeout: 10 * time.Minute}, window)
	if err != nil {
		return err
	}
	// The window ends just after the newest sweep (absolute times, not now()), so every
	// run scans exactly the generated points however long the runs take.
	last, err := newest(srv.URL)
	if err != nil {
		return err
	}
	r.SetEnd(last.Add(time.Second))
	startLit := last.Add(time.Second - window).Format(time.RFC3339Nano)
	endLit := last.Add(time.Second).Format(time.RFC3339Nano)
	q := r.MatrixQuery()
	curlOnce := func(query string) (time.Duration, error) {
		cmd := exec.Command("curl", "-sS", "-o", "/dev/null", "-w", "%{time_total} %{http_code}", "-XPOST",
			srv.URL+"/query?db="+influx.DefaultDatabase, "--data-urlencode", "q="+query)
		out, err := cmd.Output()
		if err != nil {
			return 0, fmt.Errorf("curl: %w", err)
		}
		f := strings.Fields(string(out))
		if len(f) != 2 || f[1] != "200" {
			return 0, fmt.Errorf("curl answered %q", out)
		}
		s, err := strconv.ParseFloat(f[0], 64)
		return time.Duration(s * float64(time.Second)), err
	}
	// First grid, cold (right after the write): what a user sees on start.
	t1 := time.Now()
	m, err := r.Matrix(ctx)
	if err != nil {
		return err
	}
	first := time.Since(t1)
	if got := len(m.Pops); got != nPops {
		return fmt.Errorf("matrix has %d PoPs, want %d", got, nPops)
	}
	c := m.Cell(pops[0], pops[1])
	if c == nil || c.Samples != sweeps {
		return fmt.Errorf("cell %s→%s = %+v, want %d samples", pops[0], pops[1], c, sweeps)
	}
	fmt.Printf("first grid (cold): %s\n", first.Round(time.Millisecond))

	// Interleaved runs so both see the same server state.
	var mt, ct, dash []time.Duration
	dashQ := fmt.Sprintf(`select mean(avg_rtt_ms) from ping where time > '%s' and time <= '%s' and dst_pop != 'Unknown' group by dst_pop, src_pop`, startLit, endLit)
	for range runs {
		d, err := curlOnce(q)
		if err != nil {
			return err
		}
		ct = append(ct, d)
		t := time.Now()
		if _, err := r.Matrix(ctx); err != nil {
			return err
		}
		mt = append(mt, time.Since(t))
		d, err = curlOnce(dashQ)
		if err != nil {
			return err
		}
		dash = append(dash, d)
	}
	mc, cc := median(mt), median(ct)
	fmt.Printf("meshtop Reader.Matrix:   median %s  (runs %s)\n", mc.Round(time.Millisecond), list(mt))
	fmt.Printf("same query with curl:    median %s  (runs %s)\n", cc.Round(time.Millisecond), list(ct))
	fmt.Printf("meshtop overhead:        %s = %.1f%% of the query\n", (mc - cc).Round(time.Millisecond), 100*float64(mc-cc)/float64(cc))
	fmt.Printf("for scale, the workshop dashboard's mean(avg_rtt_ms) mesh query with curl: median %s\n", median(dash).Round(time.Millisecond))
	// meshtop's own work, isolated from the server's noise: the answers of this run are
	// replayed by a local server that does no work, and Reader.Matrix is timed against it
	// (HTTP round trips, JSON decoding, building the cells).
	own, size, err := replay(srv.URL, r, last, window, runs*3)
	if err != nil {
		return err
	}
	fmt.Printf("meshtop's own work on the same answers (%.1f MB, replayed): median %s = %.1f%% of the query\n",
		float64(size)/1e6, own.Round(time.Millisecond), 100*float64(own)/float64(cc))
	var ht []time.Duration
	for range runs {
		t := time.Now()
		h, err := r.PairHistory(ctx, pops[0], pops[1], 120)
		if err != nil {
			return err
		}
		if len(h) == 0 {
			return fmt.Errorf("no history for %s→%s", pops[0], pops[1])
		}
		ht = append(ht, time.Since(t))
	}
	fmt.Printf("one pair's history (120 buckets): median %s\n", median(ht).Round(time.Millisecond))
	return nil
}

// generate writes the mesh with the workshop's types, as Telegraf would have.
func generate(ctx context.Context, srv *influxtest.Server, pops []string, sweeps int, end time.Time, interval time.Duration, batchSize, writers int) error {
	work := make(chan []byte, writers)
	errc := make(chan error, writers)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for b := range work {
				if err := srv.WriteLines(ctx, influx.DefaultDatabase, string(b)); err != nil {
					select {
					case errc <- err:
					default:
					}
				}
			}
		})
	}
	var buf bytes.Buffer
	n := 0
	schema := influx.WorkshopSchema()
	rtts := make([]float64, 5)
	var err error
	for s := range sweeps {
		at := end.Add(-time.Duration(sweeps-1-s) * interval)
		for si, src := range pops {
			for di, dst := range pops {
				if si == di {
					continue
				}
				base := 5 + float64((si*7+di*13)%250)
				for k := range rtts {
					rtts[k] = base + math.Abs(math.Sin(float64(s*5+k+si)))*3
				}
				if (s+si+di)%97 == 0 {
					rtts[(s+si)%5] = mesh.Lost
				}
				r := mesh.PingResult{Time: at, Src: src + "-1", SrcPop: src, Dst: "198.18." + strconv.Itoa(di/200) + "." + strconv.Itoa(di%200+1), DstPop: dst}
				if (s+si*3+di)%1009 == 0 {
					r.DerivePing(5, []float64{mesh.Lost, mesh.Lost, mesh.Lost, mesh.Lost, mesh.Lost}, -1)
				} else {
					r.DerivePing(5, rtts, -1)
				}
				pt, _, perr := influx.PingPoint(r, "203.0.113.9", schema)
				if perr != nil {
					err = perr
					break
				}
				buf.WriteString(pt.String())
				buf.WriteByte('\n')
				if n++; n%batchSize == 0 {
					work <- slices.Clone(buf.Bytes())
					buf.Reset()
				}
			}
		}
	}
	if buf.Len() > 0 {
		work <- slices.Clone(buf.Bytes())
	}
	close(work)
	wg.Wait()
	if err != nil {
		return err
	}
	select {
	case err := <-errc:
		return fmt.Errorf("write: %w", err)
	default:
	}
	return nil
}

var serveFor time.Duration

// replay records InfluxDB's answers to Matrix's requests and serves them from memory.
func replay(url string, r *influx.Reader, last time.Time, window time.Duration, runs int) (time.Duration, int, error) {
	answers := map[string][]byte{}
	for _, q := range []string{`SHOW FIELD KEYS FROM "ping"`, r.MatrixQuery()} {
		out, err := exec.Command("curl", "-sS", "-XPOST", url+"/query?db="+influx.DefaultDatabase, "--data-urlencode", "q="+q).Output()
		if err != nil {
			return 0, 0, fmt.Errorf("curl: %w", err)
		}
		answers[q] = out
	}
	size := len(answers[r.MatrixQuery()])
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, ok := answers[req.FormValue("q")]
		if !ok {
			http.Error(w, `{"error":"not recorded"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer fake.Close()
	rr, err := influx.NewReader(influx.Config{URL: fake.URL}, window)
	if err != nil {
		return 0, 0, err
	}
	rr.SetEnd(last.Add(time.Second))
	var ts []time.Duration
	for range runs {
		t := time.Now()
		m, err := rr.Matrix(context.Background())
		if err != nil {
			return 0, 0, err
		}
		ts = append(ts, time.Since(t))
		if m.Len() == 0 {
			return 0, 0, fmt.Errorf("replayed matrix is empty")
		}
	}
	return median(ts), size, nil
}

// newest is the time of the newest ping point.
func newest(url string) (time.Time, error) {
	out, err := exec.Command("curl", "-sS", "-XPOST", url+"/query?db="+influx.DefaultDatabase,
		"--data-urlencode", `q=SELECT last("loss_pct") FROM "ping"`).Output()
	if err != nil {
		return time.Time{}, fmt.Errorf("curl: %w", err)
	}
	var res struct {
		Results []struct {
			Series []struct {
				Values [][]any `json:"values"`
			} `json:"series"`
		} `json:"results"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Results) == 0 || len(res.Results[0].Series) == 0 {
		return time.Time{}, fmt.Errorf("no data in the database (answer %.200s)", out)
	}
	s, _ := res.Results[0].Series[0].Values[0][0].(string)
	return time.Parse(time.RFC3339Nano, s)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func list(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.Round(time.Millisecond).String()
	}
	return strings.Join(parts, " ")
}

func version() string {
	out, err := exec.Command("influxd", "version").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}
