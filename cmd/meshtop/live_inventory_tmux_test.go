package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshtop/meshtop/probe/scoutertest"
)

// agentLines starts a fake agent per PoP and returns the inventory entry of each.
func agentLines(t *testing.T, pops ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for i, pop := range pops {
		s := scoutertest.New(scoutertest.Config{Secret: testSecret, RTT: fixedRTT(float64(10 * (i + 1)))})
		t.Cleanup(s.Close)
		out[pop] = fmt.Sprintf("  - {name: scouter-%s-0, pop: %s, address: 198.18.0.%d, url: %q}\n", pop, pop, i+1, s.URL)
	}
	return out
}

func invOf(lines map[string]string, pops ...string) string {
	var b strings.Builder
	b.WriteString("agents:\n")
	for _, p := range pops {
		b.WriteString(lines[p])
	}
	return b.String()
}

// replaceFile writes as editors do: a new file renamed over the old one.
func replaceFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path+".new", []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
}

// gridCols is the PoP header of the grid: the columns.
func gridCols(screen string) []string {
	for _, l := range strings.Split(screen, "\n") {
		if i := strings.Index(l, "src\\dst"); i >= 0 {
			head, _, _ := strings.Cut(l[i:], "│")
			return strings.Fields(head)[1:]
		}
	}
	return nil
}

func (s *tmuxSession) waitCols(want ...string) string {
	s.t.Helper()
	var scr string
	s.waitUntil(func(x string) bool { scr = x; return slices.Equal(gridCols(x), want) }, fmt.Sprintf("columns %v", want))
	return scr
}

// waitUntil polls the screen until ok says so, for at most 20 s.
func (s *tmuxSession) waitUntil(ok func(string) bool, what string) {
	s.t.Helper()
	scr := ""
	for range 400 {
		scr = s.screen()
		if ok(scr) {
			return
		}
		sleepPoll()
	}
	s.t.Fatalf("screen never showed %s; last screen:\n%s", what, scr)
}

// The inventory file is followed while live runs: an agent added shows, a bad edit is
// refused with its reason on screen and the last good mesh goes on, an agent removed
// leaves the grid. No restart.
func TestLiveFollowsInventoryFile(t *testing.T) {
	bin := buildBinary(t)
	lines := agentLines(t, "ams", "jfk", "syd")
	inv := filepath.Join(t.TempDir(), "agents.yaml")
	replaceFile(t, inv, invOf(lines, "ams", "jfk"))
	cmd := fmt.Sprintf("env SCOUTER_SECRET=%s XDG_CONFIG_HOME=%s %s live --inventory %s --interval 1s --traceroute-interval 0 --count 1; e=$?; echo meshtop-exit=$e; exit $e",
		testSecret, t.TempDir(), bin, inv)
	s := newTmux(t, 200, 40, cmd)
	s.waitCols("ams", "jfk")

	replaceFile(t, inv, invOf(lines, "ams", "jfk", "syd"))
	s.waitCols("ams", "jfk", "syd")

	// A bad edit: said on screen (file, line, what), and the mesh goes on as it was.
	replaceFile(t, inv, invOf(lines, "ams", "jfk")+"  - {name: x, pop: LHR, address: 198.18.0.9}\n")
	s.waitUntil(func(x string) bool {
		return strings.Contains(x, `agents.yaml:4: agent "x": pop "LHR" must be lower case`)
	}, "the refused edit and why")
	if cols := gridCols(s.screen()); !slices.Equal(cols, []string{"ams", "jfk", "syd"}) {
		t.Fatalf("after a bad edit the grid shows %v, want the last good ams jfk syd", cols)
	}

	// jfk removed: it leaves the grid.
	replaceFile(t, inv, invOf(lines, "ams", "syd"))
	s.waitCols("ams", "syd")
	s.keys("q")
	s.waitQuit(bin)
}

// An inventory URL is fetched with If-None-Match while live runs (304s while nothing
// changed) and a change shows without a restart.
func TestLiveFollowsInventoryURL(t *testing.T) {
	bin := buildBinary(t)
	lines := agentLines(t, "ams", "jfk", "syd")
	var mu sync.Mutex
	text, version, notModified := invOf(lines, "ams", "jfk"), 1, 0
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		etag := fmt.Sprintf(`"v%d"`, version)
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			notModified++
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write([]byte(text))
	}))
	t.Cleanup(ts.Close)
	cmd := fmt.Sprintf("env SCOUTER_SECRET=%s XDG_CONFIG_HOME=%s %s live --inventory %s/mesh.yaml --rediscover 1s --interval 1s --traceroute-interval 0 --count 1; e=$?; echo meshtop-exit=$e; exit $e",
		testSecret, t.TempDir(), bin, ts.URL)
	s := newTmux(t, 160, 40, cmd)
	s.waitCols("ams", "jfk")
	s.waitUntil(func(string) bool { mu.Lock(); defer mu.Unlock(); return notModified >= 2 }, "conditional requests answered 304")
	mu.Lock()
	text, version = invOf(lines, "ams", "jfk", "syd"), 2
	mu.Unlock()
	s.waitCols("ams", "jfk", "syd")
	s.keys("q")
	s.waitQuit(bin)
}

func sleepPoll() { time.Sleep(50 * time.Millisecond) }
