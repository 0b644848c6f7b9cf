package tui

import (
	"fmt"
	"strings"

	"github.com/meshtop/meshtop/internal/textsafe"
	"github.com/meshtop/meshtop/mesh"
)

// hopAgents lists the source agents of a direction's hop tables, in table order.
func hopAgents(tbs []mesh.HopTable) []string {
	var out []string
	for _, tb := range tbs {
		if len(out) == 0 || out[len(out)-1] != tb.Src {
			out = append(out, tb.Src)
		}
	}
	return out
}

// agentPaths is agent src's tables, the current path first.
func agentPaths(tbs []mesh.HopTable, src string) []*mesh.HopTable {
	var out []*mesh.HopTable
	for i := range tbs {
		if tbs[i].Src == src {
			out = append(out, &tbs[i])
		}
	}
	return out
}

// pathLines folds an older path into two lines, as trippy lists its flows: when it was
// taken, how many traces, the destination's loss on it; then its hops.
func pathLines(tb *mesh.HopTable) []string {
	var hops []string
	for _, h := range tb.Hops {
		if len(h.Addrs) == 0 {
			hops = append(hops, "*")
		} else {
			hops = append(hops, textsafe.Name(h.Addrs[0].Addr))
		}
	}
	when := ""
	if n := len(tb.Spans); n > 0 {
		when = tb.Spans[0].From.Local().Format("15:04:05") + "–" + tb.Spans[n-1].To.Local().Format("15:04:05")
		if n > 1 {
			when += fmt.Sprintf(" (%d times)", n)
		}
	}
	s := fmt.Sprintf("path %d: %s, %s", tb.Path+1, when, plural(tb.Traces, "trace"))
	if n := len(tb.Hops); n > 0 && tb.Hops[n-1].Dest {
		s += ", destination loss " + fmtPct(tb.Hops[n-1].LossPct) + "%"
	}
	return []string{s, "  " + strings.Join(hops, " ")}
}
