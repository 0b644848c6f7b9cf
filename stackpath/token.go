package stackpath

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/meshtop/meshtop/internal/scrub"
)

// PathToken is the OAuth2 token endpoint (SPEC 5).
const PathToken = "/identity/v1/oauth2/token"

// token is a cached access token.
type token struct {
	value   string
	renewAt time.Time // renew from here on, ahead of the real expiry
}

// tokenAnswer is the body of a successful token request.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

// token returns a valid access token, fetching one when none is cached or the cached
// one is close to expiry. Concurrent callers share one token request.
func (c *Client) token(ctx context.Context) (string, error) {
	if t, ok := c.cached(); ok {
		return t, nil
	}
	select {
	case c.fetching <- struct{}{}:
	case <-ctx.Done():
		return "", c.ctxErr(ctx, "token request")
	}
	defer func() { <-c.fetching }()
	// Another caller may have fetched one while we waited.
	if t, ok := c.cached(); ok {
		return t, nil
	}
	t, err := c.fetchToken(ctx)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.tok = t
	c.mu.Unlock()
	return t.value, nil
}

func (c *Client) cached() (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok.value != "" && c.now().Before(c.tok.renewAt) {
		return c.tok.value, true
	}
	return "", false
}

// invalidate drops the cached token if it is still the given one (the API refused it
// before its time, e.g. revoked); a newer token fetched meanwhile is kept.
func (c *Client) invalidate(value string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok.value == value {
		c.tok = token{}
	}
}

func (c *Client) fetchToken(ctx context.Context) (token, error) {
	const op = "token request"
	if c.clientID == "" || c.clientSecret == "" {
		return token{}, errors.New("stackpath: no API credentials: set SP_API_CLIENT_ID and SP_API_CLIENT_SECRET")
	}
	body, err := json.Marshal(map[string]string{
		"grant_type":    "client_credentials",
		"client_id":     c.clientID,
		"client_secret": c.clientSecret,
	})
	if err != nil {
		return token{}, fmt.Errorf("stackpath: %s: %w", op, err)
	}
	a, err := c.send(ctx, op, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+PathToken, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		return req, nil
	})
	if err != nil {
		return token{}, err
	}
	switch {
	case a.status == http.StatusOK:
	case a.status == http.StatusBadRequest || a.status == http.StatusUnauthorized || a.status == http.StatusForbidden:
		return token{}, &APIError{What: "token request refused", StatusCode: a.status, Attempts: a.attempts,
			Server: c.serverMessage(a.body), Hint: hintCredentials}
	case a.status == http.StatusTooManyRequests:
		return token{}, &APIError{What: "token request rate limited", StatusCode: a.status, Attempts: a.attempts,
			Server: c.serverMessage(a.body), Hint: hintRateLimited}
	case a.status >= 500:
		return token{}, &APIError{What: "token request failed", StatusCode: a.status, Attempts: a.attempts,
			Server: c.serverMessage(a.body), Hint: hintRetryLater}
	default:
		return token{}, &APIError{What: "token request failed", StatusCode: a.status, Attempts: a.attempts,
			Server: c.serverMessage(a.body), Hint: "is the base URL a StackPath API gateway?"}
	}
	var ta tokenAnswer
	if err := json.Unmarshal(a.body, &ta); err != nil {
		// The decoder's message quotes at most a character of the input, never the token.
		return token{}, fmt.Errorf("stackpath: %s: the answer is not a token (%v); is the base URL a StackPath API gateway?", op, err)
	}
	if ta.AccessToken == "" {
		return token{}, fmt.Errorf("stackpath: %s: the answer holds no access_token", op)
	}
	scrub.Add(ta.AccessToken) // sent as "Bearer <token>" from now on
	life := time.Duration(ta.ExpiresIn) * time.Second
	if ta.ExpiresIn <= 0 {
		// No lifetime given: assume a short one; a 401 makes us fetch a new one anyway.
		life = 5 * time.Minute
	}
	// Renew ahead of expiry by a tenth of the lifetime, at most a minute, so a token
	// never runs out between our check and the API's.
	return token{value: ta.AccessToken, renewAt: c.now().Add(life - min(life/10, time.Minute))}, nil
}
