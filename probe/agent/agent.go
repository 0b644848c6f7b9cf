// Package agent is `meshtop agent`: a Scouter-compatible HTTP agent (SPEC 4) that runs
// ping and traceroute tests with real ICMP/TCP probes. It answers like upstream Scouter
// API v1.0 (same paths, status codes, error texts, sorted keys and value types) so any
// Scouter client works against it, and adds what upstream lacks: TLS, a destination
// allowlist, a bounded receipt store, a request body limit, a constant-time secret check.
package agent

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshtop/meshtop/internal/textsafe"
	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/probe/agent/netprobe"
)

// Config configures an agent. Zero values take the defaults below.
type Config struct {
	// Secret is the shared secret clients send in the Authorization header. Empty is
	// refused unless InsecureNoAuth.
	Secret         string
	InsecureNoAuth bool

	// Pop and Labels describe the agent in /status (probe.Describe), so that collectors
	// that find it by DNS know where it is. Both optional; checked by New.
	Pop    string
	Labels map[string]string

	MaxTests int // tests per POST (SCOUTER_MAX_TEST_COUNT), default 10
	MaxProcs int // tests running at once (SCOUTER_MAX_PROCESS_COUNT), default 10

	// Allow lists the prefixes tests may probe; empty allows any destination.
	Allow []netip.Prefix

	ProbeInterval time.Duration // time between the echo requests of a test, default 1s
	// ReplyWait is how long replies are accepted after the last echo request of a ping
	// (and after each traceroute probe), default 3s: an RTT up to that long is measured,
	// not counted as loss. A ping of N probes takes (N-1) intervals plus at most this.
	ReplyWait time.Duration
	// HopTimeout is how long a traceroute waits for the routers below the destination,
	// beyond the destination's RTT, once the destination has answered, default 1s: a
	// router that has not answered by then is silent. (A trace to a destination that
	// never answers waits ReplyWait once.)
	HopTimeout time.Duration
	// HopPace is the time between two probes of one traceroute round (TTL 1, 2, ...),
	// default 10ms; RoundInterval the time between the rounds of a trace that sends
	// several probes per hop (the `probes` option), default 250ms. Each router then gets
	// at most 4 probes a second from one trace.
	HopPace       time.Duration
	RoundInterval time.Duration

	ReceiptTTL   time.Duration // results are kept this long after the tests end, default 10m
	MaxReceipts  int           // receipts kept at once, default 1000
	MaxStored    int64         // bytes of stored answers, default 32 MiB
	MaxRunning   int           // receipts whose tests run at once, default 64
	MaxBodyBytes int64         // POST body limit, default 256 KiB

	ASN         *ASNDB // nil: hops carry asn null
	RDNS        bool   // reverse names for hops (else the address)
	RDNSTimeout time.Duration
	Resolver    *net.Resolver // nil: net.DefaultResolver

	// Engine sends the probes; nil opens one (and Close closes it).
	Engine *netprobe.Engine
	// Now is the clock of receipt expiry; nil is time.Now.
	Now func() time.Time
}

// Defaults.
const (
	DefaultMaxTests      = 10
	DefaultMaxProcs      = 10
	DefaultProbeInterval = time.Second
	DefaultReplyWait     = 3 * time.Second
	DefaultHopTimeout    = time.Second
	DefaultHopPace       = 10 * time.Millisecond
	DefaultRoundInterval = 250 * time.Millisecond
	DefaultReceiptTTL    = 10 * time.Minute
	DefaultMaxReceipts   = 1000
	DefaultMaxStored     = 32 << 20
	DefaultMaxRunning    = 64
	DefaultMaxBodyBytes  = 256 << 10
	DefaultRDNSTimeout   = 500 * time.Millisecond
)

