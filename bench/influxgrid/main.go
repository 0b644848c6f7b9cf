// Command influxgrid measures history against the workshop's dashboards on the same
// data, in one run: a mesh of -pops PoPs with -hours of -interval data (50 PoPs, 24 h,
// 60 s: 50*49*1440 ≈ 3.5M points) is written into influxd (kept in -dir for the next
// run), the rollups are backfilled and 30 days of older 1 h rollup rows added, then the
// dashboard's panel queries and each meshtop step (first paint, stat on screen, filled,
// p95, incremental refresh, drill-down, 7 d and 30 d from rollups, the candidate forms of
// the mean over successful tests, and snapshot's reads with and without rollups) are
// timed interleaved and printed as ratios to the dashboard's latency panel and to its
// three panels.
//
//	go run ./bench/influxgrid -dir /tmp/mt-influxgrid-50x24   # generate once, reuse
//	go run ./bench/influxgrid -hours 6 -runs 9
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
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
	snapshotOnly := flag.Bool("snapshot", false, "time only the dashboard's panels, snapshot's reads and the raw first grid, interleaved (quicker, for -runs 9 or more)")
	flag.Parse()
	serveFor = *serve
	onlySnapshot = *snapshotOnly
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
	// The window ends just after the newest sweep (absolute times, not now()), so every
	// run scans exactly the generated points however long the runs take.
	last, err := newest(srv.URL)
	if err != nil {
		return err
	}
	wend := last.Add(time.Second)
	if err = prepareRollups(ctx, srv, dir, wend, pops, hours, reuse); err != nil {
		return err
	}
	if onlySnapshot {
		return measureSnapshot(ctx, srv.URL, wend, window, runs)
	}
	return measure(ctx, srv.URL, wend, window, pops, sweeps, runs)
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

var (
	serveFor     time.Duration
	onlySnapshot bool
)

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
	if len(ds) == 0 {
		return 0 // not measured (a step a read no longer has)
	}
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
