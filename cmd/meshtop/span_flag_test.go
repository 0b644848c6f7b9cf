package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseSpan(t *testing.T) {
	day := 24 * time.Hour
	for _, tt := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"7d", 7 * day, ""},
		{"2w", 14 * day, ""},
		{"1w2d", 9 * day, ""},
		{"1d12h", 36 * time.Hour, ""},
		{"1.5d", 36 * time.Hour, ""},
		{"36h", 36 * time.Hour, ""},
		{"90m", 90 * time.Minute, ""},
		{"1h30m", 90 * time.Minute, ""},
		{" 6h ", 6 * time.Hour, ""},
		{"", 0, "a number and a unit"},
		{"7", 0, "a number and a unit"},
		{"d", 0, "a number and a unit"},
		{"7x", 0, `unknown unit "x"`},
		{"0d", 0, "positive"},
		{"-1d", 0, "a number and a unit"},
		{"999999999w", 0, "too long"},
	} {
		got, err := parseSpan(tt.in)
		switch {
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("parseSpan(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("parseSpan(%q) = %v, %v; want an error mentioning %q", tt.in, got, err, tt.err)
		}
	}
	for d, want := range map[time.Duration]string{7 * day: "1w", 3 * day: "3d", 6 * time.Hour: "6h", 15 * time.Minute: "15m", 90 * time.Minute: "1h30m"} {
		if got := formatSpan(d); got != want {
			t.Errorf("formatSpan(%v) = %q, want %q", d, got, want)
		}
		if back, err := parseSpan(formatSpan(d)); err != nil || back != d {
			t.Errorf("parseSpan(formatSpan(%v)) = %v, %v", d, back, err)
		}
	}
}

// TestWindowsTakeDays: every flag that gives a window or a time back takes d and w, on
// the command line and in the config file.
func TestWindowsTakeDays(t *testing.T) {
	for _, args := range [][]string{
		{"snapshot", "--source", "influx", "--window", "7d", "--influx-url", "http://127.0.0.1:1", "--influx-timeout", "1s"},
		{"history", "--window", "2w", "--influx-url", "http://127.0.0.1:1", "--influx-timeout", "1s"},
		{"history", "--from", "now-1w2d", "--to", "now-1d", "--influx-url", "http://127.0.0.1:1", "--influx-timeout", "1s"},
		{"rollup", "--since", "now-7d", "--influx-url", "http://127.0.0.1:1", "--influx-timeout", "1s"},
	} {
		_, _, err := runCLI(t, args...)
		// Nothing listens there: the command got past its flags to InfluxDB.
		if err == nil || strings.Contains(err.Error(), "unknown unit") || strings.Contains(err.Error(), "invalid argument") ||
			!strings.Contains(err.Error(), "127.0.0.1:1") {
			t.Errorf("%v: %v", args, err)
		}
	}
	cfg := t.TempDir() + "/meshtop.yaml"
	writeFile(t, cfg, "history:\n  window: 7d\n")
	if out, _, err := runCLI(t, "config", "check", "--config", cfg); err != nil {
		t.Errorf("config check of window: 7d: %v\n%s", err, out)
	}
}