func (c Config) withDefaults() Config {
	set := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	setD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	set(&c.MaxTests, DefaultMaxTests)
	set(&c.MaxProcs, DefaultMaxProcs)
	set(&c.MaxReceipts, DefaultMaxReceipts)
	set(&c.MaxRunning, DefaultMaxRunning)
	if c.ProbeInterval < 0 {
		c.ProbeInterval = 0
	}
	setD(&c.ReplyWait, DefaultReplyWait)
	setD(&c.HopTimeout, DefaultHopTimeout)
	setD(&c.HopPace, DefaultHopPace)
	setD(&c.RoundInterval, DefaultRoundInterval)
	setD(&c.ReceiptTTL, DefaultReceiptTTL)
	setD(&c.RDNSTimeout, DefaultRDNSTimeout)
	if c.MaxStored <= 0 {
		c.MaxStored = DefaultMaxStored
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.Resolver == nil {
		c.Resolver = net.DefaultResolver
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Agent serves the Scouter API. Create it with New; it is an http.Handler.
type Agent struct {
	cfg        Config
	secretHash [32]byte
	engine     *netprobe.Engine
	ownEngine  bool
	receipts   *receiptStore
	pool       *pool
	pid        int

	total  atomic.Int64
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New checks cfg and makes an agent. ProbeInterval 0 in cfg means the default 1s; a
// test that wants no pause at all sets a tiny positive interval.
func New(cfg Config) (*Agent, error) {
	if cfg.ProbeInterval == 0 {
		cfg.ProbeInterval = DefaultProbeInterval
	}
	cfg = cfg.withDefaults()
	if cfg.Pop != "" {
		if msg := probe.CheckPop(cfg.Pop); msg != "" {
			return nil, fmt.Errorf("--pop: %s", msg)
		}
	}
	if len(cfg.Labels) > probe.MaxLabels {
		return nil, fmt.Errorf("--label: %d labels, at most %d", len(cfg.Labels), probe.MaxLabels)
	}
	for k, v := range cfg.Labels {
		if msg := probe.CheckLabel(k, v); msg != "" {
			return nil, fmt.Errorf("--label: %s", msg)
		}
	}
	if cfg.Secret == "" && !cfg.InsecureNoAuth {
		return nil, errors.New("no API secret: set SCOUTER_API_SECRET (or --secret-file), or pass --insecure-no-auth to accept every request")
	}
	cfg.Labels = maps.Clone(cfg.Labels)
	a := &Agent{
		cfg: cfg, secretHash: sha256.Sum256([]byte(cfg.Secret)), engine: cfg.Engine,
		receipts: newReceiptStore(cfg.ReceiptTTL, cfg.MaxReceipts, cfg.MaxStored, cfg.Now),
		pool:     newPool(cfg.MaxProcs), pid: os.Getpid(),
	}
	if a.engine == nil {
		a.engine, a.ownEngine = netprobe.Open(), true
	}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	return a, nil
}

// Method says how the agent pings (raw socket, unprivileged datagram, unavailable).
func (a *Agent) Method() netprobe.Method { return a.engine.Method() }

// Labels are the labels the agent says in /status (a copy).
func (a *Agent) Labels() map[string]string { return maps.Clone(a.cfg.Labels) }

// Engine is the agent's prober (for its startup log).
func (a *Agent) Engine() *netprobe.Engine { return a.engine }

// Close stops running tests, waits for them, and releases the sockets it opened.
func (a *Agent) Close() error {
	a.cancel()
	a.wg.Wait()
	if a.ownEngine {
		return a.engine.Close()
	}
	return nil
}

// task is one test of a POST.
type task struct {
	typ    string // as the client sent it (decides what runs)
	echo   string // as the answer lists it: cleaned and bounded
	opts   map[string]any
	client string // source address: the pool's fair share
}

// start runs the tests of a receipt in the background, bounded by the pool.
func (a *Agent) start(ctx context.Context, rc *receipt, tasks []task) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer rc.cancel()
		entries := make([]entryOut, len(tasks))
		var wg sync.WaitGroup
		for i, t := range tasks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				entries[i] = a.runTest(ctx, t)
			}()
		}
		wg.Wait()
		results := map[string][]entryOut{}
		for _, typ := range rc.types {
			results[typ] = []entryOut{}
		}
		for i, t := range tasks {
			results[t.echo] = append(results[t.echo], entries[i])
		}
		body, err := encodeJSON(testsOut{IsRunning: false, Receipt: rc.id, Results: results})
		if err != nil {
			// Cannot happen with these types; never leave a receipt running forever.
			body, _ = encodeJSON(map[string]string{"error": "encode results: " + err.Error()})
		}
		a.receipts.finish(rc.id, body)
	}()
}

