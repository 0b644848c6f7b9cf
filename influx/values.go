package influx

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// The field types of InfluxDB 1.x.
const (
	TypeFloat   = "float"
	TypeInteger = "integer"
	TypeString  = "string"
	TypeBoolean = "boolean"
)

// toFloat reads a value as InfluxDB returns it (json.Number, a string written by the
// workshop's collector such as "12.5" or "1", a boolean) as a number.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	case string:
		s := strings.TrimSpace(x)
		switch strings.ToLower(s) {
		case "true":
			return 1, true
		case "false":
			return 0, true
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, false
		}
		return f, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// toString reads a value as text (numbers formatted back).
func toString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}
