package stackpath

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Instance phases (SPEC 5). Only RUNNING instances are probed.
const (
	PhaseRunning    = "RUNNING"
	PhaseScheduling = "SCHEDULING"
	PhaseStarting   = "STARTING"
	PhaseStopped    = "STOPPED"
	PhaseFailed     = "FAILED"
)

// Instance is one instance of a workload, as far as meshtop needs it.
type Instance struct {
	Name                string   `json:"name"`
	Phase               string   `json:"phase"`
	IPAddress           string   `json:"ipAddress"`
	ExternalIPAddress   string   `json:"externalIpAddress"`
	ExternalIPv6Address string   `json:"externalIpv6Address"`
	Location            Location `json:"location"`
}

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

// PageInfo is the pagination block of a list answer.
type PageInfo struct {
	TotalCount      Count  `json:"totalCount"`
	HasPreviousPage bool   `json:"hasPreviousPage"`
	HasNextPage     bool   `json:"hasNextPage"`
	StartCursor     string `json:"startCursor"`
	EndCursor       string `json:"endCursor"`
}

// Count is a count the API may send as a JSON number or, being a gRPC-gateway int64,
// as a string. Known is false when it was absent or null.
type Count struct {
	N     int64
	Known bool
}

// UnmarshalJSON accepts 12, "12" and null.
func (n *Count) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*n = Count{}
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "" {
			*n = Count{}
			return nil
		}
		b = []byte(s)
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || v < 0 {
		return fmt.Errorf("totalCount %q is not a count", b)
	}
	*n = Count{N: v, Known: true}
	return nil
}

type instancesPage struct {
	PageInfo PageInfo   `json:"pageInfo"`
	Results  []Instance `json:"results"`
}

// instancesPath is the list endpoint with each ID escaped as one path segment.
func instancesPath(stackID, workloadID string) string {
	return "/workload/v1/stacks/" + url.PathEscape(stackID) + "/workloads/" + url.PathEscape(workloadID) + "/instances"
}

// Instances lists every instance of a workload, in whatever phase, following the
// pagination to its end.
func (c *Client) Instances(ctx context.Context, stackID, workloadID string) ([]Instance, error) {
	switch {
	case stackID == "":
		return nil, errors.New("stackpath: no stack ID: set SP_STACK_ID")
	case workloadID == "":
		return nil, errors.New("stackpath: no workload ID: set SCOUTER_WORKLOAD_ID")
	}
	op := fmt.Sprintf("list instances of workload %s in stack %s", workloadID, stackID)
	ctx, cancel := c.withDeadline(ctx)
	defer cancel()
	var (
		all        []Instance
		after      string
		seen       = map[string]bool{}
		emptyInRow int
		// known de-duplicates instances: a listing that changes while we page through
		// it can show an instance on two pages, and it must be probed once.
		known  = map[string]bool{}
		served int // instances served, duplicates included
	)
	for page := 1; ; page++ {
		if page > c.maxPages {
			return nil, fmt.Errorf("stackpath: %s: stopped after %d pages (%d instances) because the API keeps announcing a next page; its cursor never ends", op, c.maxPages, served)
		}
		p, err := c.page(ctx, op, stackID, workloadID, after)
		if err != nil {
			return nil, err
		}
		fresh := 0
		for _, in := range p.Results {
			key := instanceKey(in)
			if known[key] {
				continue
			}
			known[key] = true
			all = append(all, in)
			fresh++
		}
		served += len(p.Results)
		info := p.PageInfo
		// More instances than the API says it has: a listing that changed under us can
		// show one twice (de-duplicated above), but a page with nothing new is a cursor
		// that starts over.
		if info.TotalCount.Known && int64(served) > info.TotalCount.N && (fresh == 0 || int64(len(all)) > info.TotalCount.N) {
			return nil, fmt.Errorf("stackpath: %s: page %d brings the count to %d instances, more than the totalCount %d the API gives; its cursor is broken", op, page, served, info.TotalCount.N)
		}
		if !info.HasNextPage {
			return all, nil
		}
		if len(p.Results) == 0 {
			emptyInRow++
			if emptyInRow >= maxEmptyPages {
				return nil, fmt.Errorf("stackpath: %s: %d empty pages in a row (page %d) while the API says there are more; its cursor is broken", op, emptyInRow, page)
			}
		} else {
			emptyInRow = 0
		}
		switch {
		case info.EndCursor == "":
			return nil, fmt.Errorf("stackpath: %s: page %d says there is a next page but gives no endCursor", op, page)
		case info.EndCursor == after || seen[info.EndCursor]:
			return nil, fmt.Errorf("stackpath: %s: page %d repeats the cursor %q of an earlier page; stopping instead of looping", op, page, info.EndCursor)
		}
		seen[info.EndCursor] = true
		after = info.EndCursor
	}
}

// instanceKey identifies an instance: its name (unique in a workload), else its
// addresses.
func instanceKey(in Instance) string {
	if in.Name != "" {
		return "n:" + in.Name
	}
	return "a:" + in.ExternalIPAddress + "|" + in.IPAddress + "|" + in.ExternalIPv6Address
}

// page fetches one page. A 401 gets one more try with a fresh token: a token can be
// revoked or expire early on the API's side.
func (c *Client) page(ctx context.Context, op, stackID, workloadID, after string) (instancesPage, error) {
	q := url.Values{}
	q.Set("page_request.first", strconv.Itoa(c.pageSize))
	if after != "" {
		q.Set("page_request.after", after)
	}
	target := c.baseURL + instancesPath(stackID, workloadID) + "?" + q.Encode()

	var a answer
	for try := 1; ; try++ {
		tok, err := c.token(ctx)
		if err != nil {
			return instancesPage{}, err
		}
		a, err = c.send(ctx, op, func(ctx context.Context) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Accept", "application/json")
			return req, nil
		})
		if err != nil {
			return instancesPage{}, err
		}
		if a.status != http.StatusUnauthorized || try == 2 {
			break
		}
		c.invalidate(tok)
	}

	e := &APIError{StatusCode: a.status, Attempts: a.attempts, Server: c.serverMessage(a.body)}
	switch {
	case a.status == http.StatusOK:
		var p instancesPage
		if err := json.Unmarshal(a.body, &p); err != nil {
			return instancesPage{}, fmt.Errorf("stackpath: %s: the answer is not an instance list (%v)", op, err)
		}
		return p, nil
	case a.status == http.StatusUnauthorized:
		e.What, e.Hint = "token refused when listing instances of workload "+workloadID+" in stack "+stackID, hintCredentials
	case a.status == http.StatusForbidden:
		e.What = "not allowed to list instances of workload " + workloadID + " in stack " + stackID
		e.Hint = "give the API client access to the stack, or " + hintIDs
	case a.status == http.StatusNotFound:
		e.What, e.Hint = "workload "+workloadID+" not found in stack "+stackID, hintIDs
	case a.status == http.StatusTooManyRequests:
		e.What, e.Hint = op+" rate limited", hintRateLimited
	case a.status >= 500:
		e.What, e.Hint = op+" failed", hintRetryLater
	default:
		e.What = op + " refused"
	}
	return instancesPage{}, e
}
