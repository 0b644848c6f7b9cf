package probe

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/meshtop/meshtop/mesh"
)

// Shard is one collector's share of a mesh (--shard K/N): the source agents whose name
// hashes (FNV-1a, 32 bit) to K-1 modulo N. Every collector of the same N computes the
// same split without talking to the others, and an agent keeps its shard as the mesh
// grows or shrinks. The zero value (and 1/1) owns every agent.
type Shard struct {
	K, N int
}

// ParseShard reads "K/N" with 1 <= K <= N; "" is the zero Shard.
func ParseShard(s string) (Shard, error) {
	if strings.TrimSpace(s) == "" {
		return Shard{}, nil
	}
	ks, ns, ok := strings.Cut(s, "/")
	k, kerr := strconv.Atoi(strings.TrimSpace(ks))
	n, nerr := strconv.Atoi(strings.TrimSpace(ns))
	if !ok || kerr != nil || nerr != nil || n < 1 || k < 1 || k > n || n > 1024 {
		return Shard{}, fmt.Errorf("shard %q: want K/N with 1 <= K <= N <= 1024, e.g. 1/2", s)
	}
	return Shard{K: k, N: n}, nil
}

func (s Shard) String() string {
	if s.N <= 1 {
		return "1/1"
	}
	return fmt.Sprintf("%d/%d", s.K, s.N)
}

// Owns reports whether this shard runs the source agent called name.
func (s Shard) Owns(name string) bool {
	if s.N <= 1 {
		return true
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	return int(h.Sum32()%uint32(s.N)) == s.K-1
}

// Sources returns the agents this shard runs, in their order.
func (s Shard) Sources(agents []mesh.Agent) []mesh.Agent {
	if s.N <= 1 {
		return agents
	}
	var out []mesh.Agent
	for _, a := range agents {
		if s.Owns(a.Name) {
			out = append(out, a)
		}
	}
	return out
}
