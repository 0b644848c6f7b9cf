package influx

import (
	"strconv"
	"strings"
	"time"
)

// QuoteString makes s an InfluxQL string literal: single quotes around it, backslash and
// single quote escaped. Every value put into a query goes through it (or QuoteIdent):
// PoP names come from agents and databases we do not control.
func QuoteString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(s) + "'"
}

// QuoteIdent makes s an InfluxQL identifier: double quotes around it, backslash and
// double quote escaped.
func QuoteIdent(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// timeLiteral is an absolute time for a WHERE clause.
func timeLiteral(t time.Time) string {
	return "'" + t.UTC().Format(time.RFC3339Nano) + "'"
}

// durationLiteral writes d as an InfluxQL duration; InfluxQL has no nanosecond unit, so
// d is rounded to microseconds (at least 1u).
func durationLiteral(d time.Duration) string {
	switch {
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	case d%time.Millisecond == 0:
		return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
	}
	return strconv.FormatInt(max(1, int64(d/time.Microsecond)), 10) + "u"
}
