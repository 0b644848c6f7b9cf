//go:build linux

package lab

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// realtimeSched puts every thread of this process under SCHED_FIFO at the lowest
// real-time priority. On a busy machine a normal thread that wakes for a due packet
// can wait a few milliseconds for a CPU, which lands in every RTT the lab shows; a
// real-time one runs at once. The forwarder sleeps between packets (timerfd), so it
// takes little CPU; the kernel's RT throttling (95% by default) still bounds it. Threads
// the Go runtime starts later inherit the policy from the thread that creates them.
// Best effort: an error is reported and the lab runs with normal scheduling.
func realtimeSched() error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Errorf("real-time scheduling: %w", err)
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		attr := &unix.SchedAttr{Policy: unix.SCHED_FIFO, Priority: 1}
		if err := unix.SchedSetAttr(tid, attr, 0); err != nil {
			return fmt.Errorf("real-time scheduling of thread %d: %w", tid, err)
		}
	}
	return nil
}
