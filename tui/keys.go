package tui

import "charm.land/bubbles/v2/key"

// keyMap declares every binding once; help renders from it.
type keyMap struct {
	Up, Down, Left, Right           key.Binding
	PageUp, PageDown, Home, End     key.Binding
	Metric, Stat, Sort, Filter      key.Binding
	Transpose, Enter, Back, Refresh key.Binding
	Help, Quit                      key.Binding
	Latency, JitterPct, JitterMs    key.Binding
	Loss                            key.Binding
}

func newKeyMap() keyMap {
	return keyMap{
		Up:        key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:      key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Left:      key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "left")),
		Right:     key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "right")),
		PageUp:    key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown:  key.NewBinding(key.WithKeys("pgdown", "ctrl+f", "space"), key.WithHelp("pgdn", "page down")),
		Home:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("home/g", "first")),
		End:       key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("end/G", "last")),
		Metric:    key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "metric")),
		Latency:   key.NewBinding(key.WithKeys("1"), key.WithHelp("1", "latency")),
		JitterPct: key.NewBinding(key.WithKeys("2"), key.WithHelp("2", "jitter %")),
		JitterMs:  key.NewBinding(key.WithKeys("3"), key.WithHelp("3", "jitter ms")),
		Loss:      key.NewBinding(key.WithKeys("4"), key.WithHelp("4", "loss")),
		Stat:      key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "stat")),
		Sort:      key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "sort")),
		Filter:    key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Transpose: key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "transpose")),
		Enter:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "drill down")),
		Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Refresh:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "sweep now")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:      key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

// gridHelp is the help of the grid view.
type gridHelp struct {
	k     keyMap
	extra []key.Binding // history mode's time keys
}

func (h gridHelp) ShortHelp() []key.Binding {
	return []key.Binding{h.k.Enter, h.k.Metric, h.k.Stat, h.k.Sort, h.k.Filter, h.k.Help, h.k.Quit}
}

func (h gridHelp) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{h.k.Up, h.k.Down, h.k.Left, h.k.Right, h.k.PageUp, h.k.PageDown, h.k.Home, h.k.End},
		{h.k.Metric, h.k.Latency, h.k.JitterPct, h.k.JitterMs, h.k.Loss, h.k.Stat},
		{h.k.Sort, h.k.Filter, h.k.Transpose, h.k.Enter, h.k.Refresh, h.k.Help, h.k.Quit},
		h.extra,
	}
}

// detailHelp is the help of the drill-down.
type detailHelp struct{ k keyMap }

func (h detailHelp) ShortHelp() []key.Binding {
	return []key.Binding{h.k.Back, h.k.Up, h.k.Down, h.k.Metric, h.k.Help, h.k.Quit}
}

func (h detailHelp) FullHelp() [][]key.Binding {
	return [][]key.Binding{{h.k.Back, h.k.Up, h.k.Down, h.k.PageUp, h.k.PageDown}, {h.k.Refresh, h.k.Help, h.k.Quit}}
}
