package influx

import (
	"context"
	"fmt"
	"slices"
)

// FieldTypes maps measurement -> field -> the types the field has across shards (more
// than one when shards disagree, see SPEC Appendix B).
type FieldTypes map[string]map[string][]string

// Has reports whether a field of a measurement has type typ in some shard.
func (ft FieldTypes) Has(measurement, field, typ string) bool {
	return slices.Contains(ft[measurement][field], typ)
}

// fieldTypes runs SHOW FIELD KEYS.
func (c *conn) fieldTypes(ctx context.Context) (FieldTypes, error) {
	res, err := c.query(ctx, "SHOW FIELD KEYS")
	if err != nil {
		return nil, fmt.Errorf("read field types: %w", err)
	}
	ft := FieldTypes{}
	for _, r := range res {
		for _, row := range r.Series {
			s := newSeries(row)
			m := ft[row.Name]
			if m == nil {
				m = map[string][]string{}
				ft[row.Name] = m
			}
			for _, v := range s.rows {
				k, _ := toString(s.get(v, "fieldKey"))
				t, _ := toString(s.get(v, "fieldType"))
				if k != "" && t != "" && !slices.Contains(m[k], t) {
					m[k] = append(m[k], t)
				}
			}
		}
	}
	return ft, nil
}
