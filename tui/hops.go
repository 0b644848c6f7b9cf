package tui

import (
	"fmt"
	"math"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/meshtop/meshtop/internal/textsafe"
	"github.com/meshtop/meshtop/mesh"
)

// hopCol is one column of the per-hop table. Columns of low priority go first when the
// table does not fit.
type hopCol struct {
	title string
	w     int
	right bool
	prio  int
	val   func(h mesh.HopStat) string
}

// hop flags, in the flags column and explained under the table.
const (
	flagStep = "▲" // the RTT steps up most here
	flagLoss = "!" // loss from here on persists to the destination: path loss
	flagRate = "~" // loss here only: ICMP rate limiting, not path loss
)

func hopAddr(h mesh.HopStat) string {
	if len(h.Addrs) == 0 {
		return "*"
	}
	a := textsafe.Name(h.Addrs[0].Addr)
	if len(h.Addrs) > 1 {
		a += fmt.Sprintf(" %.0f%%", h.Addrs[0].Share*100)
	}
	return a
}

// hopCount is a row's answered/sent probes; a destination row made of pings says so.
func hopCount(h mesh.HopStat) string {
	s := fmt.Sprintf("%d/%d", h.Answered, h.Sent)
	if h.Pings > 0 {
		s += "p"
	}
	return s
}

func hopFlags(tb *mesh.HopTable, h mesh.HopStat) string {
	f := ""
	if h.TTL == tb.StepTTL {
		f += flagStep
	}
	if h.TTL == tb.LossTTL {
		f += flagLoss
	}
	if h.RateLimited {
		f += flagRate
	}
	return f
}

func hopNote(tb *mesh.HopTable, h mesh.HopStat) string {
	var notes []string
	if h.TTL == tb.StepTTL {
		notes = append(notes, fmt.Sprintf("RTT +%s ms", fmtMs(h.StepMs)))
	}
	if h.TTL == tb.LossTTL {
		notes = append(notes, "path loss from here")
	}
	if h.RateLimited {
		if h.Answered == 0 {
			notes = append(notes, "never answers: ICMP filtered")
		} else {
			notes = append(notes, "ICMP rate limit, not path loss")
		}
	}
	if !h.Judged && h.Answered < h.Sent {
		notes = append(notes, fmt.Sprintf("no verdict yet (%d probes)", h.Sent))
	}
	if h.Pings > 0 {
		notes = append(notes, "pings: "+plural(h.Pings, "test"))
	}
	return strings.Join(notes, "; ")
}

