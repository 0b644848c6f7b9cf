package netprobe

import "time"

// rxTime is when an answer arrived.
type rxTime struct {
	// kernel is the kernel's receive time of the packet (SO_TIMESTAMPNS on Linux:
	// CLOCK_REALTIME, so a wall-clock time without a monotonic reading); zero when the
	// socket gave none.
	kernel time.Time
	// user is time.Now() right after the read returned (wall and monotonic): the
	// fallback, which includes any wait of the reader after the packet arrived.
	user time.Time
}

// rtt is an answer's round-trip time from sent (time.Now() read right before the send)
// and whether it ends at the kernel's receive time.
//
// The kernel's stamp is a wall-clock time, so it is compared with the wall-clock reading
// of sent; a step of the system clock between the two (NTP, an operator's date) would
// show in it. The monotonic user-space measure bounds it: the packet was received no
// later than our read returned, so a kernel RTT that is negative or longer than the
// user-space RTT is a clock step, and the user-space RTT is used.
func (r rxTime) rtt(sent time.Time) (time.Duration, bool) {
	user := max(0, r.user.Sub(sent)) // monotonic
	if r.kernel.IsZero() {
		return user, false
	}
	k := r.kernel.Sub(sent.Round(0)) // Round(0) drops the monotonic reading: wall clock
	if k < 0 || k > user {
		return user, false
	}
	return k, true
}
