package influx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unsafe"

	"github.com/influxdata/influxdb1-client/models"
	client "github.com/influxdata/influxdb1-client/v2"
	"github.com/meshtop/meshtop/internal/jsonscan"
	"github.com/meshtop/meshtop/internal/membudget"
)

// A /query answer is bounded three ways before it is decoded (docs/security.md):
//   - in bytes (maxAnswer);
//   - in shape: a counting pass over its bytes checks what InfluxDB itself always
//     does (no more results than statements, every row as long as its columns, scalar
//     values, a series with columns) and what the query can return (a row limit set
//     by the caller with withRows: pairs x buckets), so 5 MiB of empty rows is refused
//     instead of becoming 682 MB;
//   - in decoded size: the pass adds up what the decoded answer will hold, refused
//     over maxDecoded for one answer or over the process's budget of answers being
//     decoded at once (decodeBudget).

// maxDecoded bounds what one decoded answer may hold in memory: a grid read of 100 PoPs
// is ~10 MB; the widest honest reads (raw tests of a text-typed database, 1 h of 50
// PoPs) reach ~100 MB. Wider ones are refused: narrow the window or the PoPs.
const maxDecoded = 128 << 20

// DefaultDecodeBudget is the process's budget for answers read and decoded at once
// (a grid read runs ~10 queries at a time).
const DefaultDecodeBudget = 384 << 20

// decodeBudget counts the bytes of answers being read and decoded; tests lower it.
var decodeBudget = &membudget.Budget{Limit: DefaultDecodeBudget}

// AnswerError is an answer refused for its size or shape before it was decoded.
type AnswerError struct{ What string }

func (e *AnswerError) Error() string { return "answer refused: " + e.What }

type rowsKey struct{}

// withRows says how many rows (over all series and statements) the query of ctx can
// return: pairs x buckets, tests x agents. An answer with more is refused unread.
func withRows(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, rowsKey{}, n)
}

func limitsFrom(ctx context.Context, q string) answerLimits {
	lim := inferLimits(q)
	if n, _ := ctx.Value(rowsKey{}).(int); n > 0 && (lim.rows == 0 || n < lim.rows) {
		lim.rows = n
	}
	return lim
}

// maxShowRows bounds the answer to a SHOW statement (databases, measurements, field
// keys, tag values: PoP codes).
const maxShowRows = 100_000

// singleRow are the InfluxQL functions that give one row per series (and GROUP BY
// time bucket); top(), bottom(), distinct(), derivative() and the like give more.
var singleRow = map[string]bool{
	"count": true, "sum": true, "mean": true, "median": true, "min": true, "max": true, "first": true,
	"last": true, "percentile": true, "spread": true, "stddev": true, "integral": true, "mode": true,
}

// inferLimits reads what a request's statements can return from their InfluxQL (all
// written by meshtop): a SHOW lists at most maxShowRows; a SELECT of single-row
// aggregates without GROUP BY time() one row per series; a LIMIT n at most n rows per
// series. Anything else is bounded by size alone (or a caller's withRows).
func inferLimits(q string) answerLimits {
	stmts := splitStatements(q)
	lim := answerLimits{results: len(stmts)}
	per, rows := 0, 0
	for _, st := range stmts {
		upper := strings.ToUpper(st)
		p := 0
		switch {
		case strings.HasPrefix(upper, "SHOW "):
			p = maxShowRows
			rows += maxShowRows
		case strings.HasPrefix(upper, "SELECT ") && !strings.Contains(upper, "GROUP BY TIME(") && aggregatesOnly(st):
			p = 1
		}
		if i := strings.LastIndex(upper, " LIMIT "); i >= 0 {
			if n, err := strconv.Atoi(strings.Fields(upper[i+len(" LIMIT "):] + " x")[0]); err == nil && n > 0 && (p == 0 || n < p) {
				p = n
			}
		}
		if p == 0 {
			return lim // one statement unbounded: the request is
		}
		per = max(per, p)
	}
	lim.perSeries = per
	if rows == maxShowRows*len(stmts) {
		lim.rows = rows
	}
	return lim
}

// splitStatements splits a request at the ';' outside quotes.
func splitStatements(q string) []string {
	var out []string
	for _, st := range splitTopLevel(q, ";") {
		if st = strings.TrimSpace(st); st != "" {
			out = append(out, st)
		}
	}
	return out
}

