package stackpath

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxBody bounds what we read of one answer; a page of 50 instances is a few kB.
const maxBody = 16 << 20

// answer is one HTTP answer, read whole.
type answer struct {
	status   int
	header   http.Header
	body     []byte
	attempts int // how many tries it took
}

// retryable says whether an answer is worth another try: rate limiting and server
// trouble are usually transient, every other status is a verdict.
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// send performs one request with bounded, context-aware retries on 429, 5xx and
// transport errors. newReq builds a fresh request per try (a body can be read once).
// An answer that is still 429/5xx after the last try is returned as an answer, so the
// caller can word the error; a transport failure after the last try is an error.
func (c *Client) send(ctx context.Context, op string, newReq func(context.Context) (*http.Request, error)) (answer, error) {
	var lastErr error
	lastCode := 0 // the last answer's status; 0 after a transport error
	for attempt := 1; ; attempt++ {
		req, err := newReq(ctx)
		if err != nil {
			return answer{}, fmt.Errorf("stackpath: %s: %w", op, err)
		}
		var wait time.Duration
		resp, err := c.hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return answer{}, c.ctxErr(ctx, op)
			}
			lastErr, lastCode = errors.New(c.redact(err.Error())), 0
			if !transient(err) || attempt >= c.maxAttempts {
				return answer{}, c.transportError(op, attempt, lastErr)
			}
			wait = c.backoff(attempt)
		} else {
			body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
			resp.Body.Close()
			if rerr != nil {
				if ctx.Err() != nil {
					return answer{}, c.ctxErr(ctx, op)
				}
				lastErr = fmt.Errorf("read answer: %s", c.redact(rerr.Error()))
				if attempt >= c.maxAttempts {
					return answer{}, c.transportError(op, attempt, lastErr)
				}
				wait = c.backoff(attempt)
			} else if len(body) > maxBody {
				return answer{}, fmt.Errorf("stackpath: %s: answer larger than %d MiB (HTTP %d); is the base URL a StackPath API gateway?", op, maxBody>>20, resp.StatusCode)
			} else {
				a := answer{status: resp.StatusCode, header: resp.Header, body: body, attempts: attempt}
				lastCode = a.status
				if !retryable(a.status) || attempt >= c.maxAttempts {
					return a, nil
				}
				wait = c.backoff(attempt)
				if ra, ok := c.retryAfter(resp.Header.Get("Retry-After")); ok {
					if ra > maxRetryAfter {
						return answer{}, &APIError{What: op + " rate limited", StatusCode: a.status, Attempts: attempt,
							Hint: fmt.Sprintf("the API asks to wait %s; try again later", ra.Round(time.Second))}
					}
					wait = ra
				}
			}
		}
		if dl, ok := ctx.Value(deadlineKey{}).(time.Time); ok && c.now().Add(wait).After(dl) {
			return answer{}, &APIError{What: op + " gave up", StatusCode: lastCode, Attempts: attempt,
				Hint: fmt.Sprintf("waiting %s more for a retry would pass the %s discovery deadline; try again later", wait.Round(time.Second), c.deadline)}
		}
		if err := c.sleep(ctx, wait); err != nil {
			return answer{}, c.ctxErr(ctx, op)
		}
	}
}

// ctxErr words a context that ended: our own deadline gets its length named.
func (c *Client) ctxErr(ctx context.Context, op string) error {
	if _, ours := ctx.Value(deadlineKey{}).(time.Time); ours && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("stackpath: %s: did not finish within the %s discovery deadline: %w", op, c.deadline, ctx.Err())
	}
	return fmt.Errorf("stackpath: %s: %w", op, ctx.Err())
}

// deadlineKey carries the end of the listing's time budget, on the client's clock.
type deadlineKey struct{}

// withDeadline starts a listing's time budget: a real deadline for requests that hang,
// and the same end on the client's clock for deciding whether a retry wait still fits.
func (c *Client) withDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Value(deadlineKey{}).(time.Time); ok {
		return ctx, func() {}
	}
	ctx = context.WithValue(ctx, deadlineKey{}, c.now().Add(c.deadline))
	return context.WithTimeout(ctx, c.deadline)
}

func (c *Client) transportError(op string, attempts int, err error) error {
	if attempts > 1 {
		return fmt.Errorf("stackpath: %s failed after %d attempts: %w", op, attempts, err)
	}
	return fmt.Errorf("stackpath: %s: %w", op, err)
}

// transient says whether a transport error may go away on its own. A name that does
// not resolve or a TLS verification failure will not; refused and reset connections
// and timeouts may.
func transient(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return false
	}
	msg := err.Error()
	for _, permanent := range []string{"x509:", "tls: ", "unsupported protocol scheme", "stopped after 10 redirects"} {
		if strings.Contains(msg, permanent) {
			return false
		}
	}
	return true
}

// backoff is the wait before try attempt+1: base, 2*base, 4*base, ... capped. No
// jitter: meshtop is one client, not a fleet that could stampede in step.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.baseDelay
	for i := 1; i < attempt && d < c.maxDelay; i++ {
		d *= 2
	}
	return min(d, c.maxDelay)
}

// retryAfter parses a Retry-After header: delay-seconds or an HTTP date.
func (c *Client) retryAfter(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second) // no overflow for absurd values
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(c.now()), 0), true
	}
	return 0, false
}
