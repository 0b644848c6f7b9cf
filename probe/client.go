package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/meshtop/meshtop/internal/membudget"
	"github.com/meshtop/meshtop/internal/scrub"
	"github.com/meshtop/meshtop/internal/textsafe"
	"github.com/meshtop/meshtop/mesh"
)

// maxAnswer bounds how much of any agent's answer we read: results of 30 traceroutes of
// 32 hops are well under 1 MiB; anything larger is not a Scouter answer, and is said to
// be too large (not "not JSON", as a cut answer would otherwise read). A poll's answer
// is bounded lower, by what was asked (AnswerLimits.maxBytes).
const maxAnswer = 8 << 20

// Client talks to one Scouter-compatible agent.
type Client struct {
	Agent  mesh.Agent
	Secret string
	HTTP   *http.Client
}

// AgentError is a failure of an agent as a whole (as opposed to one test's message).
type AgentError struct {
	Agent  string
	URL    string
	Op     string // what was being done, e.g. "submit tests"
	State  mesh.AgentState
	Status int // HTTP status, 0 when there was no answer
	// Max is the agent's maximum test count when it refused a batch as too large.
	Max int
	Msg string
}

func (e *AgentError) Error() string {
	return fmt.Sprintf("agent %s (%s): %s: %s", e.Agent, e.URL, e.Op, e.Msg)
}

// AsAgentError unwraps err into an *AgentError.
func AsAgentError(err error) (*AgentError, bool) {
	var ae *AgentError
	ok := errors.As(err, &ae)
	return ae, ok
}

var tooManyRE = regexp.MustCompile(`Max:\s*(\d+)`)

// Answer caps other than a poll's (AnswerLimits.maxBytes): a receipt or a delete
// answer is a line; /status lists one small object per worker process.
const (
	maxSmallAnswer  = 64 << 10
	maxStatusAnswer = 1 << 20
)

// Submit posts a batch of tests and returns the receipt.
func (c *Client) Submit(ctx context.Context, req TestRequest) (string, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return "", fmt.Errorf("encode tests for agent %s: %w", c.Agent.Name, err)
	}
	var rc Receipt
	if err := c.do(ctx, "submit tests", http.MethodPost, PathTests, body, maxSmallAnswer, jsonInto(&rc)); err != nil {
		return "", err
	}
	if rc.Receipt == "" || textsafe.Name(rc.Receipt) != rc.Receipt {
		return "", c.fail("submit tests", mesh.StateError, http.StatusOK, "answer carries no receipt")
	}
	return rc.Receipt, nil
}

// Poll reads the state of a receipt whose request is not known: the answer is bounded
// by what any batch could hold. PollFor bounds it by what was asked.
func (c *Client) Poll(ctx context.Context, receipt string) (TestsResponse, error) {
	return c.PollFor(ctx, receipt, unknownLimits)
}

// PollFor reads the state of a receipt, refusing an answer that holds more than the
// request could produce (lim: TestRequest.AnswerLimits) before decoding it.
func (c *Client) PollFor(ctx context.Context, receipt string, lim AnswerLimits) (TestsResponse, error) {
	var tr TestsResponse
	decode := func(data []byte) (int64, error) {
		if err := checkShape(data, lim); err != nil {
			return 0, err
		}
		// What the decoded answer may hold beyond its strings is held too, for as long
		// as the budget counts this answer.
		extra := lim.decodedBound()
		if !answerBudget.Take(extra) {
			return 0, membudget.ErrExhausted
		}
		return extra, json.Unmarshal(data, &tr)
	}
	err := c.do(ctx, "read results", http.MethodGet, PathTests+"?receipt="+url.QueryEscape(receipt), nil, lim.maxBytes(), decode)
	tr.clean()
	return tr, err
}

// Delete removes a receipt from the agent (the workshop's collector never did, leaving
// results to pile up for 10 minutes).
func (c *Client) Delete(ctx context.Context, receipt string) error {
	var mb MessageBody
	return c.do(ctx, "delete receipt", http.MethodDelete, PathTests+"?receipt="+url.QueryEscape(receipt), nil, maxSmallAnswer, jsonInto(&mb))
}

// Status reads the agent's status document (as raw JSON).
func (c *Client) Status(ctx context.Context) (json.RawMessage, error) {
	var raw json.RawMessage
	err := c.do(ctx, "read status", http.MethodGet, PathStatus, nil, maxStatusAnswer, jsonInto(&raw))
	return raw, err
}

// jsonInto decodes a small answer (one that holds no list) into out.
func jsonInto(out any) func([]byte) (int64, error) {
	return func(data []byte) (int64, error) { return 0, json.Unmarshal(data, out) }
}

func (c *Client) fail(op string, st mesh.AgentState, status int, msg string) *AgentError {
	return &AgentError{Agent: c.Agent.Name, URL: c.Agent.URL, Op: op, State: st, Status: status, Msg: msg}
}

