// Package probe speaks the Scouter API v1.0 (SPEC 4): the wire types shared by the
// client (sweeps) and meshtop's own agent, the client, and full-mesh sweeps.
package probe

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
)

// API paths of Scouter v1.0.
const (
	PathStatus = "/api/v1.0/status"
	PathTests  = "/api/v1.0/tests"
)

// Test types.
const (
	TypePing       = "ping"
	TypeTraceroute = "traceroute"
)

// Error texts of upstream Scouter, byte for byte (SPEC 4, appendix A).
const (
	ErrBadPayload      = "Valid request payload not found."
	ErrTooManyTestsFmt = "Provided number of tests is too high. Max: %d"
	ErrReceiptMissing  = "Required 'receipt' parameter not found."
	ErrReceiptEmpty    = "Required 'receipt' parameter found with an empty value."
	ErrReceiptNotFound = "Provided 'receipt' not found."
	MsgReceiptDeleted  = "Provided 'receipt' has been successfully deleted."
	MsgNoSuchTestType  = "Provided test type does not exist."
	MsgMissingDst      = "Required test option of 'dst' was not given. Please pass the required 'dst' option."
)

// PingOptions is one ping test request. Count and PayloadSize are pointers so that a
// client can leave them to the agent's defaults.
type PingOptions struct {
	Dst         string `json:"dst"`
	Count       *int   `json:"count,omitempty"`
	PayloadSize *int   `json:"payload_size,omitempty"`
	ID          string `json:"id,omitempty"`
}

// TracerouteOptions is one traceroute test request.
type TracerouteOptions struct {
	Dst         string `json:"dst"`
	Proto       string `json:"proto,omitempty"` // ICMP or TCP
	DPort       *int   `json:"dport,omitempty"`
	PayloadSize *int   `json:"payload_size,omitempty"`
	MaxTTL      *int   `json:"max_ttl,omitempty"`
	// Probes asks for several probes per hop (meshtop's agent; each hop then lists
	// them). Upstream agents ignore option keys they do not know and send one.
	Probes *int   `json:"probes,omitempty"`
	ID     string `json:"id,omitempty"`
}

// TestRequest is the body of POST /api/v1.0/tests.
type TestRequest struct {
	Ping       []PingOptions       `json:"ping,omitempty"`
	Traceroute []TracerouteOptions `json:"traceroute,omitempty"`
}

// Len is the number of tests in the request (what the agent's maximum limits).
func (r TestRequest) Len() int { return len(r.Ping) + len(r.Traceroute) }

// Receipt is the answer to a POST.
type Receipt struct {
	Receipt string `json:"receipt"`
}

// ErrorBody is the JSON error answer ({"error": "..."}).
type ErrorBody struct {
	Error string `json:"error"`
}

// MessageBody is the DELETE answer.
type MessageBody struct {
	Message string `json:"message"`
}

// TestsResponse is the answer to GET /api/v1.0/tests?receipt=R. IsRunning is a pointer
// because right after the POST the stored value can be {} with no is_running at all,
// which means "still running".
type TestsResponse struct {
	Receipt   string        `json:"receipt,omitempty"`
	IsRunning *bool         `json:"is_running,omitempty"`
	Results   *TestsResults `json:"results,omitempty"`
}

// Running reports whether the tests are still running ({} and a missing is_running count
// as running).
func (r TestsResponse) Running() bool { return r.IsRunning == nil || *r.IsRunning }

// TestsResults holds the entries per test type.
type TestsResults struct {
	Ping       []PingEntry       `json:"ping,omitempty"`
	Traceroute []TracerouteEntry `json:"traceroute,omitempty"`
}

// PingEntry is one ping test's outcome.
type PingEntry struct {
	ID      string     `json:"id"`
	Failed  bool       `json:"failed"`
	Message *string    `json:"message"`
	Result  PingResult `json:"result"`
}

// TracerouteEntry is one traceroute test's outcome.
type TracerouteEntry struct {
	ID      string           `json:"id"`
	Failed  bool             `json:"failed"`
	Message *string          `json:"message"`
	Result  TracerouteResult `json:"result"`
}

