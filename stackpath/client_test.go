package stackpath_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshtop/meshtop/stackpath"
	"github.com/meshtop/meshtop/stackpath/spfake"
)

// clock is a settable clock shared by the client and the fake.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// sleeps records the waits the client asks for instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

var cities = []spfake.Location{
	{CityCode: "SJC", Name: "San Jose", CountryCode: "US", ContinentCode: "NA", RegionCode: "AMER", Latitude: 37.3, Longitude: -121.9},
	{CityCode: "AMS", Name: "Amsterdam", CountryCode: "NL", ContinentCode: "EU", RegionCode: "EMEA", Latitude: 52.4, Longitude: 4.9},
	{CityCode: "NRT", Name: "Tokyo", CountryCode: "JP", ContinentCode: "AS", RegionCode: "APAC", Latitude: 35.8, Longitude: 140.4},
}

// running makes n RUNNING instances spread over the cities.
func running(n int) []spfake.Instance {
	out := make([]spfake.Instance, n)
	for i := range out {
		loc := cities[i%len(cities)]
		out[i] = spfake.Instance{
			Name:              fmt.Sprintf("scouter-%s-%d", strings.ToLower(loc.CityCode), i/len(cities)),
			Phase:             "RUNNING",
			IPAddress:         fmt.Sprintf("10.128.0.%d", i+1),
			ExternalIPAddress: fmt.Sprintf("198.18.0.%d", i+1),
			Location:          loc,
		}
	}
	return out
}

// names returns the instance names in order.
func names(is []stackpath.Instance) []string {
	out := make([]string, len(is))
	for i, in := range is {
		out[i] = in.Name
	}
	return out
}

func fakeNames(is []spfake.Instance) []string {
	out := make([]string, len(is))
	for i, in := range is {
		out[i] = in.Name
	}
	return out
}

// noSecrets fails the test if text holds the client secret or any issued token.
func noSecrets(t *testing.T, text string, fake *spfake.Server, secrets ...string) {
	t.Helper()
	for _, s := range append(fake.IssuedTokens(), secrets...) {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%q reveals a secret or token", text)
		}
	}
}

