package probe

import (
	"fmt"

	"github.com/meshtop/meshtop/internal/membudget"
)

// The client's memory for agent answers is bounded three ways (docs/security.md):
//   - per answer in bytes, by what was asked (AnswerLimits.maxBytes: ~230 KiB for 10
//     pings, ~1.4 MiB for 30 traceroutes; 64 KiB for a receipt, 1 MiB for /status);
//   - per answer decoded, by the counting pass (wire_shape.go): entries, replies, hops
//     and strings no larger than the tests sent allow;
//   - for the whole process, by answerBudget (DefaultAnswerBudget): the bytes of answers read and
//     decoded at once, across every agent and sweep. An answer that would take the
//     process over it is refused (that batch's tests fail with the reason) rather than
//     waited for, so a slow agent cannot hold healthy ones back.

// DefaultAnswerBudget is the process-wide budget of agent answers in flight: far above
// what honest agents need at once (1,000 answers of 10 pings are ~5 MB), far below
// what would hurt a collector.
const DefaultAnswerBudget = 256 << 20

// answerBudget is the process's budget; tests lower it.
var answerBudget = &membudget.Budget{Limit: DefaultAnswerBudget}

// readChunk is how much of an answer is read (and held) at a time.
const readChunk = 32 << 10

// budgetMsg words a refusal for the tests it fails.
func budgetMsg() string {
	return fmt.Sprintf("answer not read: meshtop's memory budget for agent answers (%d MiB, all agents together) is in use by other answers",
		answerBudget.Limit>>20)
}
