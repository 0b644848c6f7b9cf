package tui

import (
	"image/color"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"charm.land/lipgloss/v2"

	"github.com/meshtop/meshtop/mesh"
)

// styles holds every style of the UI, built once per palette.
type styles struct {
	noColor  bool
	class    map[mesh.Class]lipgloss.Style
	cursor   lipgloss.Style
	header   lipgloss.Style
	headerHi lipgloss.Style
	title    lipgloss.Style
	dim      lipgloss.Style
	bad      lipgloss.Style
	good     lipgloss.Style
	band     lipgloss.Style
	line     lipgloss.Style
	status   lipgloss.Style
	hint     lipgloss.Style
}

// classMarker carries the class in text for NO_COLOR terminals, so the state of a cell
// never depends on colour alone.
var classMarker = map[mesh.Class]string{
	mesh.Green: " ", mesh.Yellow: "+", mesh.Orange: "*", mesh.Red: "!", mesh.Unreachable: " ", mesh.NoData: " ",
	mesh.Stale: " ", // its text starts with markStale
}

func newStyles(palette string, noColor bool) styles {
	s := styles{noColor: noColor, class: map[mesh.Class]lipgloss.Style{}}
	base := lipgloss.NewStyle()
	if noColor {
		for _, c := range []mesh.Class{mesh.NoData, mesh.Green, mesh.Yellow, mesh.Orange, mesh.Red, mesh.Unreachable, mesh.Stale} {
			s.class[c] = base
		}
		s.cursor = base.Reverse(true)
		s.header, s.headerHi, s.title = base, base.Reverse(true), base.Bold(true)
		s.dim, s.bad, s.good, s.band, s.line = base, base.Bold(true), base, base, base.Bold(true)
		s.status, s.hint = base, base
		return s
	}
	for c, col := range classColors(palette) {
		s.class[c] = col.style()
	}
	s.cursor = base.Reverse(true).Bold(true)
	s.header = base.Foreground(lipgloss.Color("#a0a0a0"))
	// Bold and bright rather than underlined: lipgloss underlines rune by rune, which
	// would triple the bytes of every header redraw.
	s.headerHi = base.Foreground(lipgloss.Color("#ffff5f")).Bold(true)
	s.title = base.Bold(true)
	s.dim = base.Foreground(lipgloss.Color("#808080"))
	s.bad = base.Foreground(lipgloss.Color("#ff5f5f")).Bold(true)
	s.good = base.Foreground(lipgloss.Color("#5fd75f"))
	s.band = base.Foreground(lipgloss.Color("#5f87af"))
	s.line = base.Foreground(lipgloss.Color("#ffd75f")).Bold(true)
	s.status = base.Foreground(lipgloss.Color("#c0c0c0"))
	s.hint = base.Foreground(lipgloss.Color("#ffaf5f"))
	return s
}

// sgr is a style as the escape sequences around its text, so a cell costs two string
// writes instead of a lipgloss Render (which the grid would call thousands of times per
// frame).
type sgr struct{ pre, post string }

// sgrOf builds a style's SGR sequence directly with x/ansi, in the order lipgloss
// renders the attributes this UI uses (so a cell is byte for byte what Render makes).
func sgrOf(st lipgloss.Style) sgr {
	var te ansi.Style
	if st.GetBold() {
		te = te.Bold()
	}
	if st.GetItalic() {
		te = te.Italic(true)
	}
	if st.GetUnderline() {
		te = te.Underline(true)
	}
	if st.GetReverse() {
		te = te.Reverse(true)
	}
	if st.GetBlink() {
		te = te.Blink(true)
	}
	if st.GetFaint() {
		te = te.Faint()
	}
	if fg := st.GetForeground(); !isNoColor(fg) {
		te = te.ForegroundColor(fg)
	}
	if bg := st.GetBackground(); !isNoColor(bg) {
		te = te.BackgroundColor(bg)
	}
	if len(te) == 0 {
		return sgr{}
	}
	return sgr{pre: te.String(), post: ansi.ResetStyle}
}

func isNoColor(c color.Color) bool {
	if c == nil {
		return true
	}
	_, none := c.(lipgloss.NoColor)
	return none
}

func (s sgr) wrap(b *strings.Builder, text string) {
	b.WriteString(s.pre)
	b.WriteString(text)
	b.WriteString(s.post)
}

// cellSGR holds the grid's per-class sequences, plain and selected.
type cellSGR struct {
	class, selected  map[mesh.Class]sgr
	header, headerHi sgr
	dim              sgr
	region           sgr // region summary headers
}

func (s styles) cellSGR() cellSGR {
	c := cellSGR{class: map[mesh.Class]sgr{}, selected: map[mesh.Class]sgr{}}
	for cl, st := range s.class {
		c.class[cl] = sgrOf(st)
		if s.noColor {
			c.selected[cl] = sgrOf(s.cursor)
		} else {
			c.selected[cl] = sgrOf(st.Reverse(true).Bold(true))
		}
	}
	c.header, c.headerHi, c.dim = sgrOf(s.header), sgrOf(s.headerHi), sgrOf(s.dim)
	c.region = sgrOf(s.title)
	return c
}

// swatch renders a legend entry for a class.
func (s styles) swatch(c mesh.Class, text string) string {
	if s.noColor {
		return classMarker[c] + text
	}
	return s.class[c].Render(" " + text + " ")
}
