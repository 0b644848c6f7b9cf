package influx

import (
	"context"
	"fmt"

	"github.com/meshtop/meshtop/mesh"
)

// NewestMatrix reads only the newest test of every pair in the window: the progressive
// read's first step (last(), InfluxDB's fast path) on its own. A sharded collector reads
// the other collectors' pairs with it every interval (blend.Union); cells carry the
// newest test's values and time under Last, nothing else.
func (r *Reader) NewestMatrix(ctx context.Context) (*mesh.Matrix, error) {
	rd := newRead(r)
	if err := rd.run(ctx, rd.lastStmts(), true); err != nil {
		return nil, fmt.Errorf("read the newest tests over %s: %w", r.describe(), err)
	}
	return rd.matrix(), nil
}
