package blend

import (
	"fmt"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
)

// BenchmarkMerge300: the blended grid read of a 300-PoP mesh split in two shards (what
// every grid refresh of a sharded live costs on top of the store's matrix).
func BenchmarkMerge300(b *testing.B) {
	const n = 300
	pops := make([]string, n)
	for i := range pops {
		pops[i] = fmt.Sprintf("p%03d", i)
	}
	now := time.Now()
	cells := func(from int) map[mesh.Pair]*mesh.Cell {
		out := map[mesh.Pair]*mesh.Cell{}
		for i := from; i < n; i += 2 {
			for j := range n {
				if i != j {
					c := mesh.EmptyCell()
					c.Samples, c.Last.Time = 1, now
					out[mesh.Pair{Src: pops[i], Dst: pops[j]}] = &c
				}
			}
		}
		return out
	}
	live := mesh.NewMatrix(now, "live", pops, nil, cells(0))
	other := mesh.NewMatrix(now, "influx", pops, nil, cells(1))
	owns := func(p string) bool { return (p[3]-'0')%2 == 0 }
	u := &Union{Owns: owns, other: othersOf(other, owns)}
	b.ReportAllocs()
	v := uint64(0)
	for b.Loop() {
		v++ // the store changed: no cached blend
		if m := u.Blend(live, v); m.Len() != n {
			b.Fatal(m.Len())
		}
	}
}
