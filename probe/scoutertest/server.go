// Package scoutertest runs a real HTTP server on loopback that answers like upstream
// Scouter API v1.0 (SPEC 4 and its appendix A), quirks included: RTTs as 3-decimal
// strings, recv always null, an HTML 403 page, 400 on too many tests, 404 on unknown
// receipts, and the empty {} state right after a POST. Tests ran no real probes: results
// come from the Config's functions after a configurable test duration. It exists for
// tests and benchmarks of the client side; `meshtop agent` is the real agent.
package scoutertest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Mode makes the server misbehave in a chosen way.
type Mode int

// Modes.
const (
	Normal    Mode = iota
	Garbage        // every answer is 200 with a body that is not JSON
	HTMLPage       // every answer is 200 with an HTML page (a captive portal, a proxy)
	Status500      // every answer is a 500 HTML page
)

// Hop is a traceroute hop the server reports. Probes, when set, are its answers per
// probe as meshtop's agent lists them when asked for several probes per hop (an RTT
// below 0 is a lost probe; Addr answers the others); upstream never sends them.
type Hop struct {
	Addr   string // "" for a silent hop
	ASN    int
	RTT    float64
	Probes []float64
}

// Config shapes the server's answers.
type Config struct {
	Secret   string
	MaxTests int // default 10
	// TestDuration is how long every test takes; all tests of a POST run in parallel.
	TestDuration time.Duration
	// RTT gives the per-probe RTTs in ms for a ping to dst; a negative value is a lost
	// probe. Default: count probes around a stable value derived from dst.
	RTT func(dst string, count int) []float64
	// Trace gives the hops towards dst. Default: two hops then dst.
	Trace func(dst string) []Hop
	// EchoIDs: results carry the id the client sent (otherwise random ids, as an agent
	// that ignores them would).
	EchoIDs bool
	Mode    Mode
	// DropEmptyState turns off the {} answer to the first GET after a POST.
	DropEmptyState bool
	// Result, when set and answering non-nil, is the "result" object of a test as sent
	// (e.g. json.RawMessage for a hostile or malformed agent); see raw.go.
	Result func(typ, dst string) any
	// Addr is the loopback address to listen on, e.g. "127.0.0.2:8000" (several fake
	// agents on one port, as discovered agents share --scouter-port); default any port
	// of 127.0.0.1.
	Addr string
	// Procs is the number of worker processes tests run on (upstream's
	// SCOUTER_MAX_PROCESS_COUNT, default there 10): tests beyond it wait for a free one,
	// across POSTs. 0 runs every test at once.
	Procs int
	// TestTime, when set, is how long one test takes (instead of TestDuration): typ is
	// "ping" or "traceroute", count the ping count.
	TestTime func(typ, dst string, count int) time.Duration
	// Raw, when set, sees every request first; returning true means it answered (a
	// hostile or broken agent: control characters, redirects, huge bodies).
	Raw func(w http.ResponseWriter, r *http.Request) bool
	// OneAnswerPerConn answers one request per connection and then closes it without
	// "Connection: close", as upstream under uWSGI does: a request a client sends on
	// the kept-alive connection meets a reset (see oneanswer.go; Reused counts them).
	OneAnswerPerConn bool
}

// Server is a running fake agent.
type Server struct {
	URL string
	cfg Config
	ts  *httptest.Server

	mu       sync.Mutex
	receipts map[string]*receipt
	free     []time.Time // per worker process: when it is free again (Procs > 0)

	Posts, Gets, Deletes atomic.Int64
	MaxBatch             atomic.Int64 // largest accepted batch
	Refused              atomic.Int64 // POSTs refused as too large
	// Overlaps counts tests posted while a test of the same type to the same dst was
	// still running: the same pair measured twice at once.
	Overlaps atomic.Int64
	// Reused counts requests refused because they came on a connection that had had
	// its answer (OneAnswerPerConn).
	Reused atomic.Int64
	// PingWait is the longest a ping test waited for a worker process (Procs), in
	// nanoseconds: pings queued behind other tests.
	PingWait atomic.Int64
	// MaxReceipts is the most receipts that were running at once.
	MaxReceipts atomic.Int64

	one *oneAnswer
}

