// Package stackpath finds meshtop's agents in a StackPath Edge Compute workload
// (SPEC 5): an OAuth2 client-credentials token, then the workload's instances page by
// page, of which the RUNNING ones become agents. It retries what is worth retrying
// (429, 5xx, dropped connections), refuses to loop on a broken cursor, and never puts
// the client secret or the token into an error.
package stackpath

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/meshtop/meshtop/internal/scrub"
)

// DefaultBaseURL is the StackPath API gateway.
const DefaultBaseURL = "https://gateway.stackpath.com"

// Defaults of a Client; each has an Option.
const (
	DefaultMaxAttempts = 5  // per request, the first try included
	DefaultPageSize    = 50 // page_request.first
	DefaultMaxPages    = 200
	// DefaultDeadline bounds one whole listing (token, every page, every retry): a
	// rate-limited API must not hold discovery for hours (4 x 429 with Retry-After 120
	// before each of 20 pages would be 2 h 40 min).
	DefaultDeadline  = 3 * time.Minute
	defaultBaseDelay = time.Second
	defaultMaxDelay  = 30 * time.Second
	// maxRetryAfter bounds how long a Retry-After may make us wait: an hour-long wait
	// is better reported than silently sat through.
	maxRetryAfter = 2 * time.Minute
	// maxEmptyPages is how many pages in a row may come back empty while claiming
	// there is a next page before we call the pagination broken.
	maxEmptyPages = 3
)

// Client talks to the StackPath API. It is safe for concurrent use; the token is
// shared and renewed by whichever call needs it first.
type Client struct {
	baseURL      string
	clientID     string
	clientSecret string

	hc          *http.Client
	maxAttempts int
	sleep       func(context.Context, time.Duration) error
	now         func() time.Time
	pageSize    int
	maxPages    int
	baseDelay   time.Duration
	maxDelay    time.Duration
	deadline    time.Duration

	// fetching serialises token requests (a 1-slot semaphore, so waiting for it can
	// honour a context, unlike a mutex); mu guards the cached token.
	fetching chan struct{}
	mu       sync.Mutex
	tok      token
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (timeouts, proxies, test transports).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// WithMaxAttempts bounds the tries of one request (429, 5xx and dropped connections
// are retried); n < 1 means 1, i.e. no retry.
func WithMaxAttempts(n int) Option {
	return func(c *Client) { c.maxAttempts = max(n, 1) }
}

// WithSleep replaces the wait between retries, so tests can record the requested
// waits instead of sitting through them. It must return ctx.Err() when ctx ends first.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) {
		if sleep != nil {
			c.sleep = sleep
		}
	}
}

// WithClock replaces time.Now for token expiry and Retry-After dates.
func WithClock(now func() time.Time) Option {
	return func(c *Client) {
		if now != nil {
			c.now = now
		}
	}
}

// WithPageSize sets page_request.first (default 50).
func WithPageSize(n int) Option {
	return func(c *Client) {
		if n > 0 {
			c.pageSize = n
		}
	}
}

// WithMaxPages bounds how many pages one listing may take (default 200) before it is
// treated as a cursor that never ends.
func WithMaxPages(n int) Option {
	return func(c *Client) {
		if n > 0 {
			c.maxPages = n
		}
	}
}

// WithDeadline bounds one listing, retries and their waits included (default
// DefaultDeadline); d <= 0 keeps the default.
func WithDeadline(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.deadline = d
		}
	}
}

// WithBackoff sets the first retry wait and its cap; waits double from base to max.
func WithBackoff(base, maxWait time.Duration) Option {
	return func(c *Client) {
		if base > 0 {
			c.baseDelay = base
		}
		if maxWait >= c.baseDelay {
			c.maxDelay = maxWait
		}
	}
}

// New returns a client of the API at baseURL ("" means DefaultBaseURL) that
// authenticates with the given API client credentials.
func New(baseURL, clientID, clientSecret string, opts ...Option) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	scrub.Add(clientSecret)
	c := &Client{
		baseURL:      strings.TrimRight(baseURL, "/"),
		clientID:     clientID,
		clientSecret: clientSecret,
		hc:           &http.Client{Timeout: 30 * time.Second},
		maxAttempts:  DefaultMaxAttempts,
		sleep:        sleepContext,
		now:          time.Now,
		pageSize:     DefaultPageSize,
		maxPages:     DefaultMaxPages,
		baseDelay:    defaultBaseDelay,
		maxDelay:     defaultMaxDelay,
		deadline:     DefaultDeadline,
		fetching:     make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