func TestInstances(t *testing.T) {
	const wrongSecret = "wrong-secret-value-42"
	tests := []struct {
		name     string
		cfg      spfake.Config
		secret   string // client secret; default the fake's
		stack    string // default the fake's
		workload string
		opts     []stackpath.Option
		setup    func(f *spfake.Server, clk *clock)

		wantNames   []string        // nil: the fake's instances
		wantErr     []string        // substrings; empty: success
		wantSleeps  []time.Duration // nil: none
		wantTokens  int             // token requests; 0: don't check
		wantPages   int             // instance requests; 0: don't check
		wantAPIcode int             // *APIError status; 0: no check
	}{
		{
			name:       "multi-page happy path, string totalCount",
			cfg:        spfake.Config{Instances: running(7)},
			opts:       []stackpath.Option{stackpath.WithPageSize(3)},
			wantTokens: 1, wantPages: 3,
		},
		{
			name:      "numeric totalCount",
			cfg:       spfake.Config{Instances: running(5), NumericTotalCount: true},
			opts:      []stackpath.Option{stackpath.WithPageSize(2)},
			wantPages: 3,
		},
		{
			name:      "no totalCount",
			cfg:       spfake.Config{Instances: running(4), HideTotalCount: true},
			opts:      []stackpath.Option{stackpath.WithPageSize(2)},
			wantPages: 2,
		},
		{
			name:      "exact multiple of the page size",
			cfg:       spfake.Config{Instances: running(6)},
			opts:      []stackpath.Option{stackpath.WithPageSize(3)},
			wantPages: 2,
		},
		{
			name:      "no instances",
			cfg:       spfake.Config{},
			wantNames: []string{}, wantPages: 1,
		},
		{
			name:      "page size above the server's cap",
			cfg:       spfake.Config{Instances: running(5), MaxPageSize: 2},
			opts:      []stackpath.Option{stackpath.WithPageSize(50)},
			wantPages: 3,
		},
		{
			name:  "IDs are escaped as path segments",
			cfg:   spfake.Config{Instances: running(2), StackID: "my stack/1", WorkloadID: "wl?x=1#y"},
			stack: "my stack/1", workload: "wl?x=1#y",
			wantPages: 1,
		},
		{
			name:      "one empty page is tolerated",
			cfg:       spfake.Config{Instances: running(4), EmptyPages: 1},
			opts:      []stackpath.Option{stackpath.WithPageSize(2)},
			wantPages: 3,
		},
		{
			name:       "429 with Retry-After seconds, then success",
			cfg:        spfake.Config{Instances: running(3), InstanceFaults: spfake.Repeat(2, spfake.Fault{Status: 429, RetryAfter: "3"})},
			wantSleeps: []time.Duration{3 * time.Second, 3 * time.Second},
			wantPages:  3,
		},
		{
			name: "429 with Retry-After date, then success",
			cfg:  spfake.Config{Instances: running(3)},
			setup: func(f *spfake.Server, clk *clock) {
				f.AddInstanceFaults(spfake.Fault{Status: 429, RetryAfter: clk.Now().Add(7 * time.Second).Format(http.TimeFormat)})
			},
			wantSleeps: []time.Duration{7 * time.Second},
		},
		{
			name:       "429 without Retry-After backs off",
			cfg:        spfake.Config{Instances: running(3), InstanceFaults: spfake.Repeat(2, spfake.Fault{Status: 429})},
			wantSleeps: []time.Duration{time.Second, 2 * time.Second},
		},
		{
			name:        "429 asking for an hour is reported, not waited",
			cfg:         spfake.Config{Instances: running(3), InstanceFaults: []spfake.Fault{{Status: 429, RetryAfter: "3600"}}},
			wantErr:     []string{"stackpath: list instances of workload fake-workload in stack fake-stack rate limited (429): the API asks to wait 1h0m0s; try again later"},
			wantAPIcode: 429, wantPages: 1,
		},
		{
			name:        "429 exhausted",
			cfg:         spfake.Config{Instances: running(3), InstanceFaults: spfake.Repeat(9, spfake.Fault{Status: 429, RetryAfter: "1"})},
			wantErr:     []string{"rate limited (429, after 5 attempts", "try again later"},
			wantSleeps:  []time.Duration{time.Second, time.Second, time.Second, time.Second},
			wantAPIcode: 429, wantPages: 5,
		},
		{
			name:       "5xx retried, then success",
			cfg:        spfake.Config{Instances: running(3), InstanceFaults: []spfake.Fault{{Status: 503}, {Status: 502, Body: "<html>bad gateway</html>"}}},
			wantSleeps: []time.Duration{time.Second, 2 * time.Second},
			wantPages:  3,
		},
		{
			name:        "5xx exhausted",
			cfg:         spfake.Config{Instances: running(3), InstanceFaults: spfake.Repeat(5, spfake.Fault{Status: 503})},
			wantErr:     []string{`stackpath: list instances of workload fake-workload in stack fake-stack failed (503, after 5 attempts, server says "Service Unavailable"): the StackPath API is having trouble; try again later`},
			wantSleeps:  []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second},
			wantAPIcode: 503, wantPages: 5,
		},
		{
			name:        "fewer attempts configured",
			cfg:         spfake.Config{Instances: running(3), InstanceFaults: spfake.Repeat(5, spfake.Fault{Status: 500})},
			opts:        []stackpath.Option{stackpath.WithMaxAttempts(2), stackpath.WithBackoff(100*time.Millisecond, time.Second)},
			wantErr:     []string{"failed (500, after 2 attempts"},
			wantSleeps:  []time.Duration{100 * time.Millisecond},
			wantAPIcode: 500, wantPages: 2,
		},
		{
			name:       "token endpoint 5xx retried",
			cfg:        spfake.Config{Instances: running(2), TokenFaults: []spfake.Fault{{Status: 500}}},
			wantSleeps: []time.Duration{time.Second},
			wantTokens: 2,
		},
		{
			name:        "401 on token: wrong secret, no retry",
			cfg:         spfake.Config{Instances: running(2)},
			secret:      wrongSecret,
			wantErr:     []string{`stackpath: token request refused (401, server says "invalid client credentials"): check SP_API_CLIENT_ID and SP_API_CLIENT_SECRET`},
			wantAPIcode: 401, wantTokens: 1, wantPages: 0,
		},
		{
			name:        "403 on instances",
			cfg:         spfake.Config{Instances: running(2), Forbidden: true},
			wantErr:     []string{`stackpath: not allowed to list instances of workload fake-workload in stack fake-stack (403, server says "permission denied"): give the API client access to the stack, or check SP_STACK_ID and SCOUTER_WORKLOAD_ID`},
			wantAPIcode: 403, wantPages: 1,
		},
		{
			name:        "other stack is forbidden",
			cfg:         spfake.Config{Instances: running(2)},
			stack:       "someone-elses",
			wantErr:     []string{"not allowed to list instances of workload fake-workload in stack someone-elses (403"},
			wantAPIcode: 403,
		},
		{
			name:        "unknown workload",
			cfg:         spfake.Config{Instances: running(2)},
			workload:    "nope",
			wantErr:     []string{"stackpath: workload nope not found in stack fake-stack (404", "check SP_STACK_ID and SCOUTER_WORKLOAD_ID"},
			wantAPIcode: 404,
		},
		{
			name:        "401 on instances twice",
			cfg:         spfake.Config{Instances: running(2), InstanceFaults: spfake.Repeat(2, spfake.Fault{Status: 401})},
			wantErr:     []string{"stackpath: token refused when listing instances of workload fake-workload in stack fake-stack (401", "check SP_API_CLIENT_ID and SP_API_CLIENT_SECRET"},
			wantAPIcode: 401, wantTokens: 2, wantPages: 2,
		},
		{
			name:      "repeated cursor",
			cfg:       spfake.Config{Instances: running(4), Cursor: spfake.CursorRepeat, HideTotalCount: true},
			opts:      []stackpath.Option{stackpath.WithPageSize(2)},
			wantErr:   []string{`page 2 repeats the cursor "cur-repeat" of an earlier page; stopping instead of looping`},
			wantPages: 2,
		},
		{
			name:      "never-ending cursor exceeds totalCount",
			cfg:       spfake.Config{Instances: running(4), Cursor: spfake.CursorEndless},
			opts:      []stackpath.Option{stackpath.WithPageSize(3)},
			wantErr:   []string{"page 2 brings the count to 6 instances, more than the totalCount 4"},
			wantPages: 2,
		},
		{
			name:      "never-ending cursor without totalCount hits the page cap",
			cfg:       spfake.Config{Instances: running(4), Cursor: spfake.CursorEndless, HideTotalCount: true},
			opts:      []stackpath.Option{stackpath.WithPageSize(2), stackpath.WithMaxPages(6)},
			wantErr:   []string{"stopped after 6 pages (12 instances)", "cursor never ends"},
			wantPages: 6,
		},
		{
			name:      "empty pages that claim a next page",
			cfg:       spfake.Config{Instances: running(4), EmptyPages: 1000},
			wantErr:   []string{"3 empty pages in a row (page 3) while the API says there are more"},
			wantPages: 3,
		},
		{
			name: "server echoing the secret and token is redacted",
			cfg: spfake.Config{Instances: running(2), InstanceFaults: spfake.Repeat(5, spfake.Fault{Status: 500,
				Body: `{"code":13,"message":"oops with ` + spfake.DefaultClientSecret + `"}`})},
			wantErr:     []string{`server says "oops with [redacted]"`},
			wantSleeps:  []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second},
			wantAPIcode: 500,
		},
		{
			// Issue 23 item 4: in any form it was sent or could be echoed.
			name: "server echoing the secret base64- and JSON-encoded is redacted",
			cfg: spfake.Config{Instances: running(2), InstanceFaults: spfake.Repeat(5, spfake.Fault{Status: 500,
				Body: `{"code":13,"message":"oops with ` + base64.StdEncoding.EncodeToString([]byte(spfake.DefaultClientSecret)) +
					` and ` + url.QueryEscape(spfake.DefaultClientSecret) + `"}`})},
			wantErr:     []string{`server says "oops with [redacted] and [redacted]"`},
			wantSleeps:  []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second},
			wantAPIcode: 500,
		},
		{
			name:    "missing stack ID",
			cfg:     spfake.Config{},
			stack:   "-",
			wantErr: []string{"stackpath: no stack ID: set SP_STACK_ID"},
		},
		{
			name:     "missing workload ID",
			cfg:      spfake.Config{},
			workload: "-",
			wantErr:  []string{"stackpath: no workload ID: set SCOUTER_WORKLOAD_ID"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			tt.cfg.Now = clk.Now
			fake := spfake.New(tt.cfg)
			defer fake.Close()
			if tt.setup != nil {
				tt.setup(fake, clk)
			}
			secret := cmpOr(tt.secret, spfake.DefaultClientSecret)
			stack := cmpOr(tt.stack, cmpOr(tt.cfg.StackID, spfake.DefaultStackID))
			workload := cmpOr(tt.workload, cmpOr(tt.cfg.WorkloadID, spfake.DefaultWorkloadID))
			if stack == "-" {
				stack = ""
			}
			if workload == "-" {
				workload = ""
			}
			sl := &sleeps{}
			opts := append([]stackpath.Option{stackpath.WithSleep(sl.sleep), stackpath.WithClock(clk.Now)}, tt.opts...)
			c := stackpath.New(fake.URL, spfake.DefaultClientID, secret, opts...)

			got, err := c.Instances(context.Background(), stack, workload)

			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Instances: %v", err)
				}
				want := tt.wantNames
				if want == nil {
					want = fakeNames(tt.cfg.Instances)
				}
				if g := names(got); !reflect.DeepEqual(g, want) && !(len(g) == 0 && len(want) == 0) {
					t.Errorf("instances %v, want %v", g, want)
				}
			} else {
				if err == nil {
					t.Fatalf("Instances succeeded with %d instances; want an error", len(got))
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q\nlacks %q", err, w)
					}
				}
				noSecrets(t, err.Error(), fake, spfake.DefaultClientSecret, wrongSecret)
			}
			if tt.wantAPIcode != 0 {
				var ae *stackpath.APIError
				if !errors.As(err, &ae) || ae.StatusCode != tt.wantAPIcode {
					t.Errorf("error %v: want an *APIError with status %d", err, tt.wantAPIcode)
				}
			}
			if g := sl.got(); !reflect.DeepEqual(g, tt.wantSleeps) {
				t.Errorf("sleeps %v, want %v", g, tt.wantSleeps)
			}
			if tt.wantTokens != 0 && fake.TokenRequests() != tt.wantTokens {
				t.Errorf("token requests %d, want %d", fake.TokenRequests(), tt.wantTokens)
			}
			if tt.wantPages != 0 && fake.PageRequests() != tt.wantPages {
				t.Errorf("instance requests %d, want %d", fake.PageRequests(), tt.wantPages)
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestPagingQuery checks the query the client sends: the page size, then each page's
// endCursor as page_request.after.
func TestPagingQuery(t *testing.T) {
	fake := spfake.New(spfake.Config{Instances: running(5)})
	defer fake.Close()
	c := stackpath.New(fake.URL, spfake.DefaultClientID, spfake.DefaultClientSecret, stackpath.WithPageSize(2))
	if _, err := c.Instances(context.Background(), spfake.DefaultStackID, spfake.DefaultWorkloadID); err != nil {
		t.Fatal(err)
	}
	var pages []spfake.Request
	for _, r := range fake.Requests() {
		if r.Method == http.MethodGet {
			pages = append(pages, r)
		}
	}
	if len(pages) != 3 {
		t.Fatalf("%d page requests, want 3", len(pages))
	}
	for i, p := range pages {
		if p.Query.Get("page_request.first") != "2" {
			t.Errorf("page %d: page_request.first = %q, want 2", i+1, p.Query.Get("page_request.first"))
		}
		after := p.Query.Get("page_request.after")
		if (i == 0) != (after == "") {
			t.Errorf("page %d: page_request.after = %q", i+1, after)
		}
		if p.Status != http.StatusOK {
			t.Errorf("page %d: status %d", i+1, p.Status)
		}
	}
}

// TestTokenRenewal: the token is reused while fresh and renewed ahead of its expiry,
// before the API would refuse it; a token revoked early is replaced after one 401.
func TestTokenRenewal(t *testing.T) {
	clk := newClock()
	fake := spfake.New(spfake.Config{Instances: running(2), TokenTTL: 100 * time.Second, Now: clk.Now})
	defer fake.Close()
	c := stackpath.New(fake.URL, spfake.DefaultClientID, spfake.DefaultClientSecret, stackpath.WithClock(clk.Now))
	list := func() {
		t.Helper()
		if _, err := c.Instances(context.Background(), spfake.DefaultStackID, spfake.DefaultWorkloadID); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		advance    time.Duration
		revoke     bool
		wantTokens int
	}{
		{0, false, 1},
		{50 * time.Second, false, 1},  // fresh: reused
		{39 * time.Second, false, 1},  // 89 s of 100: still before the 10% margin
		{2 * time.Second, false, 2},   // 91 s: renewed ahead of expiry
		{10 * time.Second, false, 2},  // the new token is fresh
		{0, true, 3},                  // revoked: one 401, then a new token
		{200 * time.Second, false, 4}, // long gone: renewed
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		if s.revoke {
			fake.RevokeTokens()
		}
		list()
		if got := fake.TokensIssued(); got != s.wantTokens {
			t.Fatalf("step %d: %d tokens issued, want %d", i, got, s.wantTokens)
		}
	}
	unauthorized := 0
	for _, r := range fake.Requests() {
		if r.Status == http.StatusUnauthorized {
			unauthorized++
		}
	}
	if unauthorized != 1 {
		t.Errorf("%d answers were 401, want exactly 1 (the revoked token); renewal must come before expiry", unauthorized)
	}
}

// TestConcurrentCallersShareOneToken: many goroutines listing at once cause one token
// request, not one each.
func TestConcurrentCallersShareOneToken(t *testing.T) {
	fake := spfake.New(spfake.Config{Instances: running(3)})
	defer fake.Close()
	c := stackpath.New(fake.URL, spfake.DefaultClientID, spfake.DefaultClientSecret)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := c.Instances(context.Background(), spfake.DefaultStackID, spfake.DefaultWorkloadID)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := fake.TokenRequests(); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
}

// TestContextCancelStopsRetries: a cancelled context ends the wait between retries.
func TestContextCancelStopsRetries(t *testing.T) {
	fake := spfake.New(spfake.Config{Instances: running(2), InstanceFaults: spfake.Repeat(5, spfake.Fault{Status: 503})})
	defer fake.Close()
	ctx, cancel := context.WithCancel(context.Background())
	waits := 0
	c := stackpath.New(fake.URL, spfake.DefaultClientID, spfake.DefaultClientSecret,
		stackpath.WithSleep(func(ctx context.Context, _ time.Duration) error {
			waits++
			cancel()
			<-ctx.Done()
			return ctx.Err()
		}))
	_, err := c.Instances(ctx, spfake.DefaultStackID, spfake.DefaultWorkloadID)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if waits != 1 || fake.PageRequests() != 1 {
		t.Errorf("%d waits, %d requests; want 1 and 1", waits, fake.PageRequests())
	}
}

// TestUnreachableAPI: a closed port is retried with backoff, then reported.
func TestUnreachableAPI(t *testing.T) {
	fake := spfake.New(spfake.Config{})
	url := fake.URL
	fake.Close()
	sl := &sleeps{}
	c := stackpath.New(url, spfake.DefaultClientID, spfake.DefaultClientSecret, stackpath.WithSleep(sl.sleep), stackpath.WithMaxAttempts(3))
	_, err := c.Instances(context.Background(), "s", "w")
	if err == nil || !strings.Contains(err.Error(), "stackpath: token request failed after 3 attempts") || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error %v", err)
	}
	if err != nil && strings.Contains(err.Error(), spfake.DefaultClientSecret) {
		t.Errorf("error %q reveals the secret", err)
	}
	if want := []time.Duration{time.Second, 2 * time.Second}; !reflect.DeepEqual(sl.got(), want) {
		t.Errorf("sleeps %v, want %v", sl.got(), want)
	}
}