type receipt struct {
	keys    []string // type|dst of its tests
	done    time.Time
	polled  bool
	results map[string]any
}

// New starts a server on 127.0.0.1 (or cfg.Addr). Close it when done.
func New(cfg Config) *Server {
	s, err := Start(cfg)
	if err != nil {
		panic(fmt.Sprintf("scoutertest: %v", err))
	}
	return s
}

// Start is New with an error instead of a panic when cfg.Addr cannot be listened on.
func Start(cfg Config) (*Server, error) {
	if cfg.MaxTests <= 0 {
		cfg.MaxTests = 10
	}
	s := &Server{cfg: cfg, receipts: map[string]*receipt{}}
	var h http.Handler = http.HandlerFunc(s.serve)
	if cfg.OneAnswerPerConn {
		s.one = &oneAnswer{h: h, s: s, conns: map[net.Conn]bool{}}
		h = s.one
	}
	s.ts = httptest.NewUnstartedServer(h)
	if cfg.Addr != "" {
		l, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
		}
		s.ts.Listener.Close()
		s.ts.Listener = l
	}
	s.ts.Start()
	s.URL = s.ts.URL
	return s, nil
}

// Close stops the server.
func (s *Server) Close() {
	if s.one != nil {
		s.one.close()
	}
	s.ts.Close()
}

// CloseClientConnections drops open connections (to simulate an agent dying).
func (s *Server) CloseClientConnections() { s.ts.CloseClientConnections() }

const forbiddenPage = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<title>403 Forbidden</title>
<h1>Forbidden</h1>
<p>You don't have the permission to access the requested resource. It is either read-protected or not readable by the server.</p>
`

const badRequestPage = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<title>400 Bad Request</title>
<h1>Bad Request</h1>
<p>Failed to decode JSON object: Expecting value: line 1 column 1 (char 0)</p>
`

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // maps encode with sorted keys, as upstream's Flask does
}

func writeHTML(w http.ResponseWriter, code int, page string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, page)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Raw != nil && s.cfg.Raw(w, r) {
		return
	}
	switch s.cfg.Mode {
	case Garbage:
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "\x00\x13garbage{{{")
		return
	case HTMLPage:
		writeHTML(w, http.StatusOK, "<html><body><h1>Welcome to nginx!</h1></body></html>")
		return
	case Status500:
		writeHTML(w, http.StatusInternalServerError, "<html><body><h1>500 Internal Server Error</h1></body></html>")
		return
	}
	if r.Header.Get("Authorization") != s.cfg.Secret {
		writeHTML(w, http.StatusForbidden, forbiddenPage)
		return
	}
	switch {
	case r.URL.Path == "/api/v1.0/status" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{
			"total_requests": s.Posts.Load() + s.Gets.Load() + s.Deletes.Load(),
			"worker_status":  []any{map[string]any{"id": 1, "status": "idle", "requests": 0}},
		})
	case r.URL.Path == "/api/v1.0/tests" && r.Method == http.MethodPost:
		s.post(w, r)
	case r.URL.Path == "/api/v1.0/tests" && (r.Method == http.MethodGet || r.Method == http.MethodDelete):
		s.getOrDelete(w, r)
	default:
		writeHTML(w, http.StatusNotFound, "<title>404 Not Found</title><h1>Not Found</h1>")
	}
}

