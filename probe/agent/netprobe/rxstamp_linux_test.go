//go:build linux

package netprobe

import (
	"encoding/binary"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// cmsg builds one control message as the kernel lays it out.
func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

func timespec(sec, nsec int64) []byte {
	b := make([]byte, 16)
	binary.NativeEndian.PutUint64(b, uint64(sec))
	binary.NativeEndian.PutUint64(b[8:], uint64(nsec))
	return b
}

func TestRxStampParse(t *testing.T) {
	ttl := cmsg(unix.IPPROTO_IP, unix.IP_TTL, []byte{64, 0, 0, 0})
	stamp := cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, timespec(1_700_000_000, 123_456_789))
	stamp32 := make([]byte, 8)
	binary.NativeEndian.PutUint32(stamp32, 1_700_000_000)
	binary.NativeEndian.PutUint32(stamp32[4:], 5)
	want := time.Unix(1_700_000_000, 123_456_789)
	tests := []struct {
		name string
		oob  []byte
		want time.Time
		ok   bool
	}{
		{"stamp alone", stamp, want, true},
		{"TTL then stamp", append(append([]byte{}, ttl...), stamp...), want, true},
		{"32-bit timespec", cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, stamp32), time.Unix(1_700_000_000, 5), true},
		{"TTL only", ttl, time.Time{}, false},
		{"none", nil, time.Time{}, false},
		{"cut short", stamp[:len(stamp)-4], time.Time{}, false},
		{"odd length", cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, make([]byte, 12)), time.Time{}, false},
		{"zero time", cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, timespec(0, 0)), time.Time{}, false},
		{"nanoseconds out of range", cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, timespec(1_700_000_000, 1e9)), time.Time{}, false},
		{"microsecond stamp (SO_TIMESTAMP) is not ours", cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMP, timespec(1_700_000_000, 5)), time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := rxStamp(tt.oob)
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Errorf("rxStamp = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
