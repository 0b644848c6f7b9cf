package agent

import (
	"context"
	"errors"
	"sync"
	"time"
)

// receipt is one POST's tests. body is the final answer, encoded once when all tests
// are done; until then GET answers is_running with empty lists, as upstream does.
type receipt struct {
	id      string
	types   []string // echoed while running (cleaned, bounded: echoType)
	client  string   // who posted it (source address)
	cancel  context.CancelFunc
	body    []byte    // nil while running
	expires time.Time // set when done
	// cost is what the receipt holds while it runs (its decoded request, its types),
	// counted in the store's bytes until the answer replaces it.
	cost int64
}

// receiptStore keeps receipts for ttl after their tests finished, at most max of them
// and at most maxBytes of stored answers and running receipts' requests: when full, the
// oldest finished receipts make room; a store full of running receipts refuses new
// ones. Counting receipts alone let a client fill memory with large answers (1000
// receipts of echoed input: 2.78 GB); not counting running ones, with echoed test
// types (199 MB under 9000 POSTs).
type receiptStore struct {
	mu       sync.Mutex
	m        map[string]*receipt
	ttl      time.Duration
	max      int
	maxBytes int64
	bytes    int64 // of the stored answers and the running receipts' costs
	now      func() time.Time
}

var (
	errStoreFull  = errors.New("too many receipts are running")
	errStoreBytes = errors.New("the receipts' memory is in use by running ones")
)

func newReceiptStore(ttl time.Duration, max int, maxBytes int64, now func() time.Time) *receiptStore {
	return &receiptStore{m: map[string]*receipt{}, ttl: ttl, max: max, maxBytes: maxBytes, now: now}
}

// dropLocked removes a receipt and its answer's bytes.
func (s *receiptStore) dropLocked(r *receipt) {
	delete(s.m, r.id)
	s.bytes -= int64(len(r.body)) + r.cost
}

// oldestFinishedLocked is the finished receipt that expires first, other than keep.
func (s *receiptStore) oldestFinishedLocked(keep string) *receipt {
	var oldest *receipt
	for _, o := range s.m {
		if o.body != nil && o.id != keep && (oldest == nil || o.expires.Before(oldest.expires)) {
			oldest = o
		}
	}
	return oldest
}

// usage is the number of receipts and the bytes of their stored answers.
func (s *receiptStore) usage() (n int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m), s.bytes
}

func (s *receiptStore) add(r *receipt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	if len(s.m) >= s.max {
		oldest := s.oldestFinishedLocked("")
		if oldest == nil {
			return errStoreFull
		}
		s.dropLocked(oldest)
	}
	for s.bytes+r.cost > s.maxBytes {
		oldest := s.oldestFinishedLocked("")
		if oldest == nil {
			return errStoreBytes
		}
		s.dropLocked(oldest)
	}
	s.m[r.id] = r
	s.bytes += r.cost
	return nil
}

func (s *receiptStore) pruneLocked() {
	now := s.now()
	for _, r := range s.m {
		if r.body != nil && !now.Before(r.expires) {
			s.dropLocked(r)
		}
	}
}

// get returns the state of a receipt: body nil means still running.
func (s *receiptStore) get(id string) (types []string, body []byte, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.m[id]
	if !ok {
		return nil, nil, false
	}
	if r.body != nil && !s.now().Before(r.expires) {
		s.dropLocked(r)
		return nil, nil, false
	}
	return r.types, r.body, true
}

// finish stores the final answer; a receipt deleted meanwhile stays deleted.
func (s *receiptStore) finish(id string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.m[id]
	if !ok {
		return
	}
	// The answer replaces what the running receipt held (its types are in it).
	s.bytes -= r.cost
	r.cost, r.types = 0, nil
	r.body, r.expires = body, s.now().Add(s.ttl)
	s.bytes += int64(len(body))
	// Over the byte budget: the oldest answers go first (a client that never fetched
	// them gets 404, as after expiry), never the one just stored.
	for s.bytes > s.maxBytes {
		oldest := s.oldestFinishedLocked(id)
		if oldest == nil {
			break
		}
		s.dropLocked(oldest)
	}
}

// remove deletes a receipt (cancelling its tests if they still run).
func (s *receiptStore) remove(id string) bool {
	s.mu.Lock()
	r, ok := s.m[id]
	if ok && r.body != nil && !s.now().Before(r.expires) {
		ok = false
	}
	if r != nil {
		s.dropLocked(r)
	}
	s.mu.Unlock()
	if ok && r.cancel != nil {
		r.cancel()
	}
	return ok
}

// running counts the running receipts of client ("": of every client).
func (s *receiptStore) running(client string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.m {
		if r.body == nil && (client == "" || r.client == client) {
			n++
		}
	}
	return n
}
