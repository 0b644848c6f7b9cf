package influx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/meshtop/meshtop/probe"
)

// DefaultRecordBuffer bounds the points a Recorder keeps while InfluxDB is unreachable.
const DefaultRecordBuffer = 100000

// RecorderConfig configures a Recorder.
type RecorderConfig struct {
	Config
	// PublicIP is the public_ip tag (the collector's address, as the workshop wrote it).
	PublicIP string
	// Buffer is the most points kept unwritten (DefaultRecordBuffer when <= 0); beyond it
	// the oldest sweeps are dropped and counted.
	Buffer int
	// Schema is the field types used when the database cannot tell (a write-only user may
	// not run SHOW FIELD KEYS); nil means WorkshopSchema.
	Schema Schema
	// MinBackoff and MaxBackoff bound the retry delay during an outage (0.5 s and 30 s).
	MinBackoff, MaxBackoff time.Duration
	// Logf, when set, receives state changes (outage, recovery, learned types, drops).
	Logf func(format string, args ...any)
}

// Recorder writes sweeps to InfluxDB in the SPEC 6 schema, one batch per sweep, in the
// background. It never blocks the caller: sweeps queue up (bounded) while InfluxDB is
// down and are retried with backoff.
type Recorder struct {
	c   *conn
	cfg RecorderConfig

	mu      sync.Mutex
	queue   []batch
	backlog int // points queued or being written
	dropped int64
	lastErr error
	// writeErr is the newest failed write (kept when a drop message takes lastErr's
	// place, so the cause — a 401, say — stays visible); cleared by a good write.
	writeErr error
	closing  bool
	schema   Schema
	typesSet bool

	wake    chan struct{}
	stop    chan struct{} // closed by Close when its deadline passed
	done    chan struct{}
	stopped bool
}

type batch struct {
	sw probe.Sweep
	n  int
}

// NewRecorder starts a recorder. It does not contact InfluxDB yet: an unreachable server
// at start is an outage like any other.
func NewRecorder(cfg RecorderConfig) (*Recorder, error) {
	c, err := newConn(cfg.Config)
	if err != nil {
		return nil, err
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = DefaultRecordBuffer
	}
	if cfg.Schema == nil {
		cfg.Schema = WorkshopSchema()
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(30*time.Second, cfg.MinBackoff)
	}
	r := &Recorder{c: c, cfg: cfg, schema: cfg.Schema.Clone(),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go r.run()
	return r, nil
}

func (r *Recorder) logf(format string, args ...any) {
	if r.cfg.Logf != nil {
		r.cfg.Logf(format, args...)
	}
}

// sweepPoints counts the points a sweep will become.
func sweepPoints(sw probe.Sweep) int {
	n := 0
	for _, p := range sw.Pings {
		if p.Measured() {
			n++
		}
	}
	for _, t := range sw.Traces {
		if t.Measured() {
			n++
		}
	}
	return n
}

// Record queues a sweep for writing and returns at once. When the buffer would overflow,
// the oldest queued sweeps are dropped (and counted in Status).
func (r *Recorder) Record(sw probe.Sweep) {
	n := sweepPoints(sw)
	if n == 0 {
		return
	}
	r.mu.Lock()
	if r.closing {
		r.dropped += int64(n)
		r.lastErr = fmt.Errorf("recorder closed: dropped %d points", n)
		r.mu.Unlock()
		return
	}
	r.queue = append(r.queue, batch{sw: sw, n: n})
	r.backlog += n
	var lost int
	for r.backlog > r.cfg.Buffer && len(r.queue) > 0 {
		lost += r.queue[0].n
		r.backlog -= r.queue[0].n
		r.queue[0] = batch{}
		r.queue = r.queue[1:]
	}
	if lost > 0 {
		r.dropped += int64(lost)
		r.lastErr = fmt.Errorf("record buffer full (%d points): dropped %d points of the oldest sweeps (%d in all); raise --record-buffer",
			r.cfg.Buffer, lost, r.dropped)
		if r.writeErr != nil {
			r.lastErr = fmt.Errorf("%w; writes fail: %w", r.lastErr, r.writeErr)
		}
		r.logf("meshtop: %v", r.lastErr)
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Status reports the points not yet written, the points dropped so far and the latest
// problem (nil once a write succeeds after it). A drop names the failing write's error
// too, so the cause stays visible.
func (r *Recorder) Status() (backlog int, dropped int64, lastErr error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.backlog, r.dropped, r.lastErr
}

// WriteErr is the newest failed write's error (nil after a good write).
func (r *Recorder) WriteErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.writeErr
}

// Close writes what is queued and stops. When ctx ends first, the rest is given up and
// the error says how many points were not written.
func (r *Recorder) Close(ctx context.Context) error {
	r.mu.Lock()
	r.closing = true
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		r.mu.Lock()
		if !r.stopped {
			r.stopped = true
			close(r.stop)
		}
		r.mu.Unlock()
		<-r.done
	}
	backlog, _, lastErr := r.Status()
	if backlog > 0 {
		if lastErr != nil {
			return fmt.Errorf("close recorder: %d points not written to InfluxDB: %w", backlog, lastErr)
		}
		return fmt.Errorf("close recorder: %d points not written to InfluxDB", backlog)
	}
	return nil
}

// next takes the oldest queued sweep (it stays counted in backlog until written).
func (r *Recorder) next() (batch, bool, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.queue) == 0 {
		return batch{}, false, r.closing
	}
	b := r.queue[0]
	r.queue[0] = batch{}
	r.queue = r.queue[1:]
	return b, true, r.closing
}

