package stackpath

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/meshtop/meshtop/internal/scrub"
	"github.com/meshtop/meshtop/internal/textsafe"
)

// APIError is an answer of the StackPath API that ends a call: refused credentials,
// missing permission, an unknown workload, or a 429/5xx that outlasted the retries.
type APIError struct {
	What       string // what failed, e.g. `token request refused`
	StatusCode int
	Attempts   int    // > 1 when the answer came after retries
	Server     string // the API's own message, redacted and shortened; may be empty
	Hint       string // what to do about it; may be empty
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stackpath: %s (%d", e.What, e.StatusCode)
	if e.Attempts > 1 {
		fmt.Fprintf(&b, ", after %d attempts", e.Attempts)
	}
	if e.Server != "" {
		fmt.Fprintf(&b, ", server says %q", e.Server)
	}
	b.WriteString(")")
	if e.Hint != "" {
		b.WriteString(": " + e.Hint)
	}
	return b.String()
}

// Hints for the operator. They name the settings of SPEC 5 (env variables).
const (
	hintCredentials = "check SP_API_CLIENT_ID and SP_API_CLIENT_SECRET"
	hintIDs         = "check SP_STACK_ID and SCOUTER_WORKLOAD_ID"
	hintRetryLater  = "the StackPath API is having trouble; try again later"
	hintRateLimited = "too many requests to the StackPath API; try again later"
)

// redact removes the client secret and every token we were given from text that came
// from elsewhere (server messages, transport errors), in case a server or proxy echoes
// them, in any form it was sent (internal/scrub: JSON-escaped, base64, ...). Both were
// registered when they were first held.
func (c *Client) redact(s string) string { return scrub.String(s) }

// serverMessage extracts the API's explanation from an error body: the `message` of a
// gRPC-gateway error, or an OAuth `error_description`/`error`; short plain text as is;
// HTML pages (proxies) not at all.
func (c *Client) serverMessage(body []byte) string {
	var e struct {
		Message          string `json:"message"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	msg := ""
	if json.Unmarshal(body, &e) == nil {
		switch {
		case e.Message != "":
			msg = e.Message
		case e.ErrorDescription != "":
			msg = e.ErrorDescription
		default:
			msg = e.Error
		}
	} else if t := strings.TrimSpace(string(body)); !strings.HasPrefix(t, "<") && utf8.ValidString(t) {
		msg = t
	}
	// Redact before shortening: a cut could leave half a secret that no longer matches.
	return textsafe.String(c.redact(strings.Join(strings.Fields(msg), " ")), 200)
}
