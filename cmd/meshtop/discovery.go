package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/meshtop/meshtop/internal/scrub"
	"github.com/meshtop/meshtop/internal/secretfile"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/settings"
	"github.com/meshtop/meshtop/stackpath"
)

// discoveryOptions find the agents: an inventory (file or URL), DNS, or a StackPath
// workload. live and serve follow them while they run (discovery_follow.go).
type discoveryOptions struct {
	inventory    string
	discoverURL  string
	rediscover   time.Duration
	stackpathURL string
	stackID      string
	workloadID   string
	clientID     string
	scouterPort  int
	secretFile   string

	// src is the agents' source, made by the first discovery and asked again by live
	// and serve; notices are what it says that is not a failure.
	src     *agentSource
	notices noticeSink
}

func addDiscoveryFlags(cmd *cobra.Command, o *discoveryOptions) {
	f := cmd.Flags()
	f.StringVar(&o.inventory, "inventory", "", "inventory `FILE` or https:// URL (YAML) listing the agents; live and serve follow its changes")
	f.StringVar(&o.discoverURL, "discover", "", "find the agents by DNS at `URL`: dns://NAME[:PORT] (every A/AAAA record an agent; port default --scouter-port) or dnssrv://_SERVICE._tcp.DOMAIN (SRV records); PoP and labels from each agent's /status")
	f.DurationVar(&o.rediscover, "rediscover", 0, "how often live and serve look for agents again (0: an inventory file every 2s, read only when changed; a URL every 2m; DNS every interval/2; StackPath every 10m)")
	f.StringVar(&o.stackpathURL, "stackpath-url", "https://gateway.stackpath.com", "StackPath API base `URL`")
	f.StringVar(&o.stackID, "stack-id", "", "StackPath stack `ID` (env SP_STACK_ID)")
	f.StringVar(&o.workloadID, "workload-id", "", "StackPath workload `ID` of the agents (env SCOUTER_WORKLOAD_ID)")
	f.StringVar(&o.clientID, "client-id", "", "StackPath API client `ID` (env SP_API_CLIENT_ID); secret: env SP_API_CLIENT_SECRET")
	f.IntVar(&o.scouterPort, "scouter-port", 8000, "agent API `PORT` for discovered agents and inventory entries without url")
	f.StringVar(&o.secretFile, "scouter-secret-file", "", "read the agents' shared secret from `FILE` (default: env SCOUTER_SECRET)")
	settings.MarkExclusive(cmd, "inventory", "discover")
}

// stackpathAgents discovers the agents of a StackPath workload.
func (o *discoveryOptions) stackpathAgents(ctx context.Context) ([]mesh.Agent, error) {
	if o.stackID == "" || o.workloadID == "" {
		return nil, errors.New("no agents: give --inventory FILE (or URL), --discover dns://NAME, or --stack-id and --workload-id " +
			"(env SP_STACK_ID, SCOUTER_WORKLOAD_ID) with SP_API_CLIENT_ID and SP_API_CLIENT_SECRET in the environment; " +
			"`meshtop lab` builds a local demo mesh")
	}
	secret := os.Getenv("SP_API_CLIENT_SECRET")
	if o.clientID == "" || secret == "" {
		return nil, errors.New("StackPath discovery needs SP_API_CLIENT_ID (or --client-id) and SP_API_CLIENT_SECRET in the environment")
	}
	sp := stackpath.New(o.stackpathURL, o.clientID, secret)
	inst, err := sp.Instances(ctx, o.stackID, o.workloadID)
	if err != nil {
		return nil, fmt.Errorf("discover agents of workload %s: %w", o.workloadID, err)
	}
	as, skipped := stackpath.ToAgents(inst, o.scouterPort)
	if len(as) == 0 {
		why := make([]string, 0, len(skipped))
		for _, s := range skipped {
			why = append(why, fmt.Sprintf("%s (%s)", s.Name, s.Reason))
		}
		if len(why) > 5 {
			why = append(why[:5], fmt.Sprintf("and %d more", len(skipped)-5))
		}
		msg := fmt.Sprintf("workload %s in stack %s has no usable RUNNING instance", o.workloadID, o.stackID)
		if len(why) > 0 {
			msg += ": skipped " + strings.Join(why, ", ")
		}
		return nil, errors.New(msg)
	}
	return as, nil
}

// discover returns the agents and the shared secret to reach them.
func (o *discoveryOptions) discover(ctx context.Context) (string, []mesh.Agent, error) {
	secret, err := o.secret()
	if err != nil {
		return "", nil, err
	}
	src, err := o.source(secret)
	if err != nil {
		return "", nil, err
	}
	agents, err := src.agents(ctx)
	if err != nil {
		return "", nil, err
	}
	if err := o.enoughAgents(agents); err != nil {
		return "", nil, err
	}
	return secret, agents, nil
}

// enoughAgents refuses a mesh of fewer than two agents: each agent measures the others,
// so one agent alone measures nothing (an empty grid that looks like a healthy mesh).
func (o *discoveryOptions) enoughAgents(agents []mesh.Agent) error {
	if len(agents) >= 2 {
		return nil
	}
	from := "the StackPath workload " + o.workloadID
	switch {
	case o.inventory != "":
		from = "inventory " + o.inventory
	case o.discoverURL != "":
		from = o.discoverURL
	}
	found := "no agent"
	if len(agents) == 1 {
		found = fmt.Sprintf("one agent (%s in %s)", agents[0].Name, agents[0].Pop)
	}
	return fmt.Errorf("a mesh needs at least two agents, and %s has %s: add another agent (every agent pings and traceroutes the others); `meshtop lab` runs a demo mesh", from, found)
}

// secret reads the agents' shared secret: --scouter-secret-file, else env SCOUTER_SECRET.
// Never a flag value: argv is visible to every user of the machine.
func (o *discoveryOptions) secret() (string, error) {
	if o.secretFile != "" {
		s, err := secretfile.Read(o.secretFile)
		if err != nil {
			return "", fmt.Errorf("--scouter-secret-file: %w", err)
		}
		return s, nil
	}
	s := os.Getenv("SCOUTER_SECRET")
	scrub.Add(s) // before any text from outside is shown, even StackPath's
	return s, nil
}

// agents discovers the agents once.
func (o *discoveryOptions) agents(ctx context.Context) ([]mesh.Agent, error) {
	_, as, err := o.discover(ctx)
	return as, err
}