func (r *Recorder) run() {
	defer close(r.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-r.stop:
			cancel()
		case <-r.done:
		}
	}()
	backoff := r.cfg.MinBackoff
	var pending *batch
	failing := false
	for {
		if pending == nil {
			b, ok, closing := r.next()
			if !ok {
				if closing {
					return
				}
				select {
				case <-r.wake:
				case <-ctx.Done():
					return
				}
				continue
			}
			pending = &b
		}
		err := r.write(ctx, *pending)
		var he *HTTPError
		switch {
		case err == nil:
			r.mu.Lock()
			r.backlog -= pending.n
			r.lastErr, r.writeErr = nil, nil
			r.mu.Unlock()
			if failing {
				r.logf("meshtop: InfluxDB recording resumed")
			}
			pending, failing, backoff = nil, false, r.cfg.MinBackoff
			continue
		case errors.As(err, &he) && he.Status == http.StatusBadRequest:
			// A point InfluxDB will never take (not a type conflict: write() handles
			// those): retrying cannot help, so the sweep is dropped and counted.
			r.mu.Lock()
			r.backlog -= pending.n
			r.dropped += int64(pending.n)
			r.lastErr = fmt.Errorf("dropped %d points InfluxDB refused: %w", pending.n, err)
			r.writeErr = err
			r.mu.Unlock()
			r.logf("meshtop: %v", err)
			pending = nil
			continue
		}
		// Outage, 5xx, missing database or permission: keep the sweep and retry — except
		// when flushing at exit on an answer waiting will not change (401, 403, 404):
		// then give up at once, the sweep counted as not written.
		r.mu.Lock()
		r.writeErr = err
		if r.dropped == 0 || r.lastErr == nil {
			r.lastErr = err
		} else {
			r.lastErr = fmt.Errorf("%d points dropped; writes fail: %w", r.dropped, err)
		}
		closing := r.closing
		r.mu.Unlock()
		var pe interface{ Permanent() bool }
		if closing && errors.As(err, &pe) && pe.Permanent() {
			r.logf("meshtop: giving up the recording: %v", err)
			return
		}
		if !failing {
			r.logf("meshtop: recording to InfluxDB failed, retrying with backoff: %v", err)
		}
		failing = true
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return // pending stays counted in backlog: Close reports it
		}
		backoff = min(backoff*2, r.cfg.MaxBackoff)
	}
}

// conflictRE reads InfluxDB 1.x's type conflict message, e.g.
// partial write: field type conflict: input field "failed" on measurement "ping" is type
// float, already exists as type string dropped=1
var conflictRE = regexp.MustCompile(`input field "((?:[^"\\]|\\.)*)" on measurement "((?:[^"\\]|\\.)*)" is type (\w+), already exists as type (\w+)`)

// write sends one sweep, learning field types first and after every type conflict. A
// conflict leaves the rest of the batch written; rewriting all of it is harmless because
// a point with the same series and timestamp overwrites itself with the same values.
func (r *Recorder) write(ctx context.Context, b batch) error {
	if err := r.learnTypes(ctx); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		r.mu.Lock()
		schema := r.schema
		r.mu.Unlock()
		lines, _, err := SweepLines(b.sw, r.cfg.PublicIP, schema)
		if err != nil {
			return &HTTPError{Op: "write", URL: r.c.where(), Status: http.StatusBadRequest, Msg: err.Error()}
		}
		err = r.c.write(ctx, lines)
		var he *HTTPError
		if err == nil || !errors.As(err, &he) || he.Status != http.StatusBadRequest {
			return err
		}
		m := conflictRE.FindStringSubmatch(he.Msg)
		if m == nil || attempt >= 16 {
			return err
		}
		field, meas, have := m[1], m[2], m[4]
		r.mu.Lock()
		if r.schema[meas][field] == have {
			r.mu.Unlock()
			return err // learned already and still refused: give up on this sweep
		}
		r.schema = r.schema.Clone()
		if r.schema[meas] == nil {
			r.schema[meas] = map[string]string{}
		}
		r.schema[meas][field] = have
		r.mu.Unlock()
		r.logf("meshtop: InfluxDB keeps %s.%s as %s; writing it as %s from now on", meas, field, have, have)
	}
}

// learnTypes reads SHOW FIELD KEYS once. A user without READ (a write-only recorder) is
// refused: the configured schema (the workshop's types) stands, and conflicts teach the
// rest. Other failures (server down) are returned so the sweep is retried.
func (r *Recorder) learnTypes(ctx context.Context) error {
	r.mu.Lock()
	done := r.typesSet
	r.mu.Unlock()
	if done {
		return nil
	}
	ft, err := r.c.fieldTypes(ctx)
	var he *HTTPError
	switch {
	case err == nil:
		r.mu.Lock()
		r.schema = r.schema.Clone()
		r.schema.Merge(ft)
		r.typesSet = true
		r.mu.Unlock()
		return nil
	case errors.As(err, &he) && he.Status == http.StatusForbidden:
		r.logf("meshtop: cannot read field types (%v); writing the workshop's types", err)
		r.mu.Lock()
		r.typesSet = true
		r.mu.Unlock()
		return nil
	}
	return err
}
