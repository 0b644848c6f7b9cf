// Package membudget bounds the memory a process lends to what came from outside (agent
// answers, InfluxDB answers) across every request at once: bytes are held against a
// limit while they are read and decoded, and a request that would go over it is
// refused rather than waited for, so one slow peer cannot hold the others back.
package membudget

import (
	"bytes"
	"errors"
	"io"
	"sync/atomic"
)

// Budget counts bytes held against a limit. The zero value holds nothing: set Limit.
type Budget struct {
	Limit int64
	held  atomic.Int64
}

// ErrExhausted is a read refused because the budget is in use.
var ErrExhausted = errors.New("memory budget in use")

// Take holds n bytes, or returns false without holding any.
func (b *Budget) Take(n int64) bool {
	if b.held.Add(n) > b.Limit {
		b.held.Add(-n)
		return false
	}
	return true
}

// Give gives back n bytes taken.
func (b *Budget) Give(n int64) { b.held.Add(-n) }

// Held is what is held now.
func (b *Budget) Held() int64 { return b.held.Load() }

// Read reads at most limit bytes of r in chunks, holding each in b as it arrives (the
// caller gives back held when it is done with data and what it decoded from it).
// tooLarge is set when r holds more than limit; ErrExhausted when b is in use.
func Read(r io.Reader, limit int64, chunk int64, b *Budget) (data []byte, held int64, tooLarge bool, err error) {
	var buf bytes.Buffer
	for {
		want := min(chunk, limit+1-int64(buf.Len()))
		if want <= 0 {
			return buf.Bytes(), held, true, nil
		}
		if !b.Take(want) {
			return nil, held, false, ErrExhausted
		}
		held += want
		buf.Grow(int(want))
		n, rerr := io.CopyN(&buf, r, want)
		if n < want { // the last chunk: give back what it did not need
			b.Give(want - n)
			held -= want - n
		}
		if rerr == io.EOF {
			return buf.Bytes(), held, int64(buf.Len()) > limit, nil
		}
		if rerr != nil {
			return nil, held, false, rerr
		}
	}
}
