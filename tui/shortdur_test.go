package tui

import (
	"testing"
	"time"
)

func TestShortDur(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 10 * time.Second: "10s", 20 * time.Second: "20s", time.Minute: "1m", 90 * time.Second: "1m30s",
		10 * time.Minute: "10m", time.Hour: "1h", 2*time.Hour + 10*time.Minute: "2h10m", 1500 * time.Millisecond: "1.5s",
	} {
		if got := shortDur(d); got != want {
			t.Errorf("shortDur(%v) = %q, want %q", d, got, want)
		}
	}
}
