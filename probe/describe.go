package probe

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/meshtop/meshtop/internal/textsafe"
)

// Describe is what an agent says about itself in GET /api/v1.0/status beside upstream's
// keys: its PoP and labels (`meshtop agent --pop NAME --label KEY=VALUE`). Upstream
// Scouter says neither; its clients ignore keys they do not know. Discovery by DNS
// (dnsdisc) reads it to place an agent found only by its address.
type Describe struct {
	Pop    string            `json:"pop,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
}

// Bounds of what an agent may say about itself.
const (
	MaxLabels     = 32
	MaxLabelKey   = 63
	MaxLabelValue = 256
)

// popRE is a PoP code: lower-case letters, digits, '-' and '.', at most 63 characters.
// Dots are allowed so that a Kubernetes node name (ip-10-0-1-5.ec2.internal) can be a
// PoP as the downward API hands it over.
var (
	popRE      = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$`)
	labelKeyRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$`)
)

// CheckPop says what is wrong with a PoP code an agent is given or says, "" when nothing.
func CheckPop(pop string) string {
	switch {
	case pop == "":
		return "the PoP is empty"
	case popRE.MatchString(pop):
		return ""
	case popRE.MatchString(strings.ToLower(pop)):
		return fmt.Sprintf("PoP %q must be lower case", textsafe.Name(pop))
	}
	return fmt.Sprintf("PoP %q: want 1-63 of a-z, 0-9, '-' and '.', starting and ending with a letter or digit", textsafe.Name(pop))
}

// CheckLabel says what is wrong with one label, "" when nothing.
func CheckLabel(key, value string) string {
	switch {
	case !labelKeyRE.MatchString(key):
		return fmt.Sprintf("label name %q: want 1-63 of A-Z, a-z, 0-9, '.', '_', '/' and '-', starting and ending with a letter or digit", textsafe.Name(key))
	case len(value) > MaxLabelValue:
		return fmt.Sprintf("label %s: the value is longer than %d bytes", key, MaxLabelValue)
	case !utf8.ValidString(value) || textsafe.String(value, MaxLabelValue) != value:
		return fmt.Sprintf("label %s: the value has control characters or is not UTF-8", key)
	}
	return ""
}

// ParseLabels turns KEY=VALUE items (each may hold several, comma-separated, as an
// environment variable does) into a map; a key given twice is an error.
func ParseLabels(items []string) (map[string]string, error) {
	out := map[string]string{}
	for _, item := range items {
		for kv := range strings.SplitSeq(item, ",") {
			kv = strings.TrimSpace(kv)
			if kv == "" {
				continue
			}
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, fmt.Errorf("label %q: want KEY=VALUE", textsafe.Name(kv))
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if msg := CheckLabel(k, v); msg != "" {
				return nil, fmt.Errorf("%s", msg)
			}
			if _, dup := out[k]; dup {
				return nil, fmt.Errorf("label %s is given twice", k)
			}
			out[k] = v
		}
	}
	if len(out) > MaxLabels {
		return nil, fmt.Errorf("%d labels: at most %d", len(out), MaxLabels)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// DecodeDescribe reads the pop and labels keys of a status document. An agent that says
// neither (upstream Scouter) gives a zero Describe and no error; one that says something
// impossible (a PoP that is not a PoP code, too many or bad labels) gives an error that
// says what, and nothing of it is used. The read is bounded by the client (maxAnswer).
func DecodeDescribe(status []byte) (Describe, error) {
	var raw struct {
		Pop    *json.RawMessage `json:"pop"`
		Labels *json.RawMessage `json:"labels"`
	}
	if err := json.Unmarshal(status, &raw); err != nil {
		return Describe{}, fmt.Errorf("status is not a JSON object: %v", err)
	}
	var d Describe
	if raw.Pop != nil && string(*raw.Pop) != "null" {
		if err := json.Unmarshal(*raw.Pop, &d.Pop); err != nil {
			return Describe{}, fmt.Errorf("status: pop is not a string")
		}
		if msg := CheckPop(d.Pop); msg != "" {
			return Describe{}, fmt.Errorf("status: %s", msg)
		}
	}
	if raw.Labels != nil && string(*raw.Labels) != "null" {
		var labels map[string]json.RawMessage
		if err := json.Unmarshal(*raw.Labels, &labels); err != nil {
			return Describe{}, fmt.Errorf("status: labels is not an object of strings")
		}
		if len(labels) > MaxLabels {
			return Describe{}, fmt.Errorf("status: %d labels, at most %d", len(labels), MaxLabels)
		}
		keys := make([]string, 0, len(labels))
		for k := range labels {
			keys = append(keys, k)
		}
		slices.Sort(keys) // the first problem said is the same on every read
		for _, k := range keys {
			var v string
			if err := json.Unmarshal(labels[k], &v); err != nil {
				return Describe{}, fmt.Errorf("status: label %s is not a string", textsafe.Name(k))
			}
			if msg := CheckLabel(k, v); msg != "" {
				return Describe{}, fmt.Errorf("status: %s", msg)
			}
			if d.Labels == nil {
				d.Labels = map[string]string{}
			}
			d.Labels[k] = v
		}
	}
	return d, nil
}
