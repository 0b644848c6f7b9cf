//go:build linux

package lab

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
)

// RunForwarder is `meshtop lab run`: it attaches to every PoP's TUN device of the named
// lab, serves the control socket and forwards packets until ctx ends.
func RunForwarder(ctx context.Context, stateDir, name string) error {
	if stateDir == "" {
		stateDir = DefaultStateDir
	}
	s, err := LoadState(stateDir, name)
	if err != nil {
		return err
	}
	// Spare Ps: an idle P parked in the network poller is what wakes a TUN reader the
	// moment a packet arrives (its arrival time starts the packet's delay), and the
	// scheduler coming back from its timerfd sleep finds a free P at once.
	runtime.GOMAXPROCS(max(runtime.GOMAXPROCS(0), len(s.Layout.Pops)+2))
	if err := realtimeSched(); err != nil {
		fmt.Fprintf(os.Stderr, "meshtop lab run: %v; RTTs may be less precise on a busy machine\n", err)
	}
	var tuns []io.ReadWriteCloser
	closeAll := func() {
		for _, t := range tuns {
			t.Close()
		}
	}
	for _, p := range s.Layout.Pops {
		t, err := openTUN(p.Netns, tunName)
		if err != nil {
			closeAll()
			return err
		}
		tuns = append(tuns, t)
	}
	f, err := NewForwarder(s.Layout, tuns, s.Config.Paths())
	if err != nil {
		closeAll()
		return err
	}
	if err := f.SetRouters(s.Config.Routers); err != nil {
		closeAll()
		return err
	}
	fmt.Fprintf(os.Stderr, "meshtop lab run: lab %s: forwarding between %d pops (mesh %s, routers %s)\n",
		name, len(s.Layout.Pops), s.Layout.MeshNet, s.Layout.RtrNet)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go f.Play(ctx, s.Config.Scenario, os.Stderr)
	errc := make(chan error, 1)
	go func() {
		err := ServeControl(ctx, s.Control(), f)
		if err != nil {
			cancel() // a lab nobody can reach is of no use: stop, lab up reports it
		}
		errc <- err
	}()
	ferr := f.Run(ctx)
	cancel()
	if cerr := <-errc; cerr != nil && ferr == nil {
		ferr = cerr
	}
	if ferr != nil {
		return fmt.Errorf("lab %s forwarder: %w", name, ferr)
	}
	return nil
}