// runTest runs one test in a pool slot and returns its entry.
func (a *Agent) runTest(ctx context.Context, t task) (e entryOut) {
	e = entryOut{Failed: true, Result: struct{}{}}
	if v, ok := echoID(t.opts["id"]); ok {
		e.ID = v
	} else {
		e.ID = randHex(3)
	}
	defer func() {
		// Messages quote the client's input: never more than a bounded, clean excerpt.
		if e.Message != nil {
			m := textsafe.Message(*e.Message)
			e.Message = &m
		}
	}()
	var run func(context.Context, map[string]any) (any, bool, string)
	switch t.typ {
	case "ping":
		run = a.runPing
	case "traceroute":
		run = a.runTrace
	default:
		msg := probe.MsgNoSuchTestType
		e.Message = &msg
		return e
	}
	dst, ok := t.opts["dst"]
	if !ok || dst == nil {
		msg := probe.MsgMissingDst
		e.Message = &msg
		return e
	}
	slot, err := a.pool.acquire(ctx, t.client)
	if err != nil {
		msg := "The test was cancelled before it started: " + err.Error()
		e.Message = &msg
		return e
	}
	began := time.Now()
	result, failed, msg := run(ctx, t.opts)
	a.pool.release(slot, time.Since(began), msg != "")
	if msg != "" {
		e.Message = &msg
		return e
	}
	e.Result, e.Failed = result, failed
	return e
}

func (a *Agent) runPing(ctx context.Context, opts map[string]any) (any, bool, string) {
	p, msg := parsePing(opts)
	if msg != "" {
		return nil, true, msg
	}
	addr, msg := a.resolveDst(ctx, opts["dst"])
	if msg != "" {
		return nil, true, msg
	}
	echo, err := a.engine.NewEcho(addr)
	if err != nil {
		return nil, true, err.Error()
	}
	defer echo.Close()
	replies, err := pingLoop(ctx, echo, addr, p.count, p.payload, a.cfg.ProbeInterval, a.cfg.ReplyWait)
	if err != nil {
		return nil, true, fmt.Sprintf("ping %s: %v", addr, err)
	}
	p.comment = cleanComment(p.comment)
	out := pingResult(textsafe.String(opts["dst"].(string), 256), p, addr.Is6(), replies)
	return out, out.Failed, ""
}

func (a *Agent) runTrace(ctx context.Context, opts map[string]any) (any, bool, string) {
	p, msg := parseTrace(opts)
	if msg != "" {
		return nil, true, msg
	}
	addr, msg := a.resolveDst(ctx, opts["dst"])
	if msg != "" {
		return nil, true, msg
	}
	if a.engine.Method() != netprobe.MethodRaw {
		return nil, true, netprobe.ErrNoTraceroute.Error()
	}
	var prober hopProber
	hdr := 28
	if p.proto == "TCP" {
		hdr = 40
		prober = tcpHops{engine: a.engine, dst: addr, port: p.dport}
	} else {
		echo, err := a.engine.NewEcho(addr)
		if err != nil {
			return nil, true, err.Error()
		}
		defer echo.Close()
		prober = icmpHops{echo: echo, payload: p.payload}
	}
	if addr.Is6() {
		hdr += 20
	}
	hops, reached, err := traceLoop(ctx, prober, addr, tracePlan{
		maxTTL: p.maxTTL, rounds: p.probes, pace: a.cfg.HopPace, every: a.cfg.RoundInterval,
		grace: a.cfg.HopTimeout, replyWait: a.cfg.ReplyWait,
	})
	if err != nil {
		return nil, true, fmt.Sprintf("traceroute %s: %v", addr, err)
	}
	out := traceOut{
		Comment: cleanComment(p.comment), DPort: p.dport, Dst: textsafe.String(opts["dst"].(string), 256), Failed: !reached,
		PacketSize: p.payload + hdr, PayloadSize: p.payload, Proto: p.proto,
		Trace: a.hopsOut(ctx, hops, p.perProbe),
	}
	return out, out.Failed, ""
}

// cleanComment bounds a comment that quotes client input.
func cleanComment(c *string) *string {
	if c == nil {
		return nil
	}
	s := textsafe.Message(*c)
	return &s
}

// maxIDLen bounds an echoed test id.
const maxIDLen = 128

// echoID is the client's id as the agent echoes it: like upstream only a truthy one,
// and only a string (cleaned, bounded), a number of sane length or a bool; anything else
// (a list, an object, a 100 KB number) gets a fresh id instead of being stored.
func echoID(v any) (any, bool) {
	if !truthy(v) {
		return nil, false
	}
	switch x := v.(type) {
	case string:
		return textsafe.String(x, maxIDLen), true
	case json.Number:
		return x, len(x) <= 64
	case bool:
		return x, true
	}
	return nil, false
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}