// TestNotAGateway: a base URL that answers something else (HTML, 200) is reported.
func TestNotAGateway(t *testing.T) {
	fake := spfake.New(spfake.Config{TokenFaults: []spfake.Fault{{Status: 200, Body: "<html>hello</html>"}}})
	defer fake.Close()
	c := stackpath.New(fake.URL, spfake.DefaultClientID, spfake.DefaultClientSecret)
	_, err := c.Instances(context.Background(), "s", "w")
	if err == nil || !strings.Contains(err.Error(), "token request: the answer is not a token") {
		t.Errorf("error %v", err)
	}
	c = stackpath.New(fake.URL+"/nowhere", spfake.DefaultClientID, spfake.DefaultClientSecret)
	_, err = c.Instances(context.Background(), "s", "w")
	if err == nil || !strings.Contains(err.Error(), "token request failed (404") || !strings.Contains(err.Error(), "StackPath API gateway") {
		t.Errorf("error %v", err)
	}
}

func TestNoCredentials(t *testing.T) {
	fake := spfake.New(spfake.Config{})
	defer fake.Close()
	_, err := stackpath.New(fake.URL, "id", "").Instances(context.Background(), "s", "w")
	if err == nil || !strings.Contains(err.Error(), "set SP_API_CLIENT_ID and SP_API_CLIENT_SECRET") {
		t.Errorf("error %v", err)
	}
	if fake.TokenRequests() != 0 {
		t.Errorf("sent %d token requests without credentials", fake.TokenRequests())
	}
}
