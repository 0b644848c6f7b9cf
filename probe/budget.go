package probe

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
)

// The client's memory for agent answers is bounded three ways (docs/security.md):
//   - per answer in bytes, by what was asked (AnswerLimits.maxBytes: ~200 KiB for 10
//     pings, ~1.4 MiB for 30 traceroutes; 64 KiB for a receipt, 1 MiB for /status);
//   - per answer decoded, by the counting pass (wire_shape.go): entries, replies, hops
//     and strings no larger than the tests sent allow;
//   - for the whole process, by AnswerBudget: the bytes of answers being read and
//     decoded at once, across every agent and sweep. An answer that would take the
//     process over it is refused (that batch's tests fail with the reason) rather than
//     waited for, so a slow agent cannot hold healthy ones back.

// DefaultAnswerBudget is the process-wide budget of agent answers in flight: far above
// what honest agents need at once (1,000 answers of 10 pings are ~5 MB), far below
// what would hurt a collector.
const DefaultAnswerBudget = 256 << 20

// answerBudget is the process's budget; tests lower it.
var answerBudget = &budget{limit: DefaultAnswerBudget}

// budget counts bytes held against a limit.
type budget struct {
	limit int64
	held  atomic.Int64
}

// errBudget is an answer refused because the process's budget is in use.
var errBudget = errors.New("budget exhausted")

// take holds n bytes, or returns errBudget without holding any.
func (b *budget) take(n int64) error {
	if b.held.Add(n) > b.limit {
		b.held.Add(-n)
		return errBudget
	}
	return nil
}

func (b *budget) give(n int64) { b.held.Add(-n) }

// readChunk is how much of an answer is read (and held) at a time.
const readChunk = 32 << 10

// readAnswer reads at most limit bytes of r, holding them in b as they arrive. The
// caller gives back held when done with the data (and what it decoded from it).
// tooLarge is set when r held more than limit.
func readAnswer(r io.Reader, limit int64, b *budget) (data []byte, held int64, tooLarge bool, err error) {
	var buf bytes.Buffer
	for {
		want := min(readChunk, limit+1-int64(buf.Len()))
		if want <= 0 {
			return buf.Bytes(), held, true, nil
		}
		if err := b.take(want); err != nil {
			return nil, held, false, err
		}
		held += want
		buf.Grow(int(want))
		n, rerr := io.CopyN(&buf, r, want)
		if n < want { // the last chunk: give back what it did not need
			b.give(want - n)
			held -= want - n
		}
		if rerr == io.EOF {
			if int64(buf.Len()) > limit {
				return buf.Bytes(), held, true, nil
			}
			return buf.Bytes(), held, false, nil
		}
		if rerr != nil {
			return nil, held, false, rerr
		}
	}
}

// budgetMsg words a refusal for the tests it fails.
func budgetMsg() string {
	return fmt.Sprintf("answer not read: meshtop's memory budget for agent answers (%d MiB, all agents together) is in use by other answers",
		answerBudget.limit>>20)
}
