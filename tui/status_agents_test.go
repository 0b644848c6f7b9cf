package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/meshtop/meshtop/mesh"
)

// The live bar's agent count follows re-discovery (AgentsMsg): an agent that DNS or an
// edited inventory adds is counted, one that leaves is not; history has no count.
func TestStatusCountsAgentsAsTheyComeAndGo(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		msgs   []tea.Msg
		want   string
		absent string
	}{
		{"at start", Config{Agents: 6, Window: "every 10s, keep 360"}, nil, "6 agents, every 10s, keep 360", ""},
		{"one joins", Config{Agents: 6, Window: "every 10s, keep 360"}, []tea.Msg{AgentsMsg{N: 7}}, "7 agents, every 10s, keep 360", "6 agents"},
		{"down to one", Config{Agents: 3, Window: "every 10s, keep 360"}, []tea.Msg{AgentsMsg{N: 4}, AgentsMsg{N: 1}}, "1 agent, every 10s", "4 agents"},
		{"history", Config{Window: "last 1h"}, nil, "last 1h", "agent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var model tea.Model = New(StoreSource{Store: mesh.NewStore(1)}, tt.cfg)
			model, _ = model.Update(tea.WindowSizeMsg{Width: 200, Height: 40})
			for _, msg := range tt.msgs {
				model, _ = model.Update(msg)
			}
			s := model.(Model).status.rendered
			if !strings.Contains(s, tt.want) {
				t.Errorf("bar %q lacks %q", s, tt.want)
			}
			if tt.absent != "" && strings.Contains(s, tt.absent) {
				t.Errorf("bar %q still says %q", s, tt.absent)
			}
		})
	}
}
