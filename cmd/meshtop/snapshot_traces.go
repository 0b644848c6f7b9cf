package main

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/meshtop/meshtop/mesh"
)

// traceJSON is one traceroute of `snapshot --traceroute --format json`.
type traceJSON struct {
	Src         string    `json:"src"`
	SrcPop      string    `json:"src_pop"`
	Dst         string    `json:"dst"`
	DstName     string    `json:"dst_name"`
	DstPop      string    `json:"dst_pop"`
	Proto       string    `json:"proto"`
	DPort       int       `json:"dport"`
	Failed      bool      `json:"failed"`
	FinalHopTTL int       `json:"final_hop_ttl"`
	FinalHopRTT *float64  `json:"final_hop_rtt_ms"`
	ASPath      string    `json:"as_path"`
	Hops        []hopJSON `json:"hops"`
	Error       string    `json:"error"`
}

type hopJSON struct {
	TTL        int      `json:"ttl"`
	Addr       string   `json:"addr"`
	Name       string   `json:"name"`
	ASN        int      `json:"asn"`
	RTT        *float64 `json:"rtt_ms"`
	NoResponse bool     `json:"no_response"`
}

// tracesJSON converts the sweep's traces; nil (no traceroutes run) stays nil, so the
// key is left out, and a traceroute sweep with no trace is an empty list.
func tracesJSON(traces []mesh.TraceResult) []traceJSON {
	if traces == nil {
		return nil
	}
	out := make([]traceJSON, 0, len(traces))
	for _, t := range traces {
		tj := traceJSON{Src: t.Src, SrcPop: t.SrcPop, Dst: t.Dst, DstName: t.DstName, DstPop: t.DstPop,
			Proto: t.Proto, DPort: t.DPort, Error: t.Err, Hops: []hopJSON{}}
		if t.Measured() {
			tj.Failed, tj.FinalHopTTL, tj.ASPath = t.Failed, t.FinalHopTTL, t.ASPath
			if t.FinalHopTTL < 32 || !t.Failed {
				tj.FinalHopRTT = num(t.FinalHopRTT)
			}
			for _, h := range t.Hops {
				hj := hopJSON{TTL: h.TTL, Addr: h.Addr, Name: h.Name, ASN: h.ASN, NoResponse: h.NoResponse}
				if !h.NoResponse {
					hj.RTT = num(h.RTT)
				}
				tj.Hops = append(tj.Hops, hj)
			}
		}
		out = append(out, tj)
	}
	return out
}

// writeTraceTable prints one summary line per traced pair under the grid.
func writeTraceTable(w io.Writer, traces []mesh.TraceResult) error {
	var b strings.Builder
	fmt.Fprintf(&b, "\nTraceroutes (%d):\n", len(traces))
	width := 0
	for _, t := range traces {
		width = max(width, utf8.RuneCountInString(pairLabel(t)))
	}
	for _, t := range traces {
		label := pairLabel(t)
		fmt.Fprintf(&b, "  %s%s  ", label, strings.Repeat(" ", width-utf8.RuneCountInString(label)))
		switch {
		case !t.Measured():
			fmt.Fprintf(&b, "! %s\n", t.Err)
		default:
			silent := 0
			for _, h := range t.Hops {
				if h.NoResponse {
					silent++
				}
			}
			reach := fmt.Sprintf("reached in %d hops, %s", t.FinalHopTTL, formatMs(t.FinalHopRTT))
			if t.Failed {
				reach = fmt.Sprintf("destination did not answer (last answer at ttl %d)", lastAnswer(t))
			}
			fmt.Fprintf(&b, "%s %s, %d silent; AS path %s\n", t.Proto, reach, silent, orDash(t.ASPath))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func pairLabel(t mesh.TraceResult) string {
	return fmt.Sprintf("%s→%s (%s)", t.SrcPop, t.DstPop, t.Src)
}

func lastAnswer(t mesh.TraceResult) int {
	last := 0
	for _, h := range t.Hops {
		if !h.NoResponse {
			last = h.TTL
		}
	}
	return last
}

func formatMs(v float64) string {
	if p := num(v); p != nil {
		return fmt.Sprintf("%.1f ms", *p)
	}
	return "? ms"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