func (s *Server) post(w http.ResponseWriter, r *http.Request) {
	s.Posts.Add(1)
	var body map[string][]map[string]any
	data, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(data, &body); err != nil {
		writeHTML(w, http.StatusBadRequest, badRequestPage)
		return
	}
	if body == nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "Valid request payload not found."})
		return
	}
	n := 0
	for _, tests := range body {
		n += len(tests)
	}
	if n > s.cfg.MaxTests {
		s.Refused.Add(1)
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": fmt.Sprintf("Provided number of tests is too high. Max: %d", s.cfg.MaxTests)})
		return
	}
	for {
		cur := s.MaxBatch.Load()
		if int64(n) <= cur || s.MaxBatch.CompareAndSwap(cur, int64(n)) {
			break
		}
	}
	results := map[string]any{}
	var durations []job
	for _, typ := range []string{"ping", "traceroute", "other"} {
		for bt, tests := range body {
			if bt != typ && (typ != "other" || bt == "ping" || bt == "traceroute") {
				continue
			}
			list := []any{}
			for _, opts := range tests {
				list = append(list, s.run(bt, opts))
				durations = append(durations, job{bt, s.testTime(bt, opts)})
			}
			results[bt] = list
		}
	}
	var keys []string
	for typ, tests := range body {
		for _, opts := range tests {
			dst, _ := opts["dst"].(string)
			keys = append(keys, typ+"|"+dst)
		}
	}
	id := newID()
	s.mu.Lock()
	now := time.Now()
	running := int64(1)
	for _, rc := range s.receipts {
		if !now.Before(rc.done) {
			continue
		}
		running++
		for _, k := range rc.keys {
			if slices.Contains(keys, k) {
				s.Overlaps.Add(1)
			}
		}
	}
	if running > s.MaxReceipts.Load() {
		s.MaxReceipts.Store(running)
	}
	s.receipts[id] = &receipt{keys: keys, done: s.schedule(time.Now(), durations), results: results}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"receipt": id})
}

func (s *Server) getOrDelete(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if _, ok := q["receipt"]; !ok {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "Required 'receipt' parameter not found."})
		return
	}
	id := q.Get("receipt")
	if id == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "Required 'receipt' parameter found with an empty value."})
		return
	}
	s.mu.Lock()
	rc, ok := s.receipts[id]
	if ok && r.Method == http.MethodDelete {
		delete(s.receipts, id)
	}
	first := ok && !rc.polled
	if ok {
		rc.polled = true
	}
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "Provided 'receipt' not found."})
		return
	}
	if r.Method == http.MethodDelete {
		s.Deletes.Add(1)
		writeJSON(w, http.StatusOK, map[string]any{"message": "Provided 'receipt' has been successfully deleted."})
		return
	}
	s.Gets.Add(1)
	if first && !s.cfg.DropEmptyState {
		writeJSON(w, http.StatusOK, map[string]any{})
		return
	}
	if time.Now().Before(rc.done) {
		empty := map[string]any{}
		for typ := range rc.results {
			empty[typ] = []any{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"is_running": true, "receipt": id, "results": empty})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"is_running": false, "receipt": id, "results": rc.results})
}

func (s *Server) run(typ string, opts map[string]any) map[string]any {
	id, _ := opts["id"].(string)
	if id == "" || !s.cfg.EchoIDs {
		id = newID()[:6]
	}
	entry := map[string]any{"id": id, "failed": false, "message": nil, "result": map[string]any{}}
	dst, _ := opts["dst"].(string)
	fail := func(msg string) map[string]any {
		entry["failed"], entry["message"] = true, msg
		return entry
	}
	switch typ {
	case "ping", "traceroute":
	default:
		return fail("Provided test type does not exist.")
	}
	if dst == "" {
		return fail("Required test option of 'dst' was not given. Please pass the required 'dst' option.")
	}
	if s.cfg.Result != nil {
		if v := s.cfg.Result(typ, dst); v != nil {
			entry["result"] = v
			return entry
		}
	}
	if typ == "traceroute" {
		entry["result"] = s.trace(dst, opts)
		return entry
	}
	count := 10
	var comment any
	if c, ok := opts["count"]; ok {
		f, isNum := c.(float64)
		if !isNum {
			return fail(fmt.Sprintf("Provided 'count' of '%v' must be an integer.", c))
		}
		if f < 1 || f > 20 {
			comment = fmt.Sprintf("Provided count of '%d' is not allowed. Defaulting to 10. Min: 1, Max: 20.", int(f))
		} else {
			count = int(f)
		}
	}
	entry["result"] = s.ping(dst, count, comment)
	return entry
}

