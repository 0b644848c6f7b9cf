package spfake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const pathToken = "/identity/v1/oauth2/token"

// gRPC status codes, as the gateway puts them in error bodies.
const (
	codeInvalidArgument   = 3
	codeNotFound          = 5
	codePermissionDenied  = 7
	codeResourceExhausted = 8
	codeInternal          = 13
	codeUnavailable       = 14
	codeUnauthenticated   = 16
)

// defaultPageSize is what the fake serves when page_request.first is not given.
const defaultPageSize = 10

// writeError writes a gRPC-gateway style error: {"code", "message", "details"}.
func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"code": code, "message": msg, "details": []any{}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client hung up: nothing to do
}

// fault answers the next scripted fault of a queue, if any; s.mu is held.
func (s *Server) fault(w http.ResponseWriter, r *http.Request, queue *[]Fault) bool {
	if len(*queue) == 0 {
		return false
	}
	f := (*queue)[0]
	*queue = (*queue)[1:]
	s.recordLocked(r, f.Status)
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	if f.Body != "" {
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(f.Body))
		return true
	}
	code := codeInternal
	switch {
	case f.Status == http.StatusTooManyRequests:
		code = codeResourceExhausted
	case f.Status == http.StatusServiceUnavailable:
		code = codeUnavailable
	case f.Status == http.StatusUnauthorized:
		code = codeUnauthenticated
	case f.Status == http.StatusForbidden:
		code = codePermissionDenied
	}
	writeError(w, f.Status, code, http.StatusText(f.Status))
	return true
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenReqs++
	fail := func(status, code int, msg string) {
		s.recordLocked(r, status)
		writeError(w, status, code, msg)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		fail(http.StatusMethodNotAllowed, codeInvalidArgument, "method not allowed")
		return
	}
	if s.fault(w, r, &s.cfg.TokenFaults) {
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		fail(http.StatusBadRequest, codeInvalidArgument, "Content-Type must be application/json")
		return
	}
	var body struct {
		GrantType    string `json:"grant_type"`
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		fail(http.StatusBadRequest, codeInvalidArgument, "invalid request body")
		return
	}
	switch {
	case body.GrantType != "client_credentials":
		fail(http.StatusBadRequest, codeInvalidArgument, fmt.Sprintf("unsupported grant_type %q", body.GrantType))
	case body.ClientID == "" || body.ClientSecret == "":
		fail(http.StatusUnauthorized, codeUnauthenticated, "client_id and client_secret are required")
	case body.ClientID != s.cfg.ClientID || body.ClientSecret != s.cfg.ClientSecret:
		// Like the real API: say no, without echoing what was sent.
		fail(http.StatusUnauthorized, codeUnauthenticated, "invalid client credentials")
	default:
		tok := randomHex(24)
		ttl := max(s.cfg.TokenTTL.Round(time.Second), time.Second)
		s.tokens[tok] = s.cfg.Now().Add(ttl)
		s.issued++
		s.issuedTokens = append(s.issuedTokens, tok)
		s.recordLocked(r, http.StatusOK)
		writeJSON(w, http.StatusOK, map[string]any{
			"access_token": tok,
			"token_type":   "bearer",
			"expires_in":   int64(ttl / time.Second),
		})
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails on Linux (crypto/rand documents it panics instead)
	return hex.EncodeToString(b)
}

// authorized checks the bearer token; s.mu is held.
func (s *Server) authorized(r *http.Request) bool {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	exp, known := s.tokens[strings.TrimSpace(tok)]
	return known && s.cfg.Now().Before(exp)
}

// newCursor hands out an opaque cursor that continues at offset; s.mu is held.
func (s *Server) newCursor(offset int) string {
	s.nextID++
	c := fmt.Sprintf("cur-%d-%d", offset, s.nextID)
	s.cursors[c] = offset
	return c
}

// repeatCursor is the one cursor CursorRepeat hands out.
const repeatCursor = "cur-repeat"

// item is an instance with some of the other fields the real API sends, so the client
// is tested against more than it decodes.
type item struct {
	ID          string            `json:"id"`
	StackID     string            `json:"stackId"`
	WorkloadID  string            `json:"workloadId"`
	Message     string            `json:"message"`
	IPv6Address string            `json:"ipv6Address"`
	Metadata    map[string]any    `json:"metadata"`
	Containers  map[string]string `json:"containerStatuses,omitempty"`
	Instance
}

func (s *Server) handleInstances(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageReqs++
	fail := func(status, code int, msg string) {
		s.recordLocked(r, status)
		writeError(w, status, code, msg)
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		fail(http.StatusMethodNotAllowed, codeInvalidArgument, "method not allowed")
		return
	}
	if s.fault(w, r, &s.cfg.InstanceFaults) {
		return
	}
	if !s.authorized(r) {
		fail(http.StatusUnauthorized, codeUnauthenticated, "invalid or expired access token")
		return
	}
	if r.PathValue("stack") != s.cfg.StackID || s.cfg.Forbidden {
		fail(http.StatusForbidden, codePermissionDenied, "permission denied")
		return
	}
	if r.PathValue("workload") != s.cfg.WorkloadID {
		fail(http.StatusNotFound, codeNotFound, "workload not found")
		return
	}
	q := r.URL.Query()
	first := defaultPageSize
	if v := q.Get("page_request.first"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fail(http.StatusBadRequest, codeInvalidArgument, fmt.Sprintf("invalid page_request.first %q", v))
			return
		}
		first = min(n, s.cfg.MaxPageSize)
	}
	offset := 0
	if after := q.Get("page_request.after"); after != "" {
		o, ok := s.cursors[after]
		if !ok {
			fail(http.StatusBadRequest, codeInvalidArgument, "invalid page_request.after cursor")
			return
		}
		offset = o
	}

	all := s.cfg.Instances
	var (
		results []Instance
		hasNext bool
		end     string
	)
	switch {
	case s.emptyLeft > 0:
		s.emptyLeft--
		hasNext, end = true, s.newCursor(offset)
	case s.cfg.Cursor == CursorRepeat:
		results = all[:min(first, len(all))]
		s.cursors[repeatCursor] = 0
		hasNext, end = true, repeatCursor
	case s.cfg.Cursor == CursorEndless:
		results = all[:min(first, len(all))]
		hasNext, end = true, s.newCursor(0)
	default:
		offset = min(offset, len(all))
		stop := min(offset+first, len(all))
		results = all[offset:stop]
		hasNext = stop < len(all)
		if len(results) > 0 || hasNext {
			end = s.newCursor(stop)
		}
	}

	items := make([]item, 0, len(results))
	for i, in := range results {
		items = append(items, item{
			ID:         fmt.Sprintf("00000000-0000-4000-8000-%012d", offset+i),
			StackID:    s.cfg.StackID,
			WorkloadID: s.cfg.WorkloadID,
			Metadata:   map[string]any{"labels": map[string]string{"app": "scouter"}, "version": "1"},
			Instance:   in,
		})
	}
	info := map[string]any{
		"hasPreviousPage": offset > 0,
		"hasNextPage":     hasNext,
		"startCursor":     "",
		"endCursor":       end,
	}
	switch {
	case s.cfg.HideTotalCount:
	case s.cfg.NumericTotalCount:
		info["totalCount"] = len(all)
	default:
		info["totalCount"] = strconv.Itoa(len(all)) // gRPC-gateway sends int64 as a string
	}
	s.served++
	s.recordLocked(r, http.StatusOK)
	writeJSON(w, http.StatusOK, map[string]any{"pageInfo": info, "results": items})
}
