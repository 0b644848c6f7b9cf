package influx

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/influxdata/influxdb1-client/models"

	"github.com/meshtop/meshtop/internal/textsafe"
)

// series is one result series with column lookup by name.
type series struct {
	tags map[string]string
	col  map[string]int
	rows [][]any
}

// newSeries indexes a row's columns; tag values (PoP codes, agent names, addresses)
// come from whoever wrote the data and are sanitised here, before anything shows them.
func newSeries(r models.Row) series {
	tags := make(map[string]string, len(r.Tags))
	for k, v := range r.Tags {
		tags[k] = textsafe.Name(v)
	}
	s := series{tags: tags, col: make(map[string]int, len(r.Columns)), rows: r.Values}
	for i, c := range r.Columns {
		s.col[c] = i
	}
	return s
}

func (s series) get(row []any, col string) any {
	i, ok := s.col[col]
	if !ok || i >= len(row) {
		return nil
	}
	return row[i]
}

// float returns a column as a number; ok is false for null or text that is no number.
func (s series) float(row []any, col string) (float64, bool) { return toFloat(s.get(row, col)) }

// anyFloat reads a field selected by typedCols: the float column first, then the text one.
func (s series) anyFloat(row []any, field string) (float64, bool) {
	if v, ok := toFloat(s.get(row, field+"__f")); ok {
		return v, true
	}
	return toFloat(s.get(row, field+"__s"))
}

func (s series) anyString(row []any, field string) (string, bool) {
	if v, ok := toString(s.get(row, field+"__s")); ok {
		return v, true
	}
	return toString(s.get(row, field+"__f"))
}

// time reads the time column (RFC 3339, as InfluxDB answers without epoch=).
func (s series) time(row []any) (time.Time, error) {
	v, _ := s.get(row, "time").(string)
	if v == "" {
		if n, ok := s.get(row, "time").(json.Number); ok {
			i, err := n.Int64()
			return time.Unix(0, i).UTC(), err
		}
		return time.Time{}, fmt.Errorf("row without time")
	}
	return time.Parse(time.RFC3339Nano, v)
}

// typedCols selects a field under each type it may have in different shards: InfluxDB
// 1.x returns only one type for a bare "f" when shards disagree, silently dropping the
// other; f::float (which also casts integers) and f::string together see everything.
func typedCols(fields ...string) string {
	parts := make([]string, 0, 2*len(fields))
	for _, f := range fields {
		parts = append(parts,
			QuoteIdent(f)+"::float AS "+QuoteIdent(f+"__f"),
			QuoteIdent(f)+"::string AS "+QuoteIdent(f+"__s"))
	}
	return strings.Join(parts, ", ")
}

// allSeries flattens the series of one statement's result.
func allSeries(rows []models.Row) []series {
	out := make([]series, len(rows))
	for i, r := range rows {
		out[i] = newSeries(r)
	}
	return out
}
