package tui

import (
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/meshtop/meshtop/mesh"
)

// cellColor is how one class paints a cell: colours as hex, "" for the terminal's own.
type cellColor struct {
	fg, bg string
	bold   bool
}

// classColors is the one place the classes' colours are defined, for the TUI and for
// plain-text output (`snapshot`) alike. Background colours with black text, as the
// workshop's dashboards painted cells. The colour-blind palette (Okabe-Ito) keeps the
// order readable for red-green deficiencies: blue, yellow, orange, vermillion.
func classColors(palette string) map[mesh.Class]cellColor {
	const black, white = "#000000", "#ffffff"
	c := map[mesh.Class]cellColor{
		mesh.Green:       {fg: black, bg: "#2e9e44"},
		mesh.Yellow:      {fg: black, bg: "#e5c100"},
		mesh.Orange:      {fg: black, bg: "#f07c12"},
		mesh.Red:         {fg: white, bg: "#d62d20", bold: true},
		mesh.NoData:      {fg: "#808080"},
		mesh.Unreachable: {fg: white, bg: "#6c3483"},
		// Stale: a dark grey that no palette uses for a colour, so old data never
		// passes for a healthy cell.
		mesh.Stale: {fg: "#d0d0d0", bg: "#4e4e4e"},
	}
	if palette == PaletteColorblind {
		c[mesh.Green] = cellColor{fg: white, bg: "#0072b2"}
		c[mesh.Yellow] = cellColor{fg: black, bg: "#f0e442"}
		c[mesh.Orange] = cellColor{fg: black, bg: "#e69f00"}
		c[mesh.Red] = cellColor{fg: white, bg: "#d55e00", bold: true}
	}
	return c
}

func (c cellColor) style() lipgloss.Style {
	st := lipgloss.NewStyle()
	if c.bg != "" {
		st = st.Background(lipgloss.Color(c.bg))
	}
	if c.fg != "" {
		st = st.Foreground(lipgloss.Color(c.fg))
	}
	if c.bold {
		st = st.Bold(true)
	}
	return st
}

func (c cellColor) sgr() string {
	var st ansi.Style
	if c.bold {
		st = st.Bold()
	}
	if c.fg != "" {
		st = st.ForegroundColor(lipgloss.Color(c.fg))
	}
	if c.bg != "" {
		st = st.BackgroundColor(lipgloss.Color(c.bg))
	}
	return st.String()
}

// ClassSGR is, per class, the SGR sequence that paints a cell in palette, for output
// that is not a Bubble Tea program (the `snapshot` table). End a painted cell with
// ansi.ResetStyle.
func ClassSGR(palette string) map[mesh.Class]string {
	out := map[mesh.Class]string{}
	for cl, c := range classColors(palette) {
		out[cl] = c.sgr()
	}
	return out
}

// ClassMarker is the text that carries a class without colour (+ yellow, * orange,
// ! red), as the grid shows it under NO_COLOR.
func ClassMarker(c mesh.Class) string { return classMarker[c] }
