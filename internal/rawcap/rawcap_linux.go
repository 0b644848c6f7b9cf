//go:build linux

package rawcap

import (
	"errors"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

const netRaw = 1 << unix.CAP_NET_RAW // bit 13: in the first of the two 32-bit words

// Raise makes CAP_NET_RAW effective on every thread when it is permitted.
func Raise() (Result, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return Unsupported, err
	}
	switch {
	case data[0].Effective&netRaw != 0:
		return Effective, nil
	case data[0].Permitted&netRaw == 0:
		return NotGranted, nil
	}
	data[0].Effective |= netRaw
	_, _, errno := syscall.AllThreadsSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0)
	if errno == syscall.ENOTSUP {
		// A cgo build cannot change every thread; the release is built without cgo.
		return NotGranted, errors.New("CAP_NET_RAW is permitted but this build (with cgo) cannot raise it on every thread")
	}
	if errno != 0 {
		return NotGranted, errno
	}
	return Raised, nil
}