// do runs one request and hands a successful answer of at most limit bytes to decode,
// which returns the bytes it holds beyond the answer (given back to the budget with it).
func (c *Client) do(ctx context.Context, op, method, path string, body []byte, limit int64,
	decode func([]byte) (int64, error)) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.Agent.URL, "/")+path, rd)
	if err != nil {
		return c.fail(op, mesh.StateError, 0, "bad agent URL: "+err.Error())
	}
	secret := c.Secret
	if c.Agent.Secret != "" {
		secret = c.Agent.Secret
	}
	// An agent or proxy that echoes the header in its error text must not show it:
	// textsafe scrubs registered secrets from every text from outside.
	scrub.Add(secret)
	req.Header.Set("Authorization", secret)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = DefaultHTTPClient()
	}
	// Never follow a redirect: the next request would carry the secret to wherever the
	// answer points. A copy of the client shares its transport (and connection pool).
	noRedirect := *hc
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := send(&noRedirect, req, body)
	if err != nil {
		if ctx.Err() != nil {
			return c.fail(op, mesh.StateUnreachable, 0, "no answer before the deadline")
		}
		return c.fail(op, mesh.StateUnreachable, 0, describeNetErr(err))
	}
	defer resp.Body.Close()
	data, held, tooLarge, err := membudget.Read(resp.Body, limit, readChunk, answerBudget)
	defer func() { answerBudget.Give(held) }()
	switch {
	case errors.Is(err, membudget.ErrExhausted):
		return c.fail(op, mesh.StateError, resp.StatusCode, budgetMsg())
	case err != nil:
		return c.fail(op, mesh.StateUnreachable, resp.StatusCode, "answer cut off: "+describeNetErr(err))
	case tooLarge:
		return c.fail(op, mesh.StateError, resp.StatusCode,
			fmt.Sprintf("answer larger than %s (HTTP %d, %s): not a Scouter answer to the tests sent", sizeText(limit), resp.StatusCode, contentType(resp)))
	}
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		where := textsafe.Name(resp.Header.Get("Location"))
		if where == "" {
			where = "(no Location)"
		}
		return c.fail(op, mesh.StateError, resp.StatusCode,
			fmt.Sprintf("HTTP %d redirect to %s refused: meshtop does not send the secret to another address; put the final URL in the inventory", resp.StatusCode, where))
	case (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized) && secret == "":
		// Not a wrong secret: none was sent.
		return c.fail(op, mesh.StateAuthFailed, resp.StatusCode,
			fmt.Sprintf("no secret is set and the agent wants one (HTTP %d): set SCOUTER_SECRET or --scouter-secret-file FILE "+
				"(per agent: secret_env or secret_file in the inventory) to the agents' SCOUTER_API_SECRET", resp.StatusCode))
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized:
		return c.fail(op, mesh.StateAuthFailed, resp.StatusCode,
			fmt.Sprintf("the agent refused the secret (HTTP %d): set SCOUTER_SECRET (or this agent's secret_env/secret_file) to its SCOUTER_API_SECRET", resp.StatusCode))
	case resp.StatusCode >= 400:
		msg := errorText(resp, data)
		ae := c.fail(op, mesh.StateError, resp.StatusCode, fmt.Sprintf("HTTP %d: %s", resp.StatusCode, msg))
		if m := tooManyRE.FindStringSubmatch(msg); resp.StatusCode == http.StatusBadRequest && m != nil {
			ae.Max, _ = strconv.Atoi(m[1])
		}
		return ae
	}
	extra, err := decode(data)
	held += extra
	var se *ShapeError
	switch {
	case errors.Is(err, membudget.ErrExhausted):
		return c.fail(op, mesh.StateError, resp.StatusCode, budgetMsg())
	case errors.As(err, &se):
		return c.fail(op, mesh.StateError, resp.StatusCode, se.Error())
	case err != nil:
		return c.fail(op, mesh.StateError, resp.StatusCode, decodeProblem(err, resp, data))
	}
	return nil
}

// sizeText words a byte limit: "8 MiB", "216 KiB".
func sizeText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", (n+1023)>>10)
}

// errorText extracts {"error": ...} from an error answer, or a snippet of whatever came.
func errorText(resp *http.Response, data []byte) string {
	var eb ErrorBody
	if json.Unmarshal(data, &eb) == nil && eb.Error != "" {
		return textsafe.Message(eb.Error)
	}
	return fmt.Sprintf("non-JSON answer (%s): %s", contentType(resp), snippet(data))
}

func contentType(resp *http.Response) string {
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt == "" {
		return "no content type"
	}
	return mt
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// snippet makes a short one-line excerpt of an unexpected answer (HTML tags dropped).
func snippet(b []byte) string {
	if len(b) > 4096 {
		b = b[:4096]
	}
	s := tagRE.ReplaceAllString(string(b), " ")
	s = textsafe.String(strings.Join(strings.Fields(s), " "), 80)
	if s == "" {
		return "(empty)"
	}
	return strconv.Quote(s)
}

func describeNetErr(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	case strings.Contains(err.Error(), "connection refused"):
		return "connection refused (is the agent running and the port right?)"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return textsafe.Message(ue.Err.Error())
	}
	return textsafe.Message(err.Error())
}

// DefaultHTTPClient has bounded timeouts so one slow agent cannot hold a sweep. Per
// call deadlines come from the context.
func DefaultHTTPClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost:   16,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: 15 * time.Second,
		},
	}
}