// aggregatesOnly reports whether every column of a SELECT is an expression of
// single-row functions (mean("x") AS "a", sum("a") / sum("b") AS "c").
func aggregatesOnly(st string) bool {
	body := st[len("SELECT "):]
	end := topLevelIndex(body, " FROM ")
	if end < 0 {
		return false
	}
	cols := body[:end]
	for _, col := range splitTopLevel(cols, ",") {
		col = strings.TrimSpace(col)
		if i := topLevelIndex(col, " AS "); i >= 0 {
			col = col[:i]
		}
		// Every identifier outside a function's parentheses must be a function name.
		depth, sawFunc := 0, false
		for i := 0; i < len(col); i++ {
			switch c := col[i]; {
			case c == '(':
				depth++
			case c == ')':
				depth--
			case depth == 0 && (c == '"' || c == '\''):
				return false // a bare field
			case depth == 0 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'):
				j := i
				for j < len(col) && (col[j] >= 'a' && col[j] <= 'z' || col[j] >= 'A' && col[j] <= 'Z' || col[j] == '_') {
					j++
				}
				if j >= len(col) || col[j] != '(' || !singleRow[strings.ToLower(col[i:j])] {
					return false
				}
				sawFunc = true
				i = j - 1
			}
		}
		if !sawFunc {
			return false
		}
	}
	return true
}

// topLevelIndex is strings.Index of sep in s outside quotes and parentheses (ASCII
// case-insensitive for keywords).
func topLevelIndex(s, sep string) int {
	depth, quote := 0, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '\'' || c == '"'):
			quote = c
		case quote == 0 && c == '(':
			depth++
		case quote == 0 && c == ')':
			depth--
		case quote == 0 && depth == 0 && len(s)-i >= len(sep) && strings.EqualFold(s[i:i+len(sep)], sep):
			return i
		}
	}
	return -1
}

// splitTopLevel splits s at the seps outside quotes and parentheses.
func splitTopLevel(s, sep string) []string {
	var out []string
	for {
		i := topLevelIndex(s, sep)
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i])
		s = s[i+len(sep):]
	}
}

// answerLimits are what one answer may hold.
type answerLimits struct {
	results   int   // statements in the query
	rows      int   // 0: as many as fit maxDecoded
	perSeries int   // rows in one series; 0: any
	decoded   int64 // estimated bytes decoded
}

// statements counts the statements of an InfluxQL request.
func statements(q string) int { return max(len(splitStatements(q)), 1) }

var errDecodeBudget = &AnswerError{What: fmt.Sprintf("meshtop's memory for InfluxDB answers (%d MiB, all queries together) is in use by other answers",
	DefaultDecodeBudget>>20)}

// decodeAnswer checks a /query answer's shape and size (checkAnswer), then decodes it.
func decodeAnswer(data []byte, lim answerLimits) (*client.Response, error) {
	if _, err := checkAnswer(data, lim); err != nil {
		return nil, err
	}
	return unmarshalAnswer(data)
}

// unmarshalAnswer decodes an answer with numbers kept as json.Number.
func unmarshalAnswer(data []byte) (*client.Response, error) {
	r := &client.Response{}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(r); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("decode answer: cut short: %w", err)
		}
		return nil, fmt.Errorf("decode answer: %w", err)
	}
	return r, nil
}

// inode is where the counting pass is in an answer. encoding/json fills a field from
// a key that matches it case-insensitively, so keys are matched that way.
type inode int

const (
	iOther inode = iota
	iTop
	iResults
	iResult
	iSeriesList
	iSeries
	iTags
	iColumns
	iColumn
	iValues
	iRow
	iValue
	iMessages
)

func (n inode) child(key string) inode {
	is := func(s string) bool { return strings.EqualFold(key, s) }
	switch {
	case n == iTop && is("results"):
		return iResults
	case n == iResult && is("series"):
		return iSeriesList
	case n == iResult && is("messages"):
		return iMessages
	case n == iSeries && is("tags"):
		return iTags
	case n == iSeries && is("columns"):
		return iColumns
	case n == iSeries && is("values"):
		return iValues
	}
	return iOther
}

// Go sizes of what decoding allocates, for the estimate: slices grow by doubling, so
// an element costs up to twice its size.
var (
	sizeResult  = 2 * int64(unsafe.Sizeof(client.Result{}))
	sizeSeries  = 2 * int64(unsafe.Sizeof(models.Row{}))
	sizeMessage = 2*8 + int64(unsafe.Sizeof(client.Message{}))
)

const (
	sizeIface  = 2 * 16 // an element of []interface{}
	sizeRowHdr = 2 * 24 // a row's slice header in Values
	sizeStr    = 16     // a string header, boxed in an interface or in a slice
	sizeTag    = 64     // a map entry of tags, with its share of buckets
	maxDepth   = 16     // an answer nests 6 deep
	// maxMessages bounds one statement's messages (InfluxDB sends a warning or two).
	maxMessages = 64
	// maxValueString bounds one string value (an as_path, a hop list of 32 hops).
	maxValueString = 1 << 20
	// maxColumns bounds a series' columns: meshtop's widest SELECT has a few dozen.
	maxColumns = 256
)

