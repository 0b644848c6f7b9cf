package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/meshtop/meshtop/dnsdisc"
	"github.com/meshtop/meshtop/inventory"
	"github.com/meshtop/meshtop/live"
	"github.com/meshtop/meshtop/mesh"
)

// agentSource is where the agents come from, asked once by snapshot and collect and
// again every `every` by live and serve (live.Loop.Discover).
type agentSource struct {
	what   string // for messages: "inventory agents.yaml", "dns://..."
	agents func(context.Context) ([]mesh.Agent, error)
	// every is the source's own pace (--rediscover 0): a file is cheap to stat, DNS
	// follows the interval, a URL and StackPath are asked every few minutes.
	every func(interval time.Duration) time.Duration
}

// source builds the agents' source from the flags, once.
func (o *discoveryOptions) source(secret string) (*agentSource, error) {
	if o.src != nil {
		return o.src, nil
	}
	switch {
	case o.inventory != "" && inventory.IsURL(o.inventory):
		if msg := inventory.CheckURL(o.inventory); msg != "" {
			return nil, fmt.Errorf("--inventory: %s", msg)
		}
		r := &inventory.Remote{URL: o.inventory, Port: o.scouterPort}
		o.src = &agentSource{what: "inventory " + o.inventory, agents: r.Agents,
			every: func(time.Duration) time.Duration { return inventory.DefaultRemoteEvery }}
	case o.inventory != "":
		f := &inventory.File{Path: o.inventory, Port: o.scouterPort}
		o.src = &agentSource{what: "inventory " + o.inventory, agents: f.Agents,
			every: func(time.Duration) time.Duration { return 2 * time.Second }}
	case o.discoverURL != "":
		t, err := dnsdisc.Parse(o.discoverURL, o.scouterPort)
		if err != nil {
			return nil, err
		}
		d := &dnsdisc.Discoverer{Target: t, Secret: secret, Report: o.notices.report}
		o.src = &agentSource{what: t.String(), agents: d.Agents,
			// Twice an interval: a new agent joins within one interval of its record.
			every: func(interval time.Duration) time.Duration { return max(interval/2, time.Second) }}
	default:
		o.src = &agentSource{what: "StackPath workload " + o.workloadID, agents: o.stackpathAgents,
			every: func(time.Duration) time.Duration { return 10 * time.Minute }}
	}
	return o.src, nil
}

// follow makes loop look for agents again while it runs.
func (o *discoveryOptions) follow(loop *live.Loop) {
	if o.src == nil {
		return
	}
	every := o.rediscover
	if every <= 0 {
		every = o.src.every(loop.Interval)
	}
	src := o.src.agents
	var short struct { // the last "too few agents" said, and when
		msg  string
		said time.Time
	}
	loop.Discover = func(ctx context.Context) ([]mesh.Agent, error) {
		as, err := src(ctx)
		switch {
		case err != nil:
			return nil, lasting{err}
		case len(as) >= 2:
			short.msg = ""
			return as, nil
		}
		// A list shrunk below two agents (an edit, records removed) is refused as the
		// start refuses it: the loop keeps probing the last good list, and the reason
		// is said when it appears and again every inventory.RepeatProblem; between,
		// no list and no error keep the last good one quietly.
		msg := fmt.Sprintf("%v (refused: still probing the agents of the last good list)", o.enoughAgents(as))
		if msg == short.msg && time.Since(short.said) < inventory.RepeatProblem {
			return nil, nil
		}
		short.msg, short.said = msg, time.Now()
		return nil, lasting{errors.New(msg)}
	}
	loop.RediscoverEvery = every
	// A look may take a while (DNS, every new agent's /status, a slow list server):
	// it runs beside the sweeps, bounded.
	loop.DiscoverTimeout = min(max(every, 15*time.Second), live.DefaultDiscoverTimeout)
}

// noticeSink passes on what discovery says that is not a failure (an agent placed by
// its reverse DNS name): to the UI's status bar and serve's log once they exist; what
// comes before (the first discovery) waits for them, bounded.
type noticeSink struct {
	mu     sync.Mutex
	to     func(error)
	queued []error
}

const maxQueuedNotices = 32

func (n *noticeSink) report(err error) {
	err = notice{lasting{err}}
	n.mu.Lock()
	to := n.to
	if to == nil && len(n.queued) < maxQueuedNotices {
		n.queued = append(n.queued, err)
	}
	n.mu.Unlock()
	if to != nil {
		to(err)
	}
}

// attach sends what was queued, and everything after, to f.
func (n *noticeSink) attach(f func(error)) {
	n.mu.Lock()
	q := n.queued
	n.queued, n.to = nil, f
	n.mu.Unlock()
	for _, err := range q {
		f(err)
	}
}

// print writes what was queued to w (snapshot and collect: one discovery, no UI).
func (n *noticeSink) print(w io.Writer) {
	n.attach(func(err error) { fmt.Fprintln(w, "meshtop:", err) })
}

// lasting marks a discovery problem or notice for the status bar: it stays there
// (tui's StatusFor) rather than vanishing with the next grid update, and the source
// says it again while it lasts (inventory.RepeatProblem).
type lasting struct{ error }

func (l lasting) Unwrap() error { return l.error }

// notice is a lasting message that is no failure: the status bar says it as a note.
type notice struct{ lasting }

// Notice tells the status bar it is a note, not an error.
func (notice) Notice() bool { return true }

// StatusFor is how long the status bar shows it.
func (lasting) StatusFor() time.Duration { return 45 * time.Second }
