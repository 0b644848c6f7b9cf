package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// slowMeans is a real reverse proxy in front of influxd that holds back the answers to
// the mesh's mean/max statements until release is closed, so the test can see the
// progressive grid before the full read completes (on real data that read takes
// seconds; here it waits for the test).
func slowMeans(t *testing.T, target string, release <-chan struct{}) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	held := &atomic.Int64{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err == nil {
			q := r.Form.Get("q")
			if strings.Contains(q, "mean(") || strings.Contains(q, "max(") {
				held.Add(1)
				select {
				case <-release:
				case <-r.Context().Done():
					return
				}
			}
			r.Body = http.NoBody
			r.ContentLength = 0
			r.URL.RawQuery = r.Form.Encode()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, held
}

// TestHistoryInTmux: the real binary in tmux over a real influxd: a grid (the newest
// tests) shows while the means are still loading, then the means; the window picker and
// stepping back in time change the range in the status bar.
func TestHistoryInTmux(t *testing.T) {
	srv, ctx := metricsDB(t, 60*time.Second)
	end := time.Now().UTC().Truncate(time.Minute)
	lines := meshLines([]string{"ams", "fra", "sin"}, end, 30, func(i, si, di int) int {
		if i == 29 {
			return 10 + 30*si + 7*di + 500 // the newest test: "last" reads differently from the mean
		}
		return 10 + 30*si + 7*di
	})
	if err := srv.WriteLines(ctx, "metricsdb", lines); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	proxy, held := slowMeans(t, srv.URL, release)
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	bin := buildBinary(t)
	cmd := fmt.Sprintf("env XDG_CONFIG_HOME=%s %s history --influx-url %s --window 1h --refresh 0 --metric latency; e=$?; echo meshtop-exit=$e; exit $e",
		t.TempDir(), bin, proxy.URL)
	s := newTmux(t, 160, 48, cmd)
	// The newest tests paint at once; the means are held back.
	scr := s.waitFor("src\\dst", "ams", "1h to now", "loading mean")
	if !strings.Contains(scr, "Latency (ms, last)") || !strings.Contains(scr, "517") {
		t.Fatalf("no grid of newest tests while the means load:\n%s", scr)
	}
	if held.Load() == 0 {
		t.Fatal("the mean was not asked for")
	}
	close(release)
	// The read completes: the means, then the remaining steps, and nothing left loading.
	s.waitForWithout("loading", "Latency (ms, mean)")
	// Window picker: 1h -> 6h; then a step back in time.
	s.keys("w")
	s.waitFor("6h to now")
	s.keys("[")
	want := "6h to " + end.Add(-6*time.Hour).Local().Format("01-02")
	scr = s.waitFor(want)
	if strings.Contains(scr, "to now") {
		t.Errorf("step back still reads to now:\n%s", scr)
	}
	s.keys("n")
	s.waitFor("6h to now", "Latency (ms, mean)")
	s.keys("q")
	s.waitQuit(bin)
}
