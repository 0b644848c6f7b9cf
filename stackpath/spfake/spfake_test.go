package spfake

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func do(t *testing.T, method, url, contentType, auth, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s %s: answer %q is not JSON: %v", method, url, b, err)
	}
	return resp.StatusCode, v
}

const goodBody = `{"grant_type":"client_credentials","client_id":"` + DefaultClientID + `","client_secret":"` + DefaultClientSecret + `"}`

// TestTokenEndpoint checks the fake refuses what the real API refuses.
func TestTokenEndpoint(t *testing.T) {
	s := New(Config{TokenTTL: 90 * time.Second})
	defer s.Close()
	url := s.URL + pathToken
	tests := []struct {
		name, method, ctype, body string
		want                      int
	}{
		{"ok", "POST", "application/json", goodBody, 200},
		{"ok with charset", "POST", "application/json; charset=utf-8", goodBody, 200},
		{"GET", "GET", "", "", 405},
		{"form encoded", "POST", "application/x-www-form-urlencoded", "grant_type=client_credentials", 400},
		{"not JSON", "POST", "application/json", "{", 400},
		{"unknown field", "POST", "application/json", `{"grant_type":"client_credentials","client_id":"a","client_secret":"b","scope":"x"}`, 400},
		{"wrong grant", "POST", "application/json", `{"grant_type":"password","client_id":"` + DefaultClientID + `","client_secret":"` + DefaultClientSecret + `"}`, 400},
		{"no secret", "POST", "application/json", `{"grant_type":"client_credentials","client_id":"` + DefaultClientID + `"}`, 401},
		{"wrong secret", "POST", "application/json", `{"grant_type":"client_credentials","client_id":"` + DefaultClientID + `","client_secret":"nope"}`, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, v := do(t, tt.method, url, tt.ctype, "", tt.body)
			if status != tt.want {
				t.Fatalf("status %d, want %d (%v)", status, tt.want, v)
			}
			if status == 200 {
				if v["token_type"] != "bearer" || v["expires_in"] != 90.0 || len(v["access_token"].(string)) != 48 {
					t.Errorf("token answer %v", v)
				}
			} else if _, ok := v["message"].(string); !ok {
				t.Errorf("error answer %v has no message", v)
			}
			if strings.Contains(strings.ToLower(toJSON(v)), "nope") {
				t.Errorf("the fake echoes what was sent: %v", v)
			}
		})
	}
	if s.TokenRequests() != len(tests) || s.TokensIssued() != 2 {
		t.Errorf("counted %d requests, %d tokens", s.TokenRequests(), s.TokensIssued())
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestInstancesEndpoint checks bearer validation, routing, paging and expiry.
func TestInstancesEndpoint(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := New(Config{
		TokenTTL:  time.Minute,
		Now:       func() time.Time { return now },
		Instances: []Instance{{Name: "a", Phase: "RUNNING"}, {Name: "b", Phase: "STOPPED"}, {Name: "c", Phase: "RUNNING"}},
	})
	defer s.Close()
	_, tok := do(t, "POST", s.URL+pathToken, "application/json", "", goodBody)
	bearer := "Bearer " + tok["access_token"].(string)
	base := s.URL + "/workload/v1/stacks/" + DefaultStackID + "/workloads/" + DefaultWorkloadID + "/instances"

	status, v := do(t, "GET", base+"?page_request.first=2", "", bearer, "")
	if status != 200 {
		t.Fatalf("first page: %d %v", status, v)
	}
	info := v["pageInfo"].(map[string]any)
	if info["totalCount"] != "3" || info["hasNextPage"] != true || len(v["results"].([]any)) != 2 {
		t.Fatalf("first page %v", v)
	}
	cursor := info["endCursor"].(string)
	status, v = do(t, "GET", base+"?page_request.first=2&page_request.after="+cursor, "", "bearer "+tok["access_token"].(string), "")
	info = v["pageInfo"].(map[string]any)
	if status != 200 || info["hasNextPage"] != false || len(v["results"].([]any)) != 1 ||
		v["results"].([]any)[0].(map[string]any)["name"] != "c" {
		t.Fatalf("second page: %d %v", status, v)
	}

	tests := []struct {
		name, url, auth string
		want            int
	}{
		{"no auth", base, "", 401},
		{"raw token without scheme", base, tok["access_token"].(string), 401},
		{"unknown token", base, "Bearer 00ff", 401},
		{"other stack", strings.Replace(base, DefaultStackID, "other", 1), bearer, 403},
		{"other workload", strings.Replace(base, DefaultWorkloadID, "other", 1), bearer, 404},
		{"bad first", base + "?page_request.first=x", bearer, 400},
		{"zero first", base + "?page_request.first=0", bearer, 400},
		{"unknown cursor", base + "?page_request.after=forged", bearer, 400},
		{"unknown path", s.URL + "/workload/v1/stacks", bearer, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if status, v := do(t, "GET", tt.url, "", tt.auth, ""); status != tt.want {
				t.Errorf("status %d, want %d (%v)", status, tt.want, v)
			}
		})
	}
	if status, _ := do(t, "POST", base, "", bearer, ""); status != 405 {
		t.Errorf("POST instances: %d, want 405", status)
	}

	now = now.Add(time.Minute) // the token expires
	if status, _ := do(t, "GET", base, "", bearer, ""); status != 401 {
		t.Errorf("expired token: %d, want 401", status)
	}
	if s.PagesServed() != 2 {
		t.Errorf("pages served %d, want 2", s.PagesServed())
	}
}

// TestFaultsAndSetInstances: scripted faults come first and in order, with their
// headers; SetInstances changes what the next page shows.
func TestFaultsAndSetInstances(t *testing.T) {
	s := New(Config{InstanceFaults: []Fault{{Status: 429, RetryAfter: "2"}, {Status: 503}}})
	defer s.Close()
	_, tok := do(t, "POST", s.URL+pathToken, "application/json", "", goodBody)
	bearer := "Bearer " + tok["access_token"].(string)
	base := s.URL + "/workload/v1/stacks/" + DefaultStackID + "/workloads/" + DefaultWorkloadID + "/instances"

	req, _ := http.NewRequest("GET", base, nil)
	req.Header.Set("Authorization", bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("first answer %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if status, _ := do(t, "GET", base, "", bearer, ""); status != 503 {
		t.Errorf("second answer %d, want 503", status)
	}
	s.SetInstances([]Instance{{Name: "x", Phase: "RUNNING"}})
	status, v := do(t, "GET", base, "", bearer, "")
	if status != 200 || len(v["results"].([]any)) != 1 {
		t.Errorf("third answer %d %v", status, v)
	}
	if s.PageRequests() != 3 || s.PagesServed() != 1 || len(s.Requests()) != 4 {
		t.Errorf("counters: %d requests, %d served, %d logged", s.PageRequests(), s.PagesServed(), len(s.Requests()))
	}
}
