//go:build !linux

package netprobe

import (
	"errors"
	"syscall"
	"time"
)

const rxStampName = ""

// enableRxStamps: kernel receive times are read on Linux only, where the agent runs in
// PoPs and where they are tested. macOS has SO_TIMESTAMP (microseconds, a timeval) but
// nothing here runs there; answers end at our read, as before (rxTime.user).
func enableRxStamps(syscall.RawConn) error {
	return errors.New("kernel receive times are only read on Linux")
}

func rxStamp([]byte) (time.Time, bool) { return time.Time{}, false }