func (s *Server) ping(dst string, count int, comment any) map[string]any {
	rtts := s.rtts(dst, count)
	replies := []any{}
	var sum, mn, mx float64
	got := 0
	for i, v := range rtts {
		if v < 0 {
			continue
		}
		if got == 0 || v < mn {
			mn = v
		}
		mx = max(mx, v)
		sum += v
		got++
		replies = append(replies, map[string]any{"len": 64, "rtt_ms": v, "seq": i, "ttl": 64})
	}
	var rtt any
	if got > 0 {
		rtt = map[string]any{"avg": fmt.Sprintf("%.3f", sum/float64(got)), "max": fmt.Sprintf("%.3f", mx), "min": fmt.Sprintf("%.3f", mn)}
	}
	return map[string]any{
		"comment": comment, "dst": dst, "failed": got == 0,
		"loss": float64(count-got) / float64(count) * 100, "packet_size": 84, "payload_size": 56,
		"recv": nil, "replies": replies, "rtt": rtt, "sent": count,
	}
}

func (s *Server) rtts(dst string, count int) []float64 {
	if s.cfg.RTT != nil {
		return s.cfg.RTT(dst, count)
	}
	h := fnv.New32a()
	_, _ = io.WriteString(h, s.URL+"|"+dst)
	base := 5 + float64(h.Sum32()%300)
	out := make([]float64, count)
	for i := range out {
		out[i] = base + float64(i%3)*0.25
	}
	return out
}

func (s *Server) trace(dst string, opts map[string]any) map[string]any {
	hops := []Hop{{Addr: "198.18.200.1", ASN: 64500, RTT: 0.5}, {Addr: "", RTT: 0}, {Addr: dst, ASN: 64501, RTT: 20}}
	if s.cfg.Trace != nil {
		hops = s.cfg.Trace(dst)
	}
	trace := []any{}
	reached := false
	for i, h := range hops {
		var probes []any
		for _, p := range h.Probes {
			if p < 0 || h.Addr == "" {
				probes = append(probes, nil)
			} else {
				probes = append(probes, map[string]any{"rtt_ms": p, "src": h.Addr})
			}
		}
		if h.Addr == "" {
			hop := map[string]any{"asn": nil, "hostname": nil, "no_response": true, "rtt_ms": nil, "src": nil, "ttl": i + 1}
			if probes != nil {
				hop["probes"] = probes
			}
			trace = append(trace, hop)
			continue
		}
		var asn any
		if h.ASN != 0 {
			asn = h.ASN
		}
		hop := map[string]any{"asn": asn, "hostname": h.Addr, "no_response": false, "rtt_ms": h.RTT, "src": h.Addr, "ttl": i + 1}
		if probes != nil {
			hop["probes"] = probes
		}
		trace = append(trace, hop)
		reached = reached || h.Addr == dst
	}
	proto, _ := opts["proto"].(string)
	if proto == "" {
		proto = "ICMP"
	}
	return map[string]any{"comment": nil, "dport": 80, "dst": dst, "failed": !reached, "packet_size": 60,
		"payload_size": 32, "proto": proto, "trace": trace}
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// testTime is how long one test takes.
func (s *Server) testTime(typ string, opts map[string]any) time.Duration {
	if s.cfg.TestTime == nil {
		return s.cfg.TestDuration
	}
	dst, _ := opts["dst"].(string)
	count := 10
	if f, ok := opts["count"].(float64); ok && f >= 1 && f <= 20 {
		count = int(f)
	}
	return s.cfg.TestTime(typ, dst, count)
}

// job is one test of a POST for the worker processes: its type and duration.
type job struct {
	typ string
	d   time.Duration
}

// schedule places tests on the worker processes (first free first, as a process pool
// takes queued work) and returns when the last of them ends; s.mu is held.
func (s *Server) schedule(now time.Time, jobs []job) time.Time {
	done := now
	if s.cfg.Procs <= 0 {
		for _, j := range jobs {
			done = maxTime(done, now.Add(j.d))
		}
		return done
	}
	if s.free == nil {
		s.free = make([]time.Time, s.cfg.Procs)
	}
	for _, j := range jobs {
		best := 0
		for i := range s.free {
			if s.free[i].Before(s.free[best]) {
				best = i
			}
		}
		if wait := s.free[best].Sub(now); j.typ == "ping" && wait > time.Duration(s.PingWait.Load()) {
			s.PingWait.Store(int64(wait))
		}
		end := maxTime(now, s.free[best]).Add(j.d)
		s.free[best] = end
		done = maxTime(done, end)
	}
	return done
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
