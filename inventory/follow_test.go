package inventory

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

func invText(pops ...string) string {
	var b strings.Builder
	b.WriteString("agents:\n")
	for i, p := range pops {
		fmt.Fprintf(&b, "  - {name: a-%s, pop: %s, address: 198.18.0.%d}\n", p, p, i+1)
	}
	return b.String()
}

func pops(as []mesh.Agent) string {
	var out []string
	for _, a := range as {
		out = append(out, a.Pop)
	}
	return strings.Join(out, ",")
}

// write replaces the file as editors do: a new file renamed over the old one.
func write(t *testing.T, path, text string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// A change is read; a bad edit keeps the last good list and says why, once; the fix
// is read; a file gone keeps the list too.
func TestFileFollowsChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agents.yaml")
	write(t, path, invText("ams", "jfk"))
	f := &File{Path: path, Port: 8000}
	ctx := context.Background()
	as, err := f.Agents(ctx)
	if err != nil || pops(as) != "ams,jfk" {
		t.Fatalf("first read: %s, %v", pops(as), err)
	}
	write(t, path, invText("ams", "jfk", "syd"))
	if as, err = f.Agents(ctx); err != nil || pops(as) != "ams,jfk,syd" {
		t.Fatalf("after adding syd: %s, %v", pops(as), err)
	}
	// In place, same size: the time tells.
	time.Sleep(10 * time.Millisecond)
	if err := os.WriteFile(path, []byte(invText("ams", "jfk", "sin")), 0o600); err != nil {
		t.Fatal(err)
	}
	if as, err = f.Agents(ctx); err != nil || pops(as) != "ams,jfk,sin" {
		t.Fatalf("after an in-place edit: %s, %v", pops(as), err)
	}
	write(t, path, invText("ams", "jfk", "sin")+"  - {name: x, pop: BAD, address: 198.18.0.9}\n")
	as, err = f.Agents(ctx)
	if err == nil || as != nil || !strings.Contains(err.Error(), "still probing the 3 agents of the last good version") ||
		!strings.Contains(err.Error(), path+":5:") || !strings.Contains(err.Error(), "lower case") {
		t.Fatalf("bad edit: %v, %v", pops(as), err)
	}
	// Said once; meanwhile the last good list.
	for range 3 {
		if as, err = f.Agents(ctx); err != nil || pops(as) != "ams,jfk,sin" {
			t.Fatalf("after the bad edit was said: %s, %v", pops(as), err)
		}
	}
	write(t, path, invText("ams"))
	if as, err = f.Agents(ctx); err != nil || pops(as) != "ams" {
		t.Fatalf("after the fix: %s, %v", pops(as), err)
	}
	os.Remove(path)
	if _, err = f.Agents(ctx); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("file gone: %v", err)
	}
	if as, err = f.Agents(ctx); err != nil || pops(as) != "ams" {
		t.Fatalf("file still gone: %s, %v", pops(as), err)
	}
	// The very first read has nothing to keep: its problem is the error.
	if _, err := (&File{Path: path, Port: 8000}).Agents(ctx); err == nil {
		t.Fatal("a missing file read fine")
	}
}

// listServer serves an inventory with an ETag and Last-Modified, answers 304 to a
// request that has them, and can be told to misbehave.
type listServer struct {
	mu    sync.Mutex
	text  string
	etag  string
	mod   time.Time
	hits  int
	delay time.Duration
	code  int
	big   bool
}

func (s *listServer) set(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.text = text
	s.etag = fmt.Sprintf(`"v%d"`, len(text)+s.hits)
	s.mod = s.mod.Add(time.Minute)
}

func (s *listServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits++
	text, etag, mod, delay, code, big := s.text, s.etag, s.mod, s.delay, s.code, s.big
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if code != 0 {
		http.Error(w, "<html>upstream down</html>", code)
		return
	}
	if big {
		w.Write([]byte("agents:\n"))
		for range 1 << 12 {
			w.Write([]byte(strings.Repeat("#", 1023) + "\n"))
		}
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", mod.UTC().Format(http.TimeFormat))
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write([]byte(text))
}

func TestRemoteFollowsChanges(t *testing.T) {
	ls := &listServer{mod: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	ls.set(invText("ams", "jfk"))
	ts := httptest.NewTLSServer(ls)
	t.Cleanup(ts.Close)
	r := &Remote{URL: ts.URL + "/mesh.yaml", Port: 8000, HTTP: ts.Client(), Timeout: 700 * time.Millisecond, MaxBytes: 1 << 20}
	ctx := context.Background()
	as, err := r.Agents(ctx)
	if err != nil || pops(as) != "ams,jfk" {
		t.Fatalf("first fetch: %s, %v", pops(as), err)
	}
	// Unchanged: a 304, the list kept.
	if as, err = r.Agents(ctx); err != nil || pops(as) != "ams,jfk" || r.NotModified != 1 {
		t.Fatalf("unchanged: %s, %v, %d not modified", pops(as), err, r.NotModified)
	}
	ls.set(invText("ams", "jfk", "syd"))
	if as, err = r.Agents(ctx); err != nil || pops(as) != "ams,jfk,syd" {
		t.Fatalf("changed: %s, %v", pops(as), err)
	}
	for _, tc := range []struct {
		name string
		mod  func()
		want string
	}{
		{"server error", func() { ls.code = 502 }, "HTTP 502"},
		{"too slow", func() { ls.delay = 5 * time.Second }, "no answer within 700ms"},
		{"too big", func() { ls.big = true }, "larger than"},
		{"bad list", func() { ls.set(invText("ams") + "  - {name: y, pop: x}\n") }, "address is missing"},
		{"secret file", func() {
			ls.set(invText("ams") + "  - {name: y, pop: x, address: 198.18.0.7, secret_file: /etc/shadow}\n")
		}, "may not name secrets"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ls.mu.Lock()
			ls.code, ls.delay, ls.big = 0, 0, false
			ls.mu.Unlock()
			tc.mod()
			as, err := r.Agents(ctx)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "still probing the 3 agents") {
				t.Fatalf("%s, %v; want an error with %q", pops(as), err, tc.want)
			}
			if as, err = r.Agents(ctx); err != nil || pops(as) != "ams,jfk,syd" {
				t.Fatalf("then: %s, %v; want the last good list, quietly", pops(as), err)
			}
		})
	}
}

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"https://lists.example.net/mesh.yaml", ""},
		{"http://127.0.0.1:8080/mesh.yaml", ""},
		{"http://[::1]:8080/mesh.yaml", ""},
		{"http://lists.example.net/mesh.yaml", "plain http is only fetched from this machine"},
		{"https://user:pw@lists.example.net/", "user or password"},
		{"ftp://x/y", "want https://"},
	} {
		if got := CheckURL(tc.url); (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.url, got, tc.want)
		}
	}
}
