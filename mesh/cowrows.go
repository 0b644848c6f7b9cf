package mesh

import "maps"

// cowRows are rows[src][dst] that the live store hands to matrices and keeps changing:
// a row a matrix holds (shared) is copied before the store changes it, so a matrix
// costs a map of rows, not one of cells, and never sees a later change.
type cowRows[V any] struct {
	rows   map[string]map[string]V
	shared map[string]bool
}

func newCowRows[V any]() cowRows[V] {
	return cowRows[V]{rows: map[string]map[string]V{}, shared: map[string]bool{}}
}

// own returns src's row, the store's own to change (a copy when a matrix holds it).
func (c *cowRows[V]) own(src string) map[string]V {
	row := c.rows[src]
	if row == nil || c.shared[src] {
		row = maps.Clone(row)
		if row == nil {
			row = map[string]V{}
		}
		c.rows[src] = row
		delete(c.shared, src)
	}
	return row
}

// publish hands the rows to a matrix: from now on each is copied before a change.
func (c *cowRows[V]) publish() map[string]map[string]V {
	out := maps.Clone(c.rows)
	for src := range out {
		c.shared[src] = true
	}
	return out
}

// drop removes every pair from or to a PoP in gone.
func (c *cowRows[V]) drop(gone map[string]bool) {
	for p := range gone {
		delete(c.rows, p)
		delete(c.shared, p)
	}
	for src, row := range c.rows {
		for dst := range row {
			if gone[dst] {
				c.own(src)
				maps.DeleteFunc(c.rows[src], func(d string, _ V) bool { return gone[d] })
				break
			}
		}
	}
}
