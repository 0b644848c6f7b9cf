//go:build linux

package lab

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"
)

// Play runs the scenario sc on f from now until ctx ends: every event at its time after
// start, the whole script again every sc.Every (once when 0). Each applied event is
// logged; an event the forwarder refuses is logged and skipped (the config was
// validated, so that means a bug, not bad input).
func (f *Forwarder) Play(ctx context.Context, sc Scenario, log io.Writer) {
	if len(sc.Events) == 0 {
		return
	}
	events := slices.Clone(sc.Events)
	slices.SortStableFunc(events, func(a, b Event) int { return int(a.At - b.At) })
	start := time.Now()
	for cycle := 0; ; cycle++ {
		base := start.Add(time.Duration(cycle) * time.Duration(sc.Every))
		for _, e := range events {
			t := time.NewTimer(time.Until(base.Add(time.Duration(e.At))))
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			err := f.Apply(e)
			if err != nil {
				fmt.Fprintf(log, "scenario: %s: %v\n", e, err)
				continue
			}
			fmt.Fprintf(log, "scenario: %s applied at %s\n", e, time.Since(start).Round(time.Second))
		}
		if sc.Every <= 0 {
			return
		}
	}
}

// Apply makes one scenario event take effect.
func (f *Forwarder) Apply(e Event) error {
	if e.Router != "" {
		return f.SetRouter(e.Router, e.routerUpdate())
	}
	if len(e.Pops) != 2 {
		return fmt.Errorf("event names %d pops, want 2", len(e.Pops))
	}
	return f.SetPath(e.Pops[0], e.Pops[1], e.pathUpdate())
}
