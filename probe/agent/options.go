package agent

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/meshtop/meshtop/internal/textsafe"
	"github.com/meshtop/meshtop/mesh"
)

// Upstream validates options in Python: `abs(int(value))` after refusing strings that are
// not all digits, and an exception's text becomes the test's message. pyInt reproduces
// those answers for JSON values, so a client sees the same messages from meshtop's agent.

// pyInt converts an option value like upstream's abs(int(v)). msg is the test's message
// when the value is refused.
func pyInt(name string, v any) (n *big.Int, msg string) {
	switch x := v.(type) {
	case string:
		if x == "" || strings.TrimLeft(x, "0123456789") != "" {
			return nil, fmt.Sprintf("Provided '%s' of '%s' must be an integer.", name, excerpt(x))
		}
		n, _ = new(big.Int).SetString(x, 10)
		return n, ""
	case json.Number:
		if i, ok := new(big.Int).SetString(x.String(), 10); ok {
			return i.Abs(i), ""
		}
		// Python's json reads a non-integer as a float64 (1e400 becomes inf).
		f, err := strconv.ParseFloat(x.String(), 64)
		if math.IsInf(f, 0) {
			return nil, "cannot convert float infinity to integer"
		}
		if err != nil {
			return nil, fmt.Sprintf("Provided '%s' of '%s' must be an integer.", name, excerpt(x.String()))
		}
		i, _ := big.NewFloat(f).Int(nil) // truncates toward zero, as int() does
		return i.Abs(i), ""
	case bool:
		if x {
			return big.NewInt(1), ""
		}
		return big.NewInt(0), ""
	}
	return nil, fmt.Sprintf("int() argument must be a string, a bytes-like object or a real number, not '%s'", pyType(v))
}

// excerpt is the part of a client's value a message quotes: clean and at most 64
// characters, so an answer never grows with the input.
func excerpt(s string) string { return textsafe.String(s, 64) }

// pyType is the Python type name of a decoded JSON value.
func pyType(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case string:
		return "str"
	case bool:
		return "bool"
	case json.Number:
		if strings.ContainsAny(v.(json.Number).String(), ".eE") {
			return "float"
		}
		return "int"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	}
	return "object"
}

// pyStr renders a value as Python's f-string would inside upstream's messages.
func pyStr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case json.Number:
		return x.String()
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// truthy is Python's truth value of a decoded JSON value (upstream keeps a client's id
// only when it is truthy).
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case bool:
		return x
	case json.Number:
		f, err := x.Float64()
		return err != nil || f != 0
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// intOption reads an integer option with upstream's default and range; out of range is
// refused with upstream's message (rangeName is the name upstream puts in that message).
func intOption(opts map[string]any, name, rangeName string, def, lo, hi int) (int, string) {
	v, ok := opts[name]
	if !ok {
		return def, ""
	}
	n, msg := pyInt(name, v)
	if msg != "" {
		return 0, msg
	}
	if n.Cmp(big.NewInt(int64(lo))) < 0 || n.Cmp(big.NewInt(int64(hi))) > 0 {
		return 0, fmt.Sprintf("Provided '%s' of '%s' is not allowed. Min: %d, Max: %d.", rangeName, excerpt(n.String()), lo, hi)
	}
	return int(n.Int64()), ""
}

// Limits and defaults of upstream.
const (
	defaultCount   = 10
	maxCount       = 20
	defaultPayload = 56
	maxPayload     = 1472
	defaultDPort   = 80
	maxTTL         = 32
	// maxProbes bounds meshtop's `probes` traceroute option (probes per hop).
	maxProbes = mesh.MaxHopProbes
)

type pingParams struct {
	count, payload int
	comment        *string
}

// parsePing validates ping options in upstream's order (count, payload_size).
func parsePing(opts map[string]any) (pingParams, string) {
	p := pingParams{count: defaultCount}
	if v, ok := opts["count"]; ok {
		n, msg := pyInt("count", v)
		if msg != "" {
			return p, msg
		}
		if n.Cmp(big.NewInt(1)) < 0 || n.Cmp(big.NewInt(maxCount)) > 0 {
			c := fmt.Sprintf("Provided count of '%s' is not allowed. Defaulting to %d. Min: 1, Max: %d.", excerpt(n.String()), defaultCount, maxCount)
			p.comment = &c
		} else {
			p.count = int(n.Int64())
		}
	}
	var msg string
	// Upstream names the option 'packet_size' in this message; kept byte for byte.
	p.payload, msg = intOption(opts, "payload_size", "packet_size", defaultPayload, 0, maxPayload)
	return p, msg
}

type traceParams struct {
	proto                  string
	dport, payload, maxTTL int
	comment                *string
	// probes per hop; perProbe: the client asked (`probes`), so the answer lists them.
	probes   int
	perProbe bool
}

// parseTrace validates traceroute options in upstream's order.
func parseTrace(opts map[string]any) (traceParams, string) {
	p := traceParams{proto: "ICMP"}
	if v, ok := opts["proto"]; ok {
		s, isStr := v.(string)
		if !isStr {
			return p, fmt.Sprintf("'%s' object has no attribute 'upper'", pyType(v))
		}
		p.proto = strings.ToUpper(s)
	}
	if p.proto != "ICMP" && p.proto != "TCP" {
		c := fmt.Sprintf("Provided 'proto' of '%s' is not supported. Defaulting to ICMP. ('ICMP', 'TCP').", excerpt(p.proto))
		p.comment, p.proto = &c, "ICMP"
	}
	var msg string
	if p.dport, msg = intOption(opts, "dport", "dport", defaultDPort, 0, 65535); msg != "" {
		return p, msg
	}
	if p.payload, msg = intOption(opts, "payload_size", "packet_size", defaultPayload, 0, maxPayload); msg != "" {
		return p, msg
	}
	if p.maxTTL, msg = intOption(opts, "max_ttl", "max_ttl", maxTTL, 0, maxTTL); msg != "" {
		return p, msg
	}
	// meshtop's own option, after upstream's (which ignores keys it does not know, so a
	// client may send it to any agent): several probes per hop, as mtr's cycles.
	_, p.perProbe = opts["probes"]
	p.probes, msg = intOption(opts, "probes", "probes", 1, 1, maxProbes)
	return p, msg
}
