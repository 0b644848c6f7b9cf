package influx

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/meshtop/meshtop/internal/textsafe"
	"github.com/meshtop/meshtop/mesh"
)

// HopsField is the field meshtop adds to the traceroute measurement: the hop list as
// JSON ([]mesh.Hop), so that hop paths can be shown from history. The workshop never
// wrote it; its traces show the AS path only.
const HopsField = "hops"

var traceCols = typedCols("failed", "final_hop_rtt_ms", "final_hop_ttl", "as_path", HopsField)

const traceGroup = ` GROUP BY "src_slug", "dst", "proto", "dport"`

// TracesQuery is the InfluxQL of PairTraces: the traces in the window and, per source
// agent and destination, the newest trace whatever its age (a trace runs less often than
// a ping, so the window may hold none).
func (r *Reader) TracesQuery(src, dst string) string {
	pc := pairCond(src, dst)
	return "SELECT " + traceCols + ` FROM "traceroute" WHERE ` + r.timeCond() + " AND " + pc + traceGroup + "; " +
		"SELECT " + traceCols + ` FROM "traceroute" WHERE ` + pc + traceGroup + " ORDER BY time DESC LIMIT 1"
}

// PairTraces returns the pair's traceroutes (all source agents of the PoP), oldest first:
// those of the window plus the latest one of each agent. Hops are filled when the trace
// was written with the hops field; otherwise only ASPath and the final hop are known.
func (r *Reader) PairTraces(ctx context.Context, src, dst string) ([]mesh.TraceResult, error) {
	res, err := r.c.query(ctx, r.TracesQuery(src, dst))
	if err != nil {
		return nil, fmt.Errorf("read traceroutes of %s→%s: %w", src, dst, err)
	}
	type key struct {
		src, dst string
		t        int64
	}
	seen := map[key]bool{}
	var out []mesh.TraceResult
	for _, rs := range res {
		for _, s := range allSeries(rs.Series) {
			for _, row := range s.rows {
				t, err := s.time(row)
				if err != nil {
					return nil, fmt.Errorf("read traceroutes of %s→%s: %w", src, dst, err)
				}
				k := key{s.tags["src_slug"], s.tags["dst"], t.UnixNano()}
				if seen[k] {
					continue
				}
				seen[k] = true
				tr := mesh.TraceResult{Time: t, Src: k.src, SrcPop: src, Dst: k.dst, DstPop: dst, Proto: s.tags["proto"]}
				tr.DPort, _ = strconv.Atoi(s.tags["dport"])
				if f, ok := s.anyFloat(row, "failed"); ok {
					tr.Failed = f != 0
				}
				tr.FinalHopRTT, _ = s.anyFloat(row, "final_hop_rtt_ms")
				if v, ok := s.anyFloat(row, "final_hop_ttl"); ok {
					tr.FinalHopTTL = int(v)
				}
				tr.ASPath, _ = s.anyString(row, "as_path")
				tr.ASPath = textsafe.String(tr.ASPath, textsafe.MaxMessage)
				if h, ok := s.anyString(row, HopsField); ok && h != "" {
					// A hop list that does not parse leaves the trace with its AS path,
					// like workshop data: the trace itself was measured.
					if json.Unmarshal([]byte(h), &tr.Hops) != nil || len(tr.Hops) > mesh.MaxTTL {
						tr.Hops = nil
					}
					for i := range tr.Hops {
						h := &tr.Hops[i]
						h.Addr, h.Name = textsafe.Name(h.Addr), textsafe.Name(h.Name)
						if len(h.Probes) > mesh.MaxHopProbes {
							h.Probes = nil // the hop's own answer still stands
						}
						for j := range h.Probes {
							h.Probes[j].Addr = textsafe.Name(h.Probes[j].Addr)
						}
					}
				}
				out = append(out, tr)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b mesh.TraceResult) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		if a.Src != b.Src {
			return strings.Compare(a.Src, b.Src)
		}
		return strings.Compare(a.Dst, b.Dst)
	})
	return out, nil
}
