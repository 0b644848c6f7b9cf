//go:build linux

package netprobe

import (
	"encoding/binary"
	"fmt"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// rxStampName names the kernel's receive timestamps in the agent's log.
const rxStampName = "SO_TIMESTAMPNS"

// enableRxStamps asks the kernel to stamp every packet the socket receives with the time
// it arrived (nanoseconds, CLOCK_REALTIME), handed over with the packet as an
// SCM_TIMESTAMPNS control message. Raw and unprivileged datagram ICMP sockets both
// support it (ping(8) uses it on both).
func enableRxStamps(rc syscall.RawConn) error {
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	}); err != nil {
		return fmt.Errorf("setsockopt SO_TIMESTAMPNS: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("setsockopt SO_TIMESTAMPNS: %w", serr)
	}
	return nil
}

// rxStamp finds the kernel's receive time among a read's control messages. A read may
// have none: a packet queued before the option was set, or control messages cut short.
func rxStamp(oob []byte) (time.Time, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return time.Time{}, false
	}
	for _, m := range msgs {
		if m.Header.Level != unix.SOL_SOCKET || m.Header.Type != unix.SCM_TIMESTAMPNS {
			continue
		}
		// The platform's struct timespec: two 64-bit words, or two 32-bit words on
		// 32-bit platforms (SO_TIMESTAMPNS is the _OLD variant there).
		var sec, nsec int64
		switch d := m.Data; len(d) {
		case 16:
			sec, nsec = int64(binary.NativeEndian.Uint64(d)), int64(binary.NativeEndian.Uint64(d[8:]))
		case 8:
			sec, nsec = int64(int32(binary.NativeEndian.Uint32(d))), int64(int32(binary.NativeEndian.Uint32(d[4:])))
		default:
			return time.Time{}, false
		}
		if sec <= 0 || nsec < 0 || nsec >= 1e9 {
			return time.Time{}, false
		}
		return time.Unix(sec, nsec), true
	}
	return time.Time{}, false
}
