package influx

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

// repeated builds an answer of about size bytes: head, elem repeated, tail.
func repeated(size int, head, elem, tail string) []byte {
	var b bytes.Buffer
	b.WriteString(head)
	for n := 0; b.Len() < size-len(tail)-len(elem)-1; n++ {
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteString(elem)
	}
	b.WriteString(tail)
	return b.Bytes()
}

// hostileInflux answers every /query with answer, as InfluxDB 1.x would (its version
// header, JSON); SHOW statements too unless showHonest.
func hostileInflux(t *testing.T, answer []byte, showHonest ...bool) *Reader {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Influxdb-Version", "1.6.7")
		w.Header().Set("Content-Type", "application/json")
		if len(showHonest) > 0 && showHonest[0] && strings.HasPrefix(r.FormValue("q"), "SHOW") {
			_, _ = w.Write([]byte(`{"results":[{"statement_id":0}]}`))
			return
		}
		_, _ = w.Write(answer)
	}))
	t.Cleanup(srv.Close)
	r, err := NewReader(Config{URL: srv.URL}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestHostileQueryAnswers: issue 23 item 6. A 5 MiB answer of empty rows cost 682 MB,
// 20 MiB OOM-killed at 3 GiB. Each shape is now refused before decoding with what it
// held, and reading it allocates little beyond its bytes.
func TestHostileQueryAnswers(t *testing.T) {
	row := `["2026-01-01T00:00:00Z",1,1,1,1,1,1,1,1]`
	for _, tt := range []struct {
		name       string
		answer     []byte
		read       func(*Reader) error
		want       string
		showHonest bool
	}{
		{"5 MiB of empty rows", repeated(5<<20, `{"results":[{"statement_id":0,"series":[{"name":"ping","columns":["key","value"],"values":[`, `[]`, `]}]}]}`),
			rawSelect, "rows that do not match their 2 columns", false},
		{"5 MiB of rows for a SHOW", repeated(5<<20, `{"results":[{"statement_id":0,"series":[{"name":"ping","columns":["key","value"],"values":[`, `["src_pop","x"]`, `]}]}]}`),
			pops, "more than 100000 rows, the most the query can return", false},
		{"5 MiB of empty series", repeated(5<<20, `{"results":[{"statement_id":0,"series":[`, `{}`, `]}]}`),
			rawSelect, "series without columns", false},
		{"5 MiB of empty results", repeated(5<<20, `{"results":[`, `{}`, `]}`),
			rawSelect, "more than 1 results for 1 statements", false},
		{"5 MiB of empty messages", repeated(5<<20, `{"results":[{"statement_id":0,"messages":[`, `{}`, `]}]}`),
			rawSelect, "more than 64 messages", false},
		{"nested values", repeated(5<<20, `{"results":[{"statement_id":0,"series":[{"name":"ping","columns":["key","value"],"values":[["a",[`, `[]`, `]]]}]}]}`),
			rawSelect, "a list or an object as a value", false},
		{"a row of 5 MiB", repeated(5<<20, `{"results":[{"statement_id":0,"series":[{"name":"ping","columns":["key","value"],"values":[[`, `0`, `]]}]}]}`),
			rawSelect, "a row of more than 256 values", false},
		{"20 MiB of small rows", repeated(20<<20, `{"results":[{"statement_id":0,"series":[{"name":"ping","columns":["v"],"values":[`, `[0]`, `]}]}]}`),
			rawSelect, "decoded it would take over 128 MiB", false},
		{"a grid read of 5 MiB of small rows", repeated(5<<20, `{"results":[{"statement_id":0,"series":[{"name":"ping","tags":{"src_pop":"a","dst_pop":"b"},"columns":["v"],"values":[`, `[0]`, `]}]}]}`),
			// (the first request of a grid read is its newest tests: at most 64 a pair)
			func(r *Reader) error { _, err := r.Matrix(context.Background()); return err }, "rows in one series", true},
		{"more buckets than the window holds", repeated(64<<10, `{"results":[{"statement_id":0,"series":[{"name":"ping","columns":["time","min_avg","avg_rtt","max_avg","jm","jp","loss","n","good"],"values":[`, row, `]}]}]}`),
			func(r *Reader) error { _, err := r.PairBuckets(t.Context(), "ams", "fra", 60); return err }, "more than 62 rows, the most the query can return", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := hostileInflux(t, tt.answer, tt.showHonest)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			err := tt.read(r)
			runtime.ReadMemStats(&after)
			var ae *AnswerError
			if !errors.As(err, &ae) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want an AnswerError with %q", err, tt.want)
			}
			// Its bytes, read in chunks into a growing buffer: about twice their size,
			// for each of the ~10 statements of a grid read. Decoded, 5 MiB cost 682 MB.
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d KiB answer: %v; allocated %d KiB", len(tt.answer)>>10, err, alloc>>10)
			if alloc > uint64(20*len(tt.answer))+16<<20 {
				t.Errorf("reading a %d KiB answer allocated %d MiB", len(tt.answer)>>10, alloc>>20)
			}
			if decodeBudget.Held() != 0 {
				t.Errorf("%d bytes of the budget still held", decodeBudget.Held())
			}
		})
	}
}

