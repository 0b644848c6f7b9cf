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
	types   []string
	cancel  context.CancelFunc
	body    []byte    // nil while running
	expires time.Time // set when done
}

// receiptStore keeps receipts for ttl after their tests finished, at most max of them:
// when full, the oldest finished receipt makes room; a store full of running receipts
// refuses new ones.
type receiptStore struct {
	mu  sync.Mutex
	m   map[string]*receipt
	ttl time.Duration
	max int
	now func() time.Time
}

var errStoreFull = errors.New("too many receipts are running")

func newReceiptStore(ttl time.Duration, max int, now func() time.Time) *receiptStore {
	return &receiptStore{m: map[string]*receipt{}, ttl: ttl, max: max, now: now}
}

func (s *receiptStore) add(r *receipt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	if len(s.m) >= s.max {
		var oldest *receipt
		for _, o := range s.m {
			if o.body != nil && (oldest == nil || o.expires.Before(oldest.expires)) {
				oldest = o
			}
		}
		if oldest == nil {
			return errStoreFull
		}
		delete(s.m, oldest.id)
	}
	s.m[r.id] = r
	return nil
}

func (s *receiptStore) pruneLocked() {
	now := s.now()
	for id, r := range s.m {
		if r.body != nil && !now.Before(r.expires) {
			delete(s.m, id)
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
		delete(s.m, id)
		return nil, nil, false
	}
	return r.types, r.body, true
}

// finish stores the final answer; a receipt deleted meanwhile stays deleted.
func (s *receiptStore) finish(id string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.m[id]; ok {
		r.body, r.expires = body, s.now().Add(s.ttl)
	}
}

// remove deletes a receipt (cancelling its tests if they still run).
func (s *receiptStore) remove(id string) bool {
	s.mu.Lock()
	r, ok := s.m[id]
	if ok && r.body != nil && !s.now().Before(r.expires) {
		ok = false
	}
	delete(s.m, id)
	s.mu.Unlock()
	if ok && r.cancel != nil {
		r.cancel()
	}
	return ok
}

func (s *receiptStore) running() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.m {
		if r.body == nil {
			n++
		}
	}
	return n
}
