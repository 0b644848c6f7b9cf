package stackpath

import (
	"cmp"
	"context"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/meshtop/meshtop/internal/textsafe"
	"github.com/meshtop/meshtop/mesh"
)

// popRE is the PoP code syntax the static inventory enforces too.
var popRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Skipped is an instance that did not become an agent, and why.
type Skipped struct {
	Name   string
	Phase  string
	Reason string
}

// Agents lists the RUNNING instances of a workload as agents whose API listens on
// port, sorted by PoP then name. Instances that are not RUNNING or have no usable
// address or city code are left out; ToAgents says which and why.
func (c *Client) Agents(ctx context.Context, stackID, workloadID string, port int) ([]mesh.Agent, error) {
	is, err := c.Instances(ctx, stackID, workloadID)
	if err != nil {
		return nil, err
	}
	agents, _ := ToAgents(is, port)
	return agents, nil
}

// ToAgents turns instances into agents (see Agents) and reports the ones it skipped.
func ToAgents(instances []Instance, port int) ([]mesh.Agent, []Skipped) {
	var (
		agents  []mesh.Agent
		skipped []Skipped
	)
	dup := map[string]bool{}
	for _, in := range instances {
		skip := func(reason string) {
			skipped = append(skipped, Skipped{Name: in.Name, Phase: in.Phase, Reason: reason})
		}
		if !strings.EqualFold(in.Phase, PhaseRunning) {
			skip("not running")
			continue
		}
		// Names and places are the API's text: shown, logged and recorded as tags.
		in.Name = textsafe.Name(strings.TrimSpace(in.Name))
		if in.Name == "" {
			skip("no name")
			continue
		}
		pop := strings.ToLower(strings.TrimSpace(in.Location.CityCode))
		if !popRE.MatchString(pop) {
			skip("no usable location.cityCode for a PoP code")
			continue
		}
		addr := ""
		for _, a := range []string{in.ExternalIPAddress, in.IPAddress} {
			if ip, err := netip.ParseAddr(strings.TrimSpace(a)); err == nil {
				addr = ip.String()
				break
			}
		}
		if addr == "" {
			skip("no address in externalIpAddress or ipAddress")
			continue
		}
		labels := map[string]string{}
		for k, v := range map[string]string{
			"region":    in.Location.RegionCode,
			"country":   in.Location.CountryCode,
			"continent": in.Location.ContinentCode,
			"city":      in.Location.Name,
		} {
			if v = textsafe.Name(v); v != "" {
				labels[k] = v
			}
		}
		if len(labels) == 0 {
			labels = nil
		}
		if dup[in.Name] {
			skip("listed twice")
			continue
		}
		dup[in.Name] = true
		agents = append(agents, mesh.Agent{
			Name:    in.Name,
			Pop:     pop,
			Address: addr,
			URL:     "http://" + net.JoinHostPort(addr, strconv.Itoa(port)),
			Labels:  labels,
		})
	}
	slices.SortFunc(agents, func(a, b mesh.Agent) int {
		return cmp.Or(cmp.Compare(a.Pop, b.Pop), cmp.Compare(a.Name, b.Name))
	})
	return agents, skipped
}
