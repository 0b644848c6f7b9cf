package tui

import (
	"charm.land/bubbles/v2/key"

	"github.com/meshtop/meshtop/mesh"
)

// keyMap declares every binding once; help renders from it.
type keyMap struct {
	Up, Down, Left, Right           key.Binding
	PageUp, PageDown, Home, End     key.Binding
	Metric, Stat, Sort, Filter      key.Binding
	Transpose, Enter, Back, Refresh key.Binding
	Help, Quit                      key.Binding
	Panel, Regions, Events          key.Binding
	// HealthKey selects the health view; MetricKeys select mesh.Metrics[i], built from
	// the metric table.
	HealthKey  key.Binding
	MetricKeys []key.Binding
}

// newKeyMap builds the bindings; what `r` does depends on the source.
func newKeyMap(caps Capabilities) keyMap {
	refresh := "reload"
	if caps.Sweeps {
		refresh = "sweep now"
	}
	return withMetricKeys(keyMap{
		Up:        key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:      key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Left:      key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "left")),
		Right:     key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "right")),
		PageUp:    key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown:  key.NewBinding(key.WithKeys("pgdown", "ctrl+f", "space"), key.WithHelp("pgdn", "page down")),
		Home:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("home/g", "first")),
		End:       key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("end/G", "last")),
		Metric:    key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "view")),
		HealthKey: key.NewBinding(key.WithKeys("0"), key.WithHelp("0", "health")),
		Stat:      key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "stat")),
		Sort:      key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "sort")),
		Filter:    key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Transpose: key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "transpose")),
		Enter:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "drill down")),
		Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Refresh:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", refresh)),
		Panel:     key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "panel")),
		Regions:   key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "regions")),
		Events:    key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "events")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:      key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	})
}

// withMetricKeys adds one key per metric, from the metric table.
func withMetricKeys(k keyMap) keyMap {
	for _, m := range mesh.Metrics {
		sp := m.Spec()
		k.MetricKeys = append(k.MetricKeys, key.NewBinding(key.WithKeys(sp.Key), key.WithHelp(sp.Key, sp.Help)))
	}
	return k
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
		append(append([]key.Binding{h.k.Metric, h.k.HealthKey}, h.k.MetricKeys...), h.k.Stat),
		{h.k.Sort, h.k.Filter, h.k.Transpose, h.k.Regions, h.k.Panel, h.k.Events},
		{h.k.Enter, h.k.Refresh, h.k.Help, h.k.Quit},
		h.extra,
	}
}

// detailHelp (the drill-down's help) is in detail_keys.go.
