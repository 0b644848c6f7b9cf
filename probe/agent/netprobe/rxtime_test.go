package netprobe

import (
	"testing"
	"time"
)

// TestRxTimeRTT checks where an RTT ends: at the kernel's stamp, unless the system clock
// stepped between the send and the answer (the stamp is wall-clock time), and never
// below zero.
func TestRxTimeRTT(t *testing.T) {
	sent := time.Now()                        // wall and monotonic, as the send reads it
	read := sent.Add(30 * time.Millisecond)   // our read returned 30 ms later (monotonic)
	wall := func(d time.Duration) time.Time { // a kernel stamp d after the send's wall time
		return time.Unix(0, sent.UnixNano()+int64(d))
	}
	tests := []struct {
		name       string
		rx         rxTime
		want       time.Duration
		wantKernel bool
	}{
		{"no kernel stamp: until our read", rxTime{user: read}, 30 * time.Millisecond, false},
		{"kernel stamp before our read", rxTime{kernel: wall(2 * time.Millisecond), user: read}, 2 * time.Millisecond, true},
		{"kernel stamp at our read", rxTime{kernel: wall(30 * time.Millisecond), user: read}, 30 * time.Millisecond, true},
		{"clock stepped back: negative", rxTime{kernel: wall(-time.Second), user: read}, 30 * time.Millisecond, false},
		{"clock stepped forward: longer than our read", rxTime{kernel: wall(time.Hour), user: read}, 30 * time.Millisecond, false},
		{"read before the send (impossible): zero, never negative", rxTime{user: sent.Add(-time.Second)}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, kernel := tt.rx.rtt(sent)
			if got != tt.want || kernel != tt.wantKernel {
				t.Errorf("rtt = %v kernel=%v, want %v kernel=%v", got, kernel, tt.want, tt.wantKernel)
			}
		})
	}
}
