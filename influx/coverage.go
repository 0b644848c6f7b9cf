package influx

import (
	"fmt"
	"time"
)

// Coverage says how much of the window [start, end] the tests from oldest to newest
// span, when that is less than 90 % of it ("" otherwise, or without tests), with times
// in loc: a grid painted from 7 minutes of a 6-hour window must not pass for the
// window's. Short leaves the window's length out (a status bar beside the range).
func Coverage(start, end, oldest, newest time.Time, loc *time.Location, short bool) string {
	window := end.Sub(start)
	if oldest.IsZero() || newest.IsZero() || window <= 0 {
		return ""
	}
	span := newest.Sub(oldest)
	if span >= window*9/10 {
		return ""
	}
	layout := "15:04"
	if window > 20*time.Hour {
		layout = "01-02 15:04"
	}
	zone := ""
	if loc == time.UTC {
		zone = " UTC"
	}
	of := " of the " + ShortSpan(window) + " window"
	if short {
		of = "" // it goes right after the range in a status bar of 40 columns
	}
	return fmt.Sprintf("data in %s%s (%s–%s%s)", ShortSpan(span), of,
		oldest.In(loc).Format(layout), newest.In(loc).Format(layout), zone)
}

// ShortSpan writes a duration as people say it: 7m, 2h30m, 3d4h ("<1m" under a minute).
func ShortSpan(d time.Duration) string {
	d = d.Round(time.Minute)
	day := 24 * time.Hour
	switch {
	case d < time.Minute:
		return "<1m"
	case d < time.Hour:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d < day:
		if m := (d % time.Hour) / time.Minute; m != 0 {
			return fmt.Sprintf("%dh%dm", d/time.Hour, m)
		}
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	if h := (d % day) / time.Hour; h != 0 {
		return fmt.Sprintf("%dd%dh", d/day, h)
	}
	return fmt.Sprintf("%dd", d/day)
}
