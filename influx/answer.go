package influx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/influxdata/influxdb1-client/models"
	client "github.com/influxdata/influxdb1-client/v2"
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

// maxDecoded bounds what one decoded answer may hold in memory: the widest honest read
// (every rollup bucket of a 6 h window for 100 PoPs) is under 100 MB.
const maxDecoded = 256 << 20

// DefaultDecodeBudget is the process's budget for answers read and decoded at once
// (the history view runs ~10 queries at a time).
const DefaultDecodeBudget = 1 << 30

// decodeBudget counts the bytes of answers being read and decoded; tests lower limit.
var decodeBudget = &memBudget{limit: DefaultDecodeBudget}

type memBudget struct {
	limit int64
	held  atomic.Int64
}

func (b *memBudget) take(n int64) bool {
	if b.held.Add(n) > b.limit {
		b.held.Add(-n)
		return false
	}
	return true
}

func (b *memBudget) give(n int64) { b.held.Add(-n) }

// AnswerError is an answer refused for its size or shape before it was decoded.
type AnswerError struct{ What string }

func (e *AnswerError) Error() string { return "answer refused: " + e.What }

type rowsKey struct{}

// withRows says how many rows (over all series and statements) the query of ctx can
// return: pairs x buckets, tests x agents. An answer with more is refused unread.
func withRows(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, rowsKey{}, n)
}

func rowsFrom(ctx context.Context) int {
	n, _ := ctx.Value(rowsKey{}).(int)
	return n
}

// answerLimits are what one answer may hold.
type answerLimits struct {
	results int   // statements in the query
	rows    int   // 0: as many as fit maxDecoded
	decoded int64 // estimated bytes decoded
}

// statements counts the statements of an InfluxQL request: the ';' outside quoted
// strings and identifiers, plus one.
func statements(q string) int {
	n, quote := 1, byte(0)
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0 && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '\'' || c == '"'):
			quote = c
		case quote == 0 && c == ';' && strings.TrimSpace(q[i+1:]) != "":
			n++
		}
	}
	return n
}

// readBudgeted reads at most limit bytes of r into memory, holding them in b as they
// arrive; the caller gives back held. tooLarge is set when r holds more.
func readBudgeted(r io.Reader, limit int64, b *memBudget) (data []byte, held int64, tooLarge bool, err error) {
	const chunk = 256 << 10
	var buf bytes.Buffer
	for {
		want := min(chunk, limit+1-int64(buf.Len()))
		if want <= 0 {
			return buf.Bytes(), held, true, nil
		}
		if !b.take(want) {
			return nil, held, false, errDecodeBudget
		}
		held += want
		n, rerr := io.CopyN(&buf, r, want)
		if n < want {
			b.give(want - n)
			held -= want - n
		}
		if rerr == io.EOF {
			return buf.Bytes(), held, int64(buf.Len()) > limit, nil
		}
		if rerr != nil {
			return nil, held, false, rerr
		}
	}
}

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

// answerScan is the counting pass. Malformed JSON ends it quietly: encoding/json then
// says what is wrong in its own words.
type answerScan struct {
	b      []byte
	i      int
	lim    answerLimits
	cost   int64
	rows   int
	series int
	err    error
	bad    bool
	// per series, checked at its end
	cols, rowLen int
	ragged       bool
}

// checkAnswer runs the counting pass: a *AnswerError when the answer holds more than
// lim allows or what InfluxDB never sends, else the estimated decoded size.
func checkAnswer(data []byte, lim answerLimits) (int64, error) {
	if lim.decoded <= 0 {
		lim.decoded = maxDecoded
	}
	s := &answerScan{b: data, lim: lim}
	s.value(iTop, 0)
	return s.cost, s.err
}

func (s *answerScan) stop() bool { return s.err != nil || s.bad }

func (s *answerScan) fail(format string, args ...any) {
	if s.err == nil {
		s.err = &AnswerError{What: fmt.Sprintf(format, args...)}
	}
}

func (s *answerScan) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\n' || s.b[s.i] == '\r' || s.b[s.i] == '\t') {
		s.i++
	}
}

func (s *answerScan) add(n int64) {
	s.cost += n
	if s.cost > s.lim.decoded {
		s.fail("decoded it would take over %d MiB (%d series, %d rows so far); narrow the window or the PoPs",
			s.lim.decoded>>20, s.series, s.rows)
	}
}

