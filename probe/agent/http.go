package agent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/meshtop/meshtop/internal/textsafe"
	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/probe/agent/netprobe"
)

// ServeHTTP answers the Scouter API v1.0. Like upstream's before_request hook, the
// secret is checked before routing, so every path answers 403 without it.
func (a *Agent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.total.Add(1)
	if !a.authorized(r) {
		writeHTML(w, http.StatusForbidden, forbiddenPage)
		return
	}
	switch r.URL.Path {
	case probe.PathStatus:
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, "GET, HEAD, OPTIONS")
			return
		}
		a.status(w)
	case probe.PathTests:
		switch r.Method {
		case http.MethodPost:
			a.post(w, r)
		case http.MethodGet, http.MethodHead:
			a.get(w, r)
		case http.MethodDelete:
			a.delete(w, r)
		default:
			methodNotAllowed(w, "DELETE, GET, HEAD, OPTIONS, POST")
		}
	default:
		writeHTML(w, http.StatusNotFound, notFoundPage)
	}
}

// authorized compares the raw Authorization header with the secret in constant time
// (hashing both first, so not even the secret's length leaks).
func (a *Agent) authorized(r *http.Request) bool {
	if a.cfg.InsecureNoAuth && a.cfg.Secret == "" {
		return true
	}
	got, ok := r.Header["Authorization"]
	if !ok || len(got) == 0 {
		return false
	}
	h := sha256.Sum256([]byte(got[0]))
	return subtle.ConstantTimeCompare(h[:], a.secretHash[:]) == 1
}

func (a *Agent) status(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, statusOut{
		Labels:          a.cfg.Labels,
		Pop:             a.cfg.Pop,
		MaxProcessCount: a.cfg.MaxProcs,
		MaxTestCount:    a.cfg.MaxTests,
		PingMethod:      string(a.engine.Method()),
		TotalRequests:   a.total.Load(),
		Traceroute:      a.engine.Method() == netprobe.MethodRaw,
		WorkerStatus:    a.pool.status(a.pid),
	})
}

func (a *Agent) post(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes))
	dec.UseNumber()
	var payload any
	err := dec.Decode(&payload)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("Extra data")
			var mbe *http.MaxBytesError
			if errors.As(terr, &mbe) {
				err = terr
			}
		}
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeHTML(w, http.StatusRequestEntityTooLarge, tooLargePage)
			return
		}
		writeHTML(w, http.StatusBadRequest, badJSONPage(err))
		return
	}
	client := clientOf(r)
	tasks, code, msg := a.tasks(payload, client)
	if msg != "" {
		writeJSON(w, code, probe.ErrorBody{Error: msg})
		return
	}
	if a.receipts.running("") >= a.cfg.MaxRunning {
		writeJSON(w, http.StatusServiceUnavailable, probe.ErrorBody{Error: fmt.Sprintf(
			"The agent is busy: %d receipts are still running. Try again later.", a.cfg.MaxRunning)})
		return
	}
	// One client (source address) may hold at most its share of the running receipts,
	// so that another can still post while it keeps the agent busy.
	if share := a.clientShare(); a.receipts.running(client) >= share {
		writeJSON(w, http.StatusServiceUnavailable, probe.ErrorBody{Error: fmt.Sprintf(
			"The agent is busy: this client already runs %d receipts, its share. Try again later.", share)})
		return
	}
	ctx, cancel := context.WithCancel(a.ctx)
	// What the receipt holds while it runs counts against the stored answers' budget:
	// its echoed types and its bookkeeping. (Its decoded request is bounded apart: at
	// most MaxRunning receipts of MaxBodyBytes each.)
	rc := &receipt{id: randHex(16), cancel: cancel, client: client, cost: receiptOverhead}
	// Like upstream, results list the types that have tests (a type with an empty list
	// does not show).
	seen := map[string]bool{}
	for _, t := range tasks {
		if !seen[t.echo] {
			seen[t.echo] = true
			rc.types = append(rc.types, t.echo)
			rc.cost += int64(len(t.echo))
		}
	}
	if err := a.receipts.add(rc); err != nil {
		cancel()
		what := fmt.Sprintf("The agent holds %d receipts that are still running. Try again later.", a.cfg.MaxReceipts)
		if errors.Is(err, errStoreBytes) {
			what = "The agent's memory for receipts is in use by running tests. Try again later."
		}
		writeJSON(w, http.StatusServiceUnavailable, probe.ErrorBody{Error: what})
		return
	}
	a.start(ctx, rc, tasks)
	writeJSON(w, http.StatusOK, probe.Receipt{Receipt: rc.id})
}