// answerScan counts what an answer holds and what it will cost decoded (a
// jsonscan.Visitor).
type answerScan struct {
	lim    answerLimits
	cost   int64
	rows   int
	series int
	// per series, checked at its end
	cols, rowLen int
	ragged       bool
	seriesRows   int
}

// checkAnswer runs the counting pass: a *AnswerError when the answer holds more than
// lim allows or what InfluxDB never sends, else the estimated decoded size.
func checkAnswer(data []byte, lim answerLimits) (int64, error) {
	if lim.decoded <= 0 {
		lim.decoded = maxDecoded
	}
	s := &answerScan{lim: lim}
	err := jsonscan.Walk(data, jsonscan.Node(iTop), jsonscan.Limits{Depth: maxDepth, String: maxValueString}, s)
	var ae *AnswerError
	if err != nil && !errors.As(err, &ae) {
		err = &AnswerError{What: err.Error()} // too deep, a string too long
	}
	return s.cost, err
}

func fail(format string, args ...any) error { return &AnswerError{What: fmt.Sprintf(format, args...)} }

func (s *answerScan) add(n int64) error {
	s.cost += n
	if s.cost > s.lim.decoded {
		return fail("decoded it would take over %d MiB (%d series, %d rows so far); narrow the window or the PoPs",
			s.lim.decoded>>20, s.series, s.rows)
	}
	return nil
}

func (s *answerScan) Child(n jsonscan.Node, key string) (jsonscan.Node, error) {
	if inode(n) == iTags {
		if err := s.add(sizeTag + int64(len(key))); err != nil {
			return 0, err
		}
	}
	return jsonscan.Node(inode(n).child(key)), nil
}

// Elem counts results, series, rows, columns, values and messages.
func (s *answerScan) Elem(n jsonscan.Node, i int) (jsonscan.Node, error) {
	switch inode(n) {
	case iResults:
		if i > s.lim.results {
			return 0, fail("holds more than %d results for %d statements", s.lim.results, s.lim.results)
		}
		return jsonscan.Node(iResult), s.add(sizeResult)
	case iSeriesList:
		s.series++
		if s.lim.rows > 0 && s.series > s.lim.rows {
			return 0, fail("holds more than %d series, the most the query can return", s.lim.rows)
		}
		return jsonscan.Node(iSeries), s.add(sizeSeries)
	case iColumns:
		if i > maxColumns {
			return 0, fail("holds a series of more than %d columns", maxColumns)
		}
		return jsonscan.Node(iColumn), nil
	case iValues:
		s.rows++
		s.seriesRows++
		if s.lim.rows > 0 && s.rows > s.lim.rows {
			return 0, fail("holds more than %d rows, the most the query can return", s.lim.rows)
		}
		if s.lim.perSeries > 0 && s.seriesRows > s.lim.perSeries {
			return 0, fail("holds more than %d rows in one series, the most the query can return", s.lim.perSeries)
		}
		return jsonscan.Node(iRow), s.add(sizeRowHdr)
	case iRow:
		if i > maxColumns {
			return 0, fail("holds a row of more than %d values", maxColumns)
		}
		return jsonscan.Node(iValue), s.add(sizeIface)
	case iMessages:
		if i > maxMessages {
			return 0, fail("holds more than %d messages for one statement", maxMessages)
		}
		return jsonscan.Node(iOther), s.add(sizeMessage)
	}
	return jsonscan.Node(iOther), nil
}

// Value refuses nested values and adds up what strings and numbers cost decoded.
func (s *answerScan) Value(n jsonscan.Node, k jsonscan.Kind, raw []byte) error {
	switch {
	case (k == jsonscan.Object || k == jsonscan.Array) && (inode(n) == iValue || inode(n) == iColumn):
		return fail("holds a list or an object as a value (InfluxDB's are numbers, strings, booleans)")
	case k == jsonscan.Object && inode(n) == iSeries:
		s.cols, s.rowLen, s.ragged, s.seriesRows = -1, -1, false, 0
	case k == jsonscan.String && inode(n) != iTop:
		return s.add(sizeStr + int64(len(raw)))
	case k == jsonscan.Literal && inode(n) == iValue && raw[0] != 't' && raw[0] != 'f' && raw[0] != 'n':
		return s.add(sizeStr + int64(len(raw))) // a json.Number
	}
	return nil
}

// End checks each row's length against its series' columns.
func (s *answerScan) End(n jsonscan.Node, k jsonscan.Kind, count int) error {
	switch inode(n) {
	case iColumns:
		s.cols = count
	case iRow:
		if s.rowLen < 0 {
			s.rowLen = count
		} else if count != s.rowLen {
			s.ragged = true
		}
	case iSeries:
		switch {
		case s.cols <= 0:
			return fail("holds a series without columns")
		case s.ragged || (s.rowLen >= 0 && s.rowLen != s.cols):
			return fail("holds rows that do not match their %d columns", s.cols)
		}
	}
	return nil
}
