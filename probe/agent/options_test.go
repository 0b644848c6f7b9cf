package agent

import (
	"encoding/json"
	"strings"
	"testing"
)

// opts decodes option JSON the way the server does (numbers kept as json.Number).
func opts(t *testing.T, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestParsePing(t *testing.T) {
	tests := []struct {
		in             string
		count, payload int
		comment, msg   string
	}{
		{`{}`, 10, 56, "", ""},
		{`{"count": 5}`, 5, 56, "", ""},
		{`{"count": "7"}`, 7, 56, "", ""},
		{`{"count": -3}`, 3, 56, "", ""}, // upstream takes abs()
		{`{"count": 2.9}`, 2, 56, "", ""},
		{`{"count": true}`, 1, 56, "", ""},
		{`{"count": 0}`, 10, 56, "Provided count of '0' is not allowed. Defaulting to 10. Min: 1, Max: 20.", ""},
		{`{"count": 21}`, 10, 56, "Provided count of '21' is not allowed. Defaulting to 10. Min: 1, Max: 20.", ""},
		{`{"count": "abc"}`, 0, 0, "", "Provided 'count' of 'abc' must be an integer."},
		{`{"count": "-1"}`, 0, 0, "", "Provided 'count' of '-1' must be an integer."},
		{`{"count": null}`, 0, 0, "", "int() argument must be a string, a bytes-like object or a real number, not 'NoneType'"},
		{`{"count": [1]}`, 0, 0, "", "int() argument must be a string, a bytes-like object or a real number, not 'list'"},
		{`{"payload_size": 0}`, 10, 0, "", ""},
		{`{"payload_size": 1472}`, 10, 1472, "", ""},
		{`{"payload_size": 1473}`, 0, 0, "", "Provided 'packet_size' of '1473' is not allowed. Min: 0, Max: 1472."},
		{`{"payload_size": "x"}`, 0, 0, "", "Provided 'payload_size' of 'x' must be an integer."},
		{`{"count": 1e400}`, 0, 0, "", "cannot convert float infinity to integer"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, msg := parsePing(opts(t, tt.in))
			if msg != tt.msg {
				t.Fatalf("message = %q, want %q", msg, tt.msg)
			}
			if msg != "" {
				return
			}
			comment := ""
			if p.comment != nil {
				comment = *p.comment
			}
			if p.count != tt.count || p.payload != tt.payload || comment != tt.comment {
				t.Errorf("= count %d payload %d comment %q, want %d %d %q", p.count, p.payload, comment, tt.count, tt.payload, tt.comment)
			}
		})
	}
}

func TestParseTrace(t *testing.T) {
	tests := []struct {
		in                     string
		proto                  string
		dport, payload, maxTTL int
		comment, msg           string
	}{
		{`{}`, "ICMP", 80, 56, 32, "", ""},
		{`{"proto": "tcp", "dport": 443, "max_ttl": 5, "payload_size": 0}`, "TCP", 443, 0, 5, "", ""},
		{`{"proto": "udp"}`, "ICMP", 80, 56, 32, "Provided 'proto' of 'UDP' is not supported. Defaulting to ICMP. ('ICMP', 'TCP').", ""},
		{`{"proto": 6}`, "", 0, 0, 0, "", "'int' object has no attribute 'upper'"},
		{`{"dport": 70000}`, "", 0, 0, 0, "", "Provided 'dport' of '70000' is not allowed. Min: 0, Max: 65535."},
		{`{"dport": "http"}`, "", 0, 0, 0, "", "Provided 'dport' of 'http' must be an integer."},
		{`{"max_ttl": 33}`, "", 0, 0, 0, "", "Provided 'max_ttl' of '33' is not allowed. Min: 0, Max: 32."},
		{`{"max_ttl": 0}`, "ICMP", 80, 56, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, msg := parseTrace(opts(t, tt.in))
			if msg != tt.msg {
				t.Fatalf("message = %q, want %q", msg, tt.msg)
			}
			if msg != "" {
				return
			}
			comment := ""
			if p.comment != nil {
				comment = *p.comment
			}
			if p.proto != tt.proto || p.dport != tt.dport || p.payload != tt.payload || p.maxTTL != tt.maxTTL || comment != tt.comment {
				t.Errorf("= %+v comment %q, want %s %d %d %d %q", p, comment, tt.proto, tt.dport, tt.payload, tt.maxTTL, tt.comment)
			}
		})
	}
}

func TestTruthyAndPyFloat(t *testing.T) {
	for in, want := range map[string]bool{`""`: false, `"a"`: true, `0`: false, `0.0`: false, `5`: true, `null`: false, `false`: false, `[]`: false, `{"a":1}`: true} {
		m := opts(t, `{"v":`+in+`}`)
		if got := truthy(m["v"]); got != want {
			t.Errorf("truthy(%s) = %v, want %v", in, got, want)
		}
	}
	for v, want := range map[float64]string{0: "0.0", 100: "100.0", 100.0 / 3: "33.333333333333336", 0.06103515625: "0.06103515625"} {
		b, _ := pyFloat(v).MarshalJSON()
		if string(b) != want {
			t.Errorf("pyFloat(%v) = %s, want %s", v, b, want)
		}
	}
}
