// Package spfake is a local fake of the StackPath API parts meshtop uses (SPEC 5): the
// OAuth2 token endpoint and the paginated instance list of one workload. It is a real
// HTTP server (httptest) that checks credentials, bearer tokens, methods and request
// bodies the way the real API does, and can be told to misbehave: refuse, rate-limit,
// fail, hand out short-lived tokens, or paginate badly.
//
// It does not import the client: its wire types are written from the SPEC on their
// own, so a decoding mistake in the client shows up in the client's tests.
package spfake

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"
)

// Defaults of Config.
const (
	DefaultClientID     = "fake-client-id"
	DefaultClientSecret = "fake-client-secret-0123456789"
	DefaultStackID      = "fake-stack"
	DefaultWorkloadID   = "fake-workload"
	DefaultTokenTTL     = time.Hour
	DefaultMaxPageSize  = 100
)

// Location is where an instance runs.
type Location struct {
	CityCode      string  `json:"cityCode"`
	Name          string  `json:"name"`
	CountryCode   string  `json:"countryCode"`
	ContinentCode string  `json:"continentCode"`
	RegionCode    string  `json:"regionCode"`
	Latitude      float64 `json:"latitude"`
	Longitude     float64 `json:"longitude"`
}

// Instance is a workload instance as the API lists it (the fields SPEC 5 names).
type Instance struct {
	Name                string   `json:"name"`
	Phase               string   `json:"phase"`
	IPAddress           string   `json:"ipAddress"`
	ExternalIPAddress   string   `json:"externalIpAddress"`
	ExternalIPv6Address string   `json:"externalIpv6Address"`
	Location            Location `json:"location"`
}

// Fault is a scripted answer given instead of the normal one.
type Fault struct {
	Status     int    // HTTP status, e.g. 429, 500, 503
	RetryAfter string // Retry-After header value, if any: "3" or an HTTP date
	Body       string // body; default a gRPC-gateway style JSON error
}

// Repeat returns n copies of f, for Config.TokenFaults and Config.InstanceFaults.
func Repeat(n int, f Fault) []Fault {
	out := make([]Fault, n)
	for i := range out {
		out[i] = f
	}
	return out
}

// CursorMode selects how pagination behaves.
type CursorMode int

// Cursor modes.
const (
	// CursorNormal pages through the instances and ends.
	CursorNormal CursorMode = iota
	// CursorRepeat always says there is a next page and always hands out the same
	// endCursor (serving the first page again).
	CursorRepeat
	// CursorEndless always says there is a next page, with a fresh endCursor each time,
	// serving the first page again and again.
	CursorEndless
)

// Config shapes a fake. Zero values take the defaults above.
type Config struct {
	ClientID     string // accepted credentials
	ClientSecret string
	StackID      string // the one stack the client may read; others answer 403
	WorkloadID   string // the one workload in it; others answer 404

	Instances []Instance
	TokenTTL  time.Duration    // expires_in of issued tokens (whole seconds, at least 1)
	Now       func() time.Time // clock for token expiry; default time.Now

	MaxPageSize int // page_request.first above this is clamped

	// TokenFaults and InstanceFaults are answered, in order, before normal answers
	// resume: e.g. Repeat(2, Fault{Status: 429, RetryAfter: "3"}).
	TokenFaults    []Fault
	InstanceFaults []Fault

	Forbidden bool // 403 on the instance list even for the right stack

	Cursor            CursorMode
	EmptyPages        int  // this many empty pages claiming a next page come before the data
	NumericTotalCount bool // totalCount as a JSON number instead of a gRPC-gateway string
	HideTotalCount    bool // leave totalCount out
}

// Request is one request the fake answered.
type Request struct {
	Method string
	Path   string // unescaped
	Query  url.Values
	Status int
}

// Server is a running fake.
type Server struct {
	URL string // base URL to give the client

	srv *httptest.Server

	mu        sync.Mutex
	cfg       Config
	tokens    map[string]time.Time // issued token -> expiry
	cursors   map[string]int       // handed-out endCursor -> offset it continues at
	nextID    int
	emptyLeft int
	log       []Request
	tokenReqs int
	issued    int
	// issuedTokens outlives RevokeTokens, unlike tokens.
	issuedTokens []string
	pageReqs     int
	served       int
}

// New starts a fake; Close it when done.
func New(cfg Config) *Server {
	if cfg.ClientID == "" {
		cfg.ClientID = DefaultClientID
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = DefaultClientSecret
	}
	if cfg.StackID == "" {
		cfg.StackID = DefaultStackID
	}
	if cfg.WorkloadID == "" {
		cfg.WorkloadID = DefaultWorkloadID
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxPageSize <= 0 {
		cfg.MaxPageSize = DefaultMaxPageSize
	}
	cfg.Instances = append([]Instance(nil), cfg.Instances...)
	cfg.TokenFaults = append([]Fault(nil), cfg.TokenFaults...)
	cfg.InstanceFaults = append([]Fault(nil), cfg.InstanceFaults...)
	s := &Server{
		cfg:       cfg,
		tokens:    map[string]time.Time{},
		cursors:   map[string]int{},
		emptyLeft: cfg.EmptyPages,
	}
	mux := http.NewServeMux()
	mux.HandleFunc(pathToken, s.handleToken)
	mux.HandleFunc("/workload/v1/stacks/{stack}/workloads/{workload}/instances", s.handleInstances)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.record(r, http.StatusNotFound)
		writeError(w, http.StatusNotFound, codeNotFound, "no route for "+r.URL.Path)
	})
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// SetInstances replaces the workload's instances (cursors handed out before stay valid
// as offsets).
func (s *Server) SetInstances(is []Instance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.Instances = append([]Instance(nil), is...)
}

// AddTokenFaults queues more scripted answers of the token endpoint.
func (s *Server) AddTokenFaults(f ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.TokenFaults = append(s.cfg.TokenFaults, f...)
}

// AddInstanceFaults queues more scripted answers of the instance list.
func (s *Server) AddInstanceFaults(f ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.InstanceFaults = append(s.cfg.InstanceFaults, f...)
}

// RevokeTokens invalidates every token issued so far (the API then answers 401).
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// TokenRequests counts requests to the token endpoint, refused ones included.
func (s *Server) TokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenReqs
}

// TokensIssued counts tokens handed out.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// PageRequests counts requests to the instance list, refused ones included.
func (s *Server) PageRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pageReqs
}

// PagesServed counts instance pages answered with 200.
func (s *Server) PagesServed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.served
}

// IssuedTokens returns every token handed out so far (valid or not), so tests can
// check that none of them leaks into an error.
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issuedTokens...)
}

// Requests returns every request answered so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// recordLocked logs a request; s.mu is held.
func (s *Server) recordLocked(r *http.Request, status int) {
	s.log = append(s.log, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Status: status})
}

func (s *Server) record(r *http.Request, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordLocked(r, status)
}