func (s *answerScan) value(n inode, depth int) {
	if depth > maxDepth {
		s.fail("nests deeper than %d levels", maxDepth)
		return
	}
	s.ws()
	if s.i >= len(s.b) {
		s.bad = true
		return
	}
	switch c := s.b[s.i]; {
	case c == '{':
		s.object(n, depth)
	case c == '[':
		s.array(n, depth)
	case c == '"':
		raw := s.str()
		if n != iTop {
			s.add(sizeStr + int64(len(raw)))
		}
	default:
		start := s.i
		for s.i < len(s.b) && !strings.ContainsRune(",:]} \t\r\n", rune(s.b[s.i])) {
			s.i++
		}
		if n == iValue && s.b[start] != 't' && s.b[start] != 'f' && s.b[start] != 'n' {
			s.add(sizeStr + int64(s.i-start)) // a json.Number
		}
	}
}

func (s *answerScan) str() []byte {
	start := s.i + 1
	for s.i++; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case '\\':
			s.i++
		case '"':
			raw := s.b[start:s.i]
			s.i++
			if len(raw) > maxValueString {
				s.fail("holds a string of %d MiB", len(raw)>>20)
			}
			return raw
		}
	}
	s.bad = true
	return nil
}

func (s *answerScan) object(n inode, depth int) {
	if n == iValue || n == iColumn {
		s.fail("holds an object as a value (InfluxDB's are numbers, strings, booleans)")
		return
	}
	if n == iSeries {
		s.cols, s.rowLen, s.ragged = -1, -1, false
	}
	s.i++ // {
	for first := true; !s.stop(); first = false {
		s.ws()
		if first && s.i < len(s.b) && s.b[s.i] == '}' {
			s.i++
			break
		}
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			s.bad = true
			return
		}
		raw := s.str()
		if s.stop() {
			return
		}
		key := string(raw)
		if strings.IndexByte(key, '\\') >= 0 {
			var k string
			if json.Unmarshal([]byte(`"`+key+`"`), &k) == nil {
				key = k
			}
		}
		if n == iTags {
			s.add(sizeTag + int64(len(raw)))
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			s.bad = true
			return
		}
		s.i++
		s.value(n.child(key), depth+1)
		if s.stop() {
			return
		}
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ',' {
			s.i++
			continue
		}
		if s.i < len(s.b) && s.b[s.i] == '}' {
			s.i++
			break
		}
		s.bad = true
		return
	}
	if n == iSeries && !s.stop() {
		switch {
		case s.cols <= 0:
			s.fail("holds a series without columns")
		case s.ragged || (s.rowLen >= 0 && s.rowLen != s.cols):
			s.fail("holds rows that do not match their %d columns", s.cols)
		}
	}
}

func (s *answerScan) array(n inode, depth int) {
	s.i++ // [
	elem := iOther
	count := 0
	switch n {
	case iResults:
		elem = iResult
	case iSeriesList:
		elem = iSeries
	case iValues:
		elem = iRow
	case iColumns:
		elem = iColumn
	case iRow:
		elem = iValue
	case iValue, iColumn:
		s.fail("holds a list as a value (InfluxDB's are numbers, strings, booleans)")
		return
	}
	for first := true; !s.stop(); first = false {
		s.ws()
		if first && s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			break
		}
		count++
		switch n {
		case iResults:
			if count > s.lim.results {
				s.fail("holds more than %d results for %d statements", s.lim.results, s.lim.results)
				return
			}
			s.add(sizeResult)
		case iSeriesList:
			s.series++
			if s.lim.rows > 0 && s.series > s.lim.rows {
				s.fail("holds more than %d series, the most the query can return", s.lim.rows)
				return
			}
			s.add(sizeSeries)
		case iColumns:
			if count > maxColumns {
				s.fail("holds a series of more than %d columns", maxColumns)
				return
			}
		case iValues:
			s.rows++
			if s.lim.rows > 0 && s.rows > s.lim.rows {
				s.fail("holds more than %d rows, the most the query can return", s.lim.rows)
				return
			}
			s.add(sizeRowHdr)
		case iRow:
			if count > maxColumns {
				s.fail("holds a row of more than %d values", maxColumns)
				return
			}
			s.add(sizeIface)
		case iMessages:
			if count > maxMessages {
				s.fail("holds more than %d messages for one statement", maxMessages)
				return
			}
			s.add(sizeMessage)
		}
		s.value(elem, depth+1)
		if s.stop() {
			return
		}
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ',' {
			s.i++
			continue
		}
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			break
		}
		s.bad = true
		return
	}
	switch n {
	case iColumns:
		s.cols = count
	case iRow:
		if s.rowLen < 0 {
			s.rowLen = count
		} else if count != s.rowLen {
			s.ragged = true
		}
	}
}
