package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/meshtop/meshtop/mesh"
)

// thresholdOptions override the colour thresholds per metric.
type thresholdOptions struct {
	values map[mesh.Metric]*string
}

func addThresholdFlags(cmd *cobra.Command, o *thresholdOptions) {
	o.values = map[mesh.Metric]*string{}
	def := mesh.DefaultThresholds()
	for _, m := range mesh.Metrics {
		o.values[m] = cmd.Flags().String("thresholds-"+m.String(), def[m].String(),
			fmt.Sprintf("%s thresholds t1,t2,t3 (green < t1 <= yellow < t2 <= orange < t3 <= red)", m.Title()))
	}
}

func (o *thresholdOptions) thresholds() (map[mesh.Metric]mesh.Thresholds, error) {
	out := mesh.DefaultThresholds()
	for m, v := range o.values {
		t, err := mesh.ParseThresholds(*v)
		if err != nil {
			return nil, fmt.Errorf("--thresholds-%s: %w", m, err)
		}
		out[m] = t
	}
	return out, nil
}
