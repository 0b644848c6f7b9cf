package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Durations of windows take days and weeks as Grafana's ranges do (7d, 2w, 1w2d, 36h,
// 90m), wherever a window or a time back is given: --window, --reach-back, --from/--to
// (now-2d), rollup's --since.

// parseSpan reads a positive duration: Go's units (h, m, s, ms, ...) and d (24 h) and w
// (7 d), in any combination ("1w2d", "1d12h").
func parseSpan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("want a number and a unit (s m h d w), e.g. 6h or 7d")
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		j := i
		for j < len(rest) && !(rest[j] >= '0' && rest[j] <= '9' || rest[j] == '.') {
			j++
		}
		num, unit := rest[:i], rest[i:j]
		rest = rest[j:]
		if num == "" || unit == "" {
			return 0, fmt.Errorf("%q: want a number and a unit (s m h d w), e.g. 6h or 7d", s)
		}
		var d time.Duration
		switch unit {
		case "d", "w":
			n, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("%q: %q is not a number", s, num)
			}
			day := 24 * time.Hour
			if unit == "w" {
				day *= 7
			}
			if n > float64(1<<62)/float64(day) {
				return 0, fmt.Errorf("%q is too long", s)
			}
			d = time.Duration(n * float64(day))
		default:
			var err error
			if d, err = time.ParseDuration(num + unit); err != nil {
				return 0, fmt.Errorf("%q: unknown unit %q (want s m h d w)", s, unit)
			}
		}
		if total += d; total < 0 {
			return 0, fmt.Errorf("%q is too long", s)
		}
	}
	if total <= 0 {
		return 0, fmt.Errorf("%q: want a positive duration, e.g. 6h or 7d", s)
	}
	return total, nil
}

// formatSpan writes a window as the flag takes it: 7d, 2w, 6h, 90m, 1h30m.
func formatSpan(d time.Duration) string {
	day := 24 * time.Hour
	switch {
	case d <= 0:
		return d.String()
	case d%(7*day) == 0:
		return strconv.FormatInt(int64(d/(7*day)), 10) + "w"
	case d%day == 0:
		return strconv.FormatInt(int64(d/day), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0 && d < time.Hour:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// spanValue is a pflag.Value of a window (parseSpan); 0 is allowed where the flag says
// so (zero: off).
type spanValue struct {
	d         *time.Duration
	allowZero bool
}

func (v spanValue) String() string {
	if v.d == nil {
		return ""
	}
	if *v.d == 0 {
		return "0"
	}
	return formatSpan(*v.d)
}

func (v spanValue) Set(s string) error {
	if v.allowZero && strings.TrimSpace(s) == "0" {
		*v.d = 0
		return nil
	}
	d, err := parseSpan(s)
	if err != nil {
		return err
	}
	*v.d = d
	return nil
}

// Type names the value in help and in config check's messages (not "duration": the
// settings layer checks those with time.ParseDuration, which knows no days).
func (v spanValue) Type() string { return "window" }

// spanVar defines a window flag: Go durations plus d and w.
func spanVar(f *pflag.FlagSet, p *time.Duration, name string, value time.Duration, usage string, allowZero bool) {
	*p = value
	f.Var(spanValue{d: p, allowZero: allowZero}, name, usage)
}
