package probe_test

import (
	"fmt"
	"testing"

	"github.com/meshtop/meshtop/probe"
)

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want probe.Shard
		bad  bool
	}{
		{"", probe.Shard{}, false},
		{"1/1", probe.Shard{K: 1, N: 1}, false},
		{"2/3", probe.Shard{K: 2, N: 3}, false},
		{" 3 / 3 ", probe.Shard{K: 3, N: 3}, false},
		{"0/2", probe.Shard{}, true},
		{"3/2", probe.Shard{}, true},
		{"1", probe.Shard{}, true},
		{"a/b", probe.Shard{}, true},
		{"1/0", probe.Shard{}, true},
		{"1/99999", probe.Shard{}, true},
	} {
		got, err := probe.ParseShard(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseShard(%q) = %v, %v", tc.in, got, err)
		}
	}
}

// TestShardsCoverEverySourceOnce: for any N, every agent belongs to exactly one of the
// N shards, and the split is spread (no shard of 300 agents empty).
func TestShardsCoverEverySourceOnce(t *testing.T) {
	for n := 1; n <= 7; n++ {
		owners := make([]int, n)
		for i := range 300 {
			name := fmt.Sprintf("scouter-pop%03d-0", i)
			k := 0
			for s := 1; s <= n; s++ {
				if (probe.Shard{K: s, N: n}).Owns(name) {
					k++
					owners[s-1]++
				}
			}
			if k != 1 {
				t.Fatalf("N=%d: %s owned by %d shards", n, name, k)
			}
		}
		for s, c := range owners {
			if c == 0 {
				t.Errorf("N=%d: shard %d owns nothing of 300 agents", n, s+1)
			}
		}
	}
}
