package tui

import "charm.land/bubbles/v2/key"

// detailKeyMap holds the drill-down's own bindings; the shared ones (esc, ?, q, r) stay
// in keyMap.
type detailKeyMap struct {
	PrevCol, NextCol key.Binding
	PrevRow, NextRow key.Binding
	Reverse          key.Binding
	Agent            key.Binding
	Probes           key.Binding
	ResetHops        key.Binding
	NextSection      key.Binding
	PrevSection      key.Binding
	Scroll           key.Binding // help only: the viewport's own keys
}

var detailKeys = detailKeyMap{
	PrevCol:     key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "prev column")),
	NextCol:     key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "next column")),
	PrevRow:     key.NewBinding(key.WithKeys("shift+up", "K"), key.WithHelp("⇧↑/K", "prev row")),
	NextRow:     key.NewBinding(key.WithKeys("shift+down", "J"), key.WithHelp("⇧↓/J", "next row")),
	Reverse:     key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "reverse")),
	Agent:       key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "next agent")),
	Probes:      key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "probes")),
	ResetHops:   key.NewBinding(key.WithKeys("z"), key.WithHelp("z", "hop stats from now")),
	NextSection: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next section")),
	PrevSection: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("⇧tab", "prev section")),
	Scroll:      key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑↓/pgdn", "scroll")),
}

// detailHelp is the help of the drill-down. The metric keys are not offered: every
// metric is on screen at once there.
type detailHelp struct{ k keyMap }

func (h detailHelp) ShortHelp() []key.Binding {
	d := detailKeys
	return []key.Binding{h.k.Back, d.PrevCol, d.NextCol, d.Reverse, d.NextSection, h.k.Help, h.k.Quit}
}

func (h detailHelp) FullHelp() [][]key.Binding {
	d := detailKeys
	return [][]key.Binding{
		{h.k.Back, d.PrevCol, d.NextCol, d.PrevRow, d.NextRow, d.Reverse},
		{d.Scroll, d.NextSection, d.PrevSection, h.k.PageUp, h.k.PageDown},
		{d.Agent, d.Probes, d.ResetHops, h.k.Refresh, h.k.Help, h.k.Quit},
	}
}