func pops(r *Reader) error { _, err := r.Pops(context.Background()); return err }

// rawSelect reads raw rows: a statement whose answer only its size bounds.
func rawSelect(r *Reader) error {
	_, err := r.c.query(context.Background(), `SELECT "avg_rtt_ms" FROM "ping" WHERE time > now() - 1h`)
	return err
}

func TestStatements(t *testing.T) {
	for q, want := range map[string]int{
		`SELECT 1`:                          1,
		`SELECT 1; SELECT 2`:                2,
		`SELECT 1; SELECT 2;`:               2,
		`SELECT "a;b" FROM x WHERE y = ';'`: 1,
		`SELECT 'it\'s;'; SELECT 2`:         2,
	} {
		if got := statements(q); got != want {
			t.Errorf("statements(%q) = %d, want %d", q, got, want)
		}
	}
}

func TestDecodeBudget(t *testing.T) {
	old := decodeBudget.Limit
	decodeBudget.Limit = 1 << 20
	t.Cleanup(func() { decodeBudget.Limit = old })
	r := hostileInflux(t, repeated(2<<20, `{"results":[{"statement_id":0,"series":[{"name":"ping","columns":["key","value"],"values":[`, `["src_pop","ams"]`, `]}]}]}`))
	if err := pops(r); err == nil || !strings.Contains(err.Error(), "in use by other answers") {
		t.Fatalf("error %v", err)
	}
	if decodeBudget.Held() != 0 {
		t.Errorf("%d bytes still held", decodeBudget.Held())
	}
}

// FuzzCheckAnswer: an answer that passes the counting pass decodes into no more
// results, series and rows than its limits allow, every row as long as its columns.
func FuzzCheckAnswer(f *testing.F) {
	for _, s := range []string{
		`{"results":[{"statement_id":0,"series":[{"name":"ping","columns":["a","b"],"values":[[1,2],[3,4]]}]}]}`,
		`{"RESULTS":[{"Series":[{"COLUMNS":["a"],"Values":[[1],[2],[3]]}]}]}`,
		`{"results":[{"series":[{"values":[[1],[2]],"columns":["a"]}]}]}`,
		`{"results":[{},{}]}`,
		`{"r\u0065sults":[{"series":[{"columns":["a"],"values":[[1],[2],[3]]}]}]}`,
		`{"results":[{"series":[{"columns":["a"],"values":[[1]],"values":[[1],[2],[3]]}]}]}`,
	} {
		f.Add([]byte(s))
	}
	lim := answerLimits{results: 1, rows: 2}
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := checkAnswer(data, lim); err != nil {
			return
		}
		r, err := unmarshalAnswer(data)
		if err != nil {
			return
		}
		if len(r.Results) > lim.results {
			t.Fatalf("passed with %d results: %q", len(r.Results), data)
		}
		rows := 0
		for _, res := range r.Results {
			for _, s := range res.Series {
				rows += len(s.Values)
				for _, v := range s.Values {
					if len(v) != len(s.Columns) {
						t.Fatalf("passed with a row of %d values for %d columns: %q", len(v), len(s.Columns), data)
					}
				}
			}
		}
		if rows > lim.rows {
			t.Fatalf("passed with %d rows: %q", rows, data)
		}
	})
}

// TestInferLimits: what meshtop's own statements can return, read from their InfluxQL.
func TestInferLimits(t *testing.T) {
	r := &Reader{window: time.Hour}
	rd := newRead(r)
	for _, tt := range []struct {
		name      string
		q         string
		perSeries int
		rows      int
	}{
		{"grid statement", rd.query(rd.lastStmts()[0], true), 1, 0},
		{"matrix request", r.MatrixQuery(), 1, 0},
		{"rollup arithmetic", `SELECT sum("a") / sum("b") AS "x", max("c") AS "y" FROM "rp"."m" WHERE time > now() - 1h GROUP BY "src_pop", "dst_pop"`, 1, 0},
		{"first and last", `SELECT first("loss_pct") FROM "ping"; SELECT last("loss_pct") FROM "ping"`, 1, 0},
		{"probes", r.ProbesQuery("ams", "fra", 50), 50, 0},
		{"show", `SHOW FIELD KEYS FROM "ping"`, maxShowRows, maxShowRows},
		{"history buckets", r.HistoryQuery("ams", "fra", time.Minute), 0, 0},
		{"raw rows", `SELECT "avg_rtt_ms", "loss_pct" FROM "ping" WHERE time > now() - 1h GROUP BY "src_pop", "dst_pop"`, 0, 0},
		{"a multi-row function", `SELECT top("avg_rtt_ms", 5) FROM "ping"`, 0, 0},
		{"one unbounded statement", `SELECT last("a") FROM "ping"; SELECT "a" FROM "ping"`, 0, 0},
	} {
		lim := inferLimits(tt.q)
		if lim.perSeries != tt.perSeries || lim.rows != tt.rows {
			t.Errorf("%s: per series %d rows %d, want %d %d\n%s", tt.name, lim.perSeries, lim.rows, tt.perSeries, tt.rows, tt.q)
		}
	}
}