// RTTSummary is ping's rtt object: 3-decimal strings upstream, null when nothing came
// back. Decoding accepts numbers too.
type RTTSummary struct {
	Min Num `json:"min"`
	Max Num `json:"max"`
	Avg Num `json:"avg"`
}

// Reply is one answered probe.
type Reply struct {
	Seq   Num `json:"seq"`
	TTL   Num `json:"ttl"`
	Len   Num `json:"len"`
	RTTms Num `json:"rtt_ms"`
}

// PingResult is ping's result object. Upstream leaves recv null; meshtop's agent fills it.
type PingResult struct {
	Dst         string      `json:"dst"`
	Sent        Num         `json:"sent"`
	Recv        Num         `json:"recv"`
	PayloadSize Num         `json:"payload_size"`
	PacketSize  Num         `json:"packet_size"`
	Loss        Num         `json:"loss"`
	RTT         *RTTSummary `json:"rtt"`
	Replies     []Reply     `json:"replies"`
	Comment     *string     `json:"comment"`
	Failed      bool        `json:"failed"`
}

// Hop is one traceroute hop. Probes is meshtop's agent's addition when asked for
// several probes per hop: every probe's answer in the order sent, null for a lost one.
type Hop struct {
	TTL        Num         `json:"ttl"`
	Src        *string     `json:"src"`
	Hostname   *string     `json:"hostname"`
	ASN        Num         `json:"asn"`
	RTTms      Num         `json:"rtt_ms"`
	NoResponse bool        `json:"no_response"`
	Probes     []*HopProbe `json:"probes,omitempty"`
}

// HopProbe is one answered probe of a hop.
type HopProbe struct {
	Src   *string `json:"src"`
	RTTms Num     `json:"rtt_ms"`
}

// TracerouteResult is traceroute's result object.
type TracerouteResult struct {
	Dst         string  `json:"dst"`
	Proto       string  `json:"proto"`
	DPort       Num     `json:"dport"`
	PayloadSize Num     `json:"payload_size"`
	PacketSize  Num     `json:"packet_size"`
	Trace       []Hop   `json:"trace"`
	Comment     *string `json:"comment"`
	Failed      bool    `json:"failed"`
}

// Num is a JSON number that may arrive as a number, a numeric string ("0.059") or null.
// Valid is false for null, absent, or an empty string. It marshals as a number, or null
// when not valid.
type Num struct {
	V     float64
	Valid bool
}

// N makes a valid Num.
func N(v float64) Num { return Num{V: v, Valid: true} }

// Int returns the value truncated to int, and def when not valid.
func (n Num) Int(def int) int {
	if !n.Valid {
		return def
	}
	return int(n.V)
}

// Float returns the value, and def when not valid.
func (n Num) Float(def float64) float64 {
	if !n.Valid {
		return def
	}
	return n.V
}

// UnmarshalJSON accepts numbers, numeric strings, booleans as 0/1, and null.
func (n *Num) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*n = Num{}
	switch {
	case len(b) == 0 || string(b) == "null":
		return nil
	case string(b) == "true":
		*n = N(1)
		return nil
	case string(b) == "false":
		*n = N(0)
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" || strings.EqualFold(s, "null") || strings.EqualFold(s, "none") {
			return nil
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return numTypeError("string " + strconv.Quote(s))
		}
		*n = N(v)
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return numTypeError(jsonKind(b))
	}
	*n = N(v)
	return nil
}

// numTypeError is a *json.UnmarshalTypeError so that encoding/json adds the path of the
// field ("cannot unmarshal string \"abc\" into Go struct field
// PingResult.results.ping.result.sent of type float64"): the agent's operator can see
// which field was wrong.
func numTypeError(value string) error {
	return &json.UnmarshalTypeError{Value: value, Type: reflect.TypeFor[float64]()}
}

// jsonKind names what a JSON value is, bounded: the value itself may be huge.
func jsonKind(b []byte) string {
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	}
	if len(b) > 32 {
		b = b[:32]
	}
	return "value " + strconv.Quote(string(b))
}

// MarshalJSON writes a number, or null when not valid.
func (n Num) MarshalJSON() ([]byte, error) {
	if !n.Valid {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, n.V, 'f', -1, 64), nil
}

// Str3 formats an RTT as upstream does: a string with three decimals.
func Str3(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