// renderHops draws a direction's per-hop statistics for one source agent, mtr-style,
// at most w columns wide.
func renderHops(tb *mesh.HopTable, w int, st *styles, lossTh mesh.Thresholds) []string {
	var lines []string
	add := func(s string) { lines = append(lines, ansi.Truncate(s, w, "…")) }
	if tb.ASPathOnly {
		add(st.dim.Render("no hop lists in this history (written by the workshop's collector): AS paths only"))
		return lines
	}
	if len(tb.Hops) == 0 {
		add(st.dim.Render("no hops in the traces"))
		return lines
	}
	addrW := 1
	for _, h := range tb.Hops {
		addrW = max(addrW, ansi.StringWidth(hopAddr(h)))
	}
	addrW = min(max(addrW, 7), 21)
	ms := func(f func(mesh.HopStat) float64) func(mesh.HopStat) string {
		return func(h mesh.HopStat) string { return fmtMs(f(h)) }
	}
	cols := []hopCol{
		{"ttl", 3, true, 10, func(h mesh.HopStat) string { return fmt.Sprint(h.TTL) }},
		{"address", addrW, false, 10, hopAddr},
		{"loss", 5, true, 9, func(h mesh.HopStat) string { return fmtPct(h.LossPct) + "%" }},
		{"", 2, false, 9, func(h mesh.HopStat) string { return hopFlags(tb, h) }},
		{"ans/snt", 8, true, 6, hopCount},
		{"last", 6, true, 5, ms(func(h mesh.HopStat) float64 { return h.Last })},
		{"avg", 6, true, 8, ms(func(h mesh.HopStat) float64 { return h.Avg })},
		{"best", 6, true, 4, ms(func(h mesh.HopStat) float64 { return h.Best })},
		{"wrst", 6, true, 4, ms(func(h mesh.HopStat) float64 { return h.Worst })},
		{"stdev", 6, true, 3, ms(func(h mesh.HopStat) float64 { return h.StdDev })},
		{"ASN", 8, false, 7, func(h mesh.HopStat) string {
			if h.ASN == 0 {
				return ""
			}
			return fmt.Sprintf("AS%d", h.ASN)
		}},
		{"name", 18, false, 2, func(h mesh.HopStat) string { return textsafe.Name(h.Name) }},
		{"note", 14, false, 1, func(h mesh.HopStat) string { return hopNote(tb, h) }},
	}
	total := func(cs []hopCol) int {
		n := 0
		for _, c := range cs {
			n += c.w + 1
		}
		return n - 1
	}
	for total(cols) > w && len(cols) > 3 {
		low := 0
		for i, c := range cols {
			if c.prio < cols[low].prio {
				low = i
			}
		}
		cols = append(cols[:low:low], cols[low+1:]...)
	}
	// The last column (name or note) takes what is left.
	if last := &cols[len(cols)-1]; last.prio <= 2 {
		last.w = max(last.w, w-total(cols)+last.w)
	}
	cell := func(c hopCol, s string) string {
		s = ansi.Truncate(s, c.w, "…")
		if c.right {
			return padLeft(s, c.w)
		}
		return pad(s, c.w)
	}
	var hdr []string
	for _, c := range cols {
		hdr = append(hdr, cell(c, c.title))
	}
	add(st.header.Render(strings.TrimRight(strings.Join(hdr, " "), " ")))
	hasNote := cols[len(cols)-1].title == "note"
	for _, h := range tb.Hops {
		parts := make([]string, 0, len(cols))
		for _, c := range cols {
			txt := cell(c, c.val(h))
			switch {
			case c.title == "loss" && h.Answered < h.Sent && h.RateLimited && !h.PathLoss:
				txt = st.dim.Render(txt)
			case c.title == "loss" && h.PathLoss && !st.noColor: // without colour the flag says it
				txt = classText(st, lossTh.Classify(h.LossPct, false), txt)
			case c.title == "" && h.TTL == tb.LossTTL:
				txt = st.bad.Render(txt)
			}
			parts = append(parts, txt)
		}
		line := strings.TrimRight(strings.Join(parts, " "), " ")
		if len(h.Addrs) == 0 {
			line = st.dim.Render(ansi.Strip(line))
		}
		add(line)
		// mtr lists every address that answered a ttl; so does this, under the first,
		// each with its own RTT (two routers are never one average).
		for i, a := range h.Addrs {
			if i == 0 && len(h.Addrs) > 1 && w > 60 {
				add(st.dim.Render(fmt.Sprintf("%s%s %.0f%%  avg %s ms", strings.Repeat(" ", 4), textsafe.Name(a.Addr), a.Share*100, fmtMs(a.Avg))))
			}
			if i == 0 {
				continue
			}
			extra := fmt.Sprintf("%s %.0f%%", textsafe.Name(a.Addr), a.Share*100)
			if w > 60 {
				extra += "  avg " + fmtMs(a.Avg) + " ms"
			}
			if a.Name != "" && w > 60 {
				extra += "  " + textsafe.Name(a.Name)
			}
			add(st.dim.Render(strings.Repeat(" ", 4) + extra))
		}
	}
	// Explain the marks that are on the table (the note column does it when shown).
	if !hasNote {
		var legend []string
		if tb.StepTTL > 0 {
			legend = append(legend, fmt.Sprintf("%s RTT steps up most (ttl %d)", flagStep, tb.StepTTL))
		}
		if tb.LossTTL > 0 {
			legend = append(legend, fmt.Sprintf("%s path loss from ttl %d", flagLoss, tb.LossTTL))
		}
		limited, silent := false, false
		for _, h := range tb.Hops {
			limited = limited || h.RateLimited && h.Answered > 0
			silent = silent || h.RateLimited && h.Answered == 0
		}
		if limited {
			legend = append(legend, flagRate+" ICMP rate limit, not path loss")
		}
		if silent {
			legend = append(legend, flagRate+" on * never answers ICMP (filtered), not path loss")
		}
		if n := unjudged(tb); n > 0 {
			legend = append(legend, fmt.Sprintf("no verdict below %d probes a hop (%d so far)", mesh.MinVerdictProbes, n))
		}
		if d := tb.Hops[len(tb.Hops)-1]; d.Pings > 0 {
			legend = append(legend, "p: destination row of the pings ("+plural(d.Pings, "test")+")")
		}
		for _, l := range packLines(legend, " · ", w) {
			add(st.dim.Render(l))
		}
	}
	return lines
}

// unjudged is the fewest probes of a lossy hop that has no verdict yet (0: none).
func unjudged(tb *mesh.HopTable) int {
	n := 0
	for _, h := range tb.Hops {
		if !h.Judged && h.Answered < h.Sent && (n == 0 || h.Sent < n) {
			n = h.Sent
		}
	}
	return n
}

// hopsTitle is the line over a hop table: which agent, how many traces, which of the
// PoP's agents it is.
func hopsTitle(tb *mesh.HopTable, idx, n int) string {
	s := fmt.Sprintf("hops %s → %s · %s, %d reached", textsafe.Name(tb.Src), textsafe.Name(tb.Dst), plural(tb.Traces, "trace"), tb.Reached)
	if n > 1 {
		s += fmt.Sprintf(" · agent %d/%d (a: next)", idx+1, n)
	}
	return s
}

// hopsSince says since when a table counts, when not the whole window: the current
// path since the route changed, or a reset (z); "" otherwise.
func hopsSince(tb *mesh.HopTable, paths int) string {
	var parts []string
	if !tb.Since.IsZero() {
		parts = append(parts, "from "+tb.Since.Local().Format("15:04:05")+" (z: reset)")
	}
	if paths > 1 && len(tb.Spans) > 0 {
		parts = append(parts, fmt.Sprintf("this path since %s (route changed; %s below)",
			tb.Spans[len(tb.Spans)-1].From.Local().Format("15:04:05"), plural(paths-1, "earlier path")))
	}
	return strings.Join(parts, " · ")
}

// classText paints text in a class's colour; without colour it carries the class's
// marker, so loss over a threshold never depends on colour.
func classText(st *styles, c mesh.Class, text string) string {
	if st.noColor {
		if m := strings.TrimSpace(classMarker[c]); m != "" {
			return text + m
		}
		return text
	}
	if c > mesh.Green && c <= mesh.Red {
		return st.class[c].Render(text)
	}
	return text
}

func fmtPct(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case v == 0 || v >= 10:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}