// clientShare is how many running receipts one client may hold: half the agent's
// maximum (at least one).
func (a *Agent) clientShare() int { return max(a.cfg.MaxRunning/2, 1) }

// clientOf is a request's client for fair sharing: its source address.
func clientOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// receiptOverhead is a running receipt's bookkeeping, counted with its types.
const receiptOverhead = 256

// maxTypeEcho bounds a test type as the answer echoes it (upstream echoes whatever it
// was sent, as a key of results).
const maxTypeEcho = 32

// echoType is a test type as the answer lists it: cleaned of control characters and
// bounded; one that cleaning turned into a known type's name is marked, so that its
// "does not exist" entries never read as that type's results.
func echoType(typ string) string {
	e := textsafe.String(typ, maxTypeEcho)
	if e != typ && (e == probe.TypePing || e == probe.TypeTraceroute) {
		e += "?"
	}
	return e
}

// tasks checks the shape of a POST body: an object mapping test types to lists of
// option objects. Upstream answers 500 (or never finishes) on other shapes; meshtop
// answers 400 with upstream's "Valid request payload not found.".
func (a *Agent) tasks(payload any, client string) ([]task, int, string) {
	m, ok := payload.(map[string]any)
	if !ok {
		return nil, http.StatusBadRequest, probe.ErrBadPayload
	}
	n := 0
	for _, v := range m {
		list, ok := v.([]any)
		if !ok {
			return nil, http.StatusBadRequest, probe.ErrBadPayload
		}
		n += len(list)
	}
	if n > a.cfg.MaxTests {
		return nil, http.StatusBadRequest, fmt.Sprintf(probe.ErrTooManyTestsFmt, a.cfg.MaxTests)
	}
	var tasks []task
	for typ, v := range m {
		for _, o := range v.([]any) {
			opts, ok := o.(map[string]any)
			if !ok {
				return nil, http.StatusBadRequest, probe.ErrBadPayload
			}
			tasks = append(tasks, task{typ: typ, echo: echoType(typ), opts: lowerKeys(opts), client: client})
		}
	}
	return tasks, 0, ""
}

// lowerKeys lower-cases option names as upstream does; an exact lower-case key wins
// over a differently cased duplicate.
func lowerKeys(opts map[string]any) map[string]any {
	out := make(map[string]any, len(opts))
	for k, v := range opts {
		lk := strings.ToLower(k)
		if _, dup := out[lk]; dup && k != lk {
			continue
		}
		out[lk] = v
	}
	return out
}

func (a *Agent) get(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if _, ok := q["receipt"]; !ok {
		writeJSON(w, http.StatusBadRequest, probe.ErrorBody{Error: probe.ErrReceiptMissing})
		return
	}
	id := q.Get("receipt")
	if id == "" {
		writeJSON(w, http.StatusBadRequest, probe.ErrorBody{Error: probe.ErrReceiptEmpty})
		return
	}
	types, body, ok := a.receipts.get(id)
	if !ok {
		writeJSON(w, http.StatusNotFound, probe.ErrorBody{Error: probe.ErrReceiptNotFound})
		return
	}
	if body == nil {
		results := map[string][]entryOut{}
		for _, t := range types {
			results[t] = []entryOut{}
		}
		writeJSON(w, http.StatusOK, testsOut{IsRunning: true, Receipt: id, Results: results})
		return
	}
	writeRaw(w, http.StatusOK, body)
}

// delete removes a receipt. Like upstream, an empty receipt value is simply not found.
func (a *Agent) delete(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if _, ok := q["receipt"]; !ok {
		writeJSON(w, http.StatusBadRequest, probe.ErrorBody{Error: probe.ErrReceiptMissing})
		return
	}
	if !a.receipts.remove(q.Get("receipt")) {
		writeJSON(w, http.StatusNotFound, probe.ErrorBody{Error: probe.ErrReceiptNotFound})
		return
	}
	writeJSON(w, http.StatusOK, probe.MessageBody{Message: probe.MsgReceiptDeleted})
}

func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := encodeJSON(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"encode answer"}`+"\n")
	}
	writeRaw(w, code, b)
}

func writeRaw(w http.ResponseWriter, code int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

func writeHTML(w http.ResponseWriter, code int, page string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, page)
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeHTML(w, http.StatusMethodNotAllowed, methodNotAllowedPage)
}
