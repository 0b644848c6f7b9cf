package agent

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

const testSecret = "s3cret-for-tests"

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 && os.Getenv("CI") == "" {
		t.Skip("needs root for raw ICMP sockets (runs under CI=true)")
	}
}

// startAgent runs an agent as a real HTTP server on a loopback port.
func startAgent(t *testing.T, mod func(*Config)) (*Agent, string) {
	t.Helper()
	cfg := Config{
		Secret: testSecret, ProbeInterval: time.Millisecond, ReplyWait: time.Second,
		HopTimeout: time.Second, RDNS: false,
	}
	if mod != nil {
		mod(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(a)
	t.Cleanup(func() {
		ts.Close()
		_ = a.Close()
	})
	return a, ts.URL
}

type answer struct {
	code  int
	ctype string
	body  []byte
}

func call(t *testing.T, method, url, secret, body string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" {
		req.Header.Set("Authorization", secret)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
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
	return answer{resp.StatusCode, resp.Header.Get("Content-Type"), b}
}

func postTests(t *testing.T, base, body string) string {
	t.Helper()
	a := call(t, http.MethodPost, base+"/api/v1.0/tests", testSecret, body)
	if a.code != http.StatusOK {
		t.Fatalf("POST %s: %d %s", body, a.code, a.body)
	}
	var r struct{ Receipt string }
	if err := json.Unmarshal(a.body, &r); err != nil || len(r.Receipt) != 32 {
		t.Fatalf("POST answer %s: no 32-character receipt", a.body)
	}
	return r.Receipt
}

// waitDone polls a receipt until its tests are done and returns the final answer. The
// bound only keeps a broken agent from hanging the test; it is not a speed assertion.
func waitDone(t *testing.T, base, receipt string) []byte {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		a := call(t, http.MethodGet, base+"/api/v1.0/tests?receipt="+receipt, testSecret, "")
		if a.code != http.StatusOK {
			t.Fatalf("GET receipt: %d %s", a.code, a.body)
		}
		var st struct {
			IsRunning *bool `json:"is_running"`
		}
		if err := json.Unmarshal(a.body, &st); err != nil {
			t.Fatalf("GET receipt answer is not JSON: %s", a.body)
		}
		if st.IsRunning != nil && !*st.IsRunning {
			return a.body
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("tests did not finish within 60 s")
	return nil
}

// shape flattens a JSON document into path -> JSON value type ("int", "float", "string",
// "bool", "null", "object", "array"; array items share the path "x[]", several types are
// joined with "|"). unsorted lists the objects whose keys are not in sorted order.
func shape(t *testing.T, raw []byte) (types map[string]string, unsorted []string) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	sets := map[string]map[string]bool{}
	add := func(path, typ string) {
		if sets[path] == nil {
			sets[path] = map[string]bool{}
		}
		sets[path][typ] = true
	}
	var walk func(path string)
	walk = func(path string) {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("shape of %s: %v", raw, err)
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' {
				add(path, "object")
				var keys []string
				for dec.More() {
					k, _ := dec.Token()
					keys = append(keys, k.(string))
					walk(path + "." + k.(string))
				}
				_, _ = dec.Token()
				if !sort.StringsAreSorted(keys) {
					unsorted = append(unsorted, path)
				}
				return
			}
			add(path, "array")
			for dec.More() {
				walk(path + "[]")
			}
			_, _ = dec.Token()
		case json.Number:
			if strings.ContainsAny(v.String(), ".eE") {
				add(path, "float")
			} else {
				add(path, "int")
			}
		case string:
			add(path, "string")
		case bool:
			add(path, "bool")
		case nil:
			add(path, "null")
		}
	}
	walk("$")
	types = map[string]string{}
	for p, s := range sets {
		var ts []string
		for k := range s {
			ts = append(ts, k)
		}
		slices.Sort(ts)
		types[p] = strings.Join(ts, "|")
	}
	return types, unsorted
}

func readUpstream(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "upstream", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameShape compares our answer with a recorded upstream answer: the same paths with the
// same value types, and sorted keys. known lists deliberate differences (path -> our
// type); extra lists paths only we have.
func sameShape(t *testing.T, name string, got []byte, known map[string]string, extra ...string) {
	t.Helper()
	want, _ := shape(t, readUpstream(t, name))
	have, unsorted := shape(t, got)
	if len(unsorted) > 0 {
		t.Errorf("%s: keys not sorted in %v: %s", name, unsorted, got)
	}
	for p, wt := range want {
		if k, ok := known[p]; ok {
			wt = k
		}
		if have[p] != wt {
			t.Errorf("%s: %s is %q, upstream %q\nours: %s", name, p, have[p], wt, got)
		}
	}
	for p := range have {
		if _, ok := want[p]; !ok && !slices.ContainsFunc(extra, func(e string) bool { return p == e || strings.HasPrefix(p, e+".") || strings.HasPrefix(p, e+"[]") }) {
			t.Errorf("%s: we have %s, upstream does not\nours: %s", name, p, got)
		}
	}
}

// writeASNDB builds a tiny GeoLite2-ASN-style mmdb: prefix -> ASN.
func writeASNDB(t *testing.T, nets map[string]uint32) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-ASN", RecordSize: 24, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, asn := range nets {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(n, mmdbtype.Map{
			"autonomous_system_number":       mmdbtype.Uint32(asn),
			"autonomous_system_organization": mmdbtype.String("meshtop test AS"),
		}); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "asn.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
