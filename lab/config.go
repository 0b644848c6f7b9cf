//go:build linux

// Package lab builds a local latency mesh for meshtop: one network namespace per PoP,
// each with a TUN device and a real `meshtop agent` inside, and a WAN emulator in Go that
// forwards IP packets between the TUN devices with per-pair one-way delay, jitter and
// loss, and emulates router hops (TTL expiry answered with ICMP time exceeded from a
// router address that has an ASN in the lab's mmdb). The kernels meshtop is developed on
// have no `tc netem`, which is why the WAN lives in user space.
//
// Everything the lab makes is named with the prefix "mt-" and uses addresses from
// 198.18.0.0/15 only, checked unused in the root namespace first.
package lab

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/meshtop/meshtop/internal/yamlx"
)

// Prefix starts the name of every network namespace and link the lab makes, so that
// `meshtop lab down` can find them after a crash.
const Prefix = "mt-"

// DefaultName is the lab name when neither the config nor a flag gives one.
const DefaultName = "demo"

// ExampleConfig is a small lab config that shows every setting (`meshtop lab up --help`).
const ExampleConfig = `name: demo                      # 1-8 of a-z 0-9
pops: [ams, fra, {name: nyc, asn: 64604, org: "Lab NYC"}]
routers:                        # emulated routers, answer traceroutes
  - {name: atl, asn: 64701, org: "Lab Transatlantic"}
  - {name: bb, asn: 64702, icmp_loss: 50%}  # rate-limits ICMP; loss: real
default: {rtt: 100ms}           # every pair no link names
links:
  - {pops: [ams, fra], rtt: 8ms, jitter: 0.3ms, loss: 0.5%}
  - {pops: [ams, nyc], rtt: 76ms, via: [atl]}   # back: reversed
  - {pops: [fra, nyc], delay: 40ms, oneway: true}
scenario:                       # timed changes, repeated every 5m
  every: 5m
  events:
    - {at: 1m, pops: [ams, nyc], via: [bb, atl], note: route change}
    - {at: 2m, pops: [ams, fra], loss: 100%, note: outage}
    - {at: 150s, pops: [ams, fra], loss: 0.5%}
    - {at: 3m, router: atl, loss: 20%}
    - {at: 4m, router: atl, loss: 0%}
`

// Config describes a lab: its PoPs, the emulated routers and the links between PoPs.
//
//	name: demo
//	pops:
//	  - ams                         # or {name: ams, asn: 64601, org: "Lab AMS"}
//	  - fra
//	routers:
//	  - {name: tr1, asn: 64700, org: "Lab Transit Europe"}
//	default: {rtt: 100ms}            # pairs no link names
//	links:
//	  - {pops: [ams, fra], rtt: 8ms, jitter: 0.3ms, loss: 0.5%, via: [tr1]}
type Config struct {
	Name    string       `yaml:"name" json:"name"`
	Pops    []PopConfig  `yaml:"pops" json:"pops"`
	Routers []RouterSpec `yaml:"routers,omitempty" json:"routers,omitempty"`
	Default LinkSpec     `yaml:"default,omitempty" json:"default"`
	Links   []LinkSpec   `yaml:"links,omitempty" json:"links,omitempty"`
	// Scenario is a script of timed changes the forwarder plays while the lab runs.
	Scenario Scenario `yaml:"scenario,omitempty" json:"scenario,omitempty"`
}

// PopConfig is one PoP. Name is its PoP code (lower case, 1-8 of a-z0-9); ASN and Org
// go into the lab's mmdb for its mesh address (default AS 64601, 64602, ...).
type PopConfig struct {
	Name string `yaml:"name" json:"name"`
	ASN  uint32 `yaml:"asn,omitempty" json:"asn,omitempty"`
	Org  string `yaml:"org,omitempty" json:"org,omitempty"`
}

// UnmarshalYAML accepts a bare PoP code as well as the mapping form.
func (p *PopConfig) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		p.Name = n.Value
		return nil
	}
	type plain PopConfig
	var v plain
	if err := decodeStrict(n, &v); err != nil {
		return err
	}
	*p = PopConfig(v)
	return nil
}

// RouterSpec is an emulated router that paths can run through (`via`). Loss is the
// share of packets lost on the way into the router: probes that expire there,
// everything that passes it and the answers of later hops coming back through it, so
// the loss shows at this hop and every later one. ICMPLoss is the share of its own ICMP
// time-exceeded answers the router does not send, as a router that rate-limits ICMP
// does: the loss shows at this hop only. Both are drawn at random for every packet.
type RouterSpec struct {
	Name     string  `yaml:"name" json:"name"`
	ASN      uint32  `yaml:"asn" json:"asn"`
	Org      string  `yaml:"org,omitempty" json:"org,omitempty"`
	Loss     Percent `yaml:"loss,omitempty" json:"loss,omitempty"`
	ICMPLoss Percent `yaml:"icmp_loss,omitempty" json:"icmp_loss,omitempty"`
}

// Scenario is a script of changes: each event at its time after the lab started, the
// whole script again every Every (0: once).
//
//	scenario:
//	  every: 6m
//	  events:
//	    - {at: 45s, pops: [ams, nyc], via: [atl], note: route change}
//	    - {at: 90s, pops: [fra, sin], loss: 100%, note: outage}
//	    - {at: 2m, pops: [fra, sin], loss: 0%}
//	    - {at: 3m, router: atl, loss: 20%}
type Scenario struct {
	Every  Duration `yaml:"every,omitempty" json:"every,omitempty"`
	Events []Event  `yaml:"events,omitempty" json:"events,omitempty"`
}

// Event is one change of a Scenario: of the path between two PoPs (both ways unless
// OneWay; fields not given stay as they are), or of a router's loss.
type Event struct {
	At     Duration  `yaml:"at" json:"at"`
	Note   string    `yaml:"note,omitempty" json:"note,omitempty"`
	Pops   []string  `yaml:"pops,omitempty" json:"pops,omitempty"`
	RTT    *Duration `yaml:"rtt,omitempty" json:"rtt,omitempty"`
	Delay  *Duration `yaml:"delay,omitempty" json:"delay,omitempty"`
	Jitter *Duration `yaml:"jitter,omitempty" json:"jitter,omitempty"`
	Loss   *Percent  `yaml:"loss,omitempty" json:"loss,omitempty"`
	Via    *[]string `yaml:"via,omitempty" json:"via,omitempty"`
	OneWay bool      `yaml:"oneway,omitempty" json:"oneway,omitempty"`
	Router string    `yaml:"router,omitempty" json:"router,omitempty"`
	// ICMPLoss is for a router event.
	ICMPLoss *Percent `yaml:"icmp_loss,omitempty" json:"icmp_loss,omitempty"`
}

// pathUpdate is a path event as a forwarder change.
func (e Event) pathUpdate() PathUpdate {
	u := PathUpdate{Both: !e.OneWay}
	switch {
	case e.RTT != nil:
		d := time.Duration(*e.RTT) / 2
		u.Delay = &d
	case e.Delay != nil:
		d := time.Duration(*e.Delay)
		u.Delay = &d
	}
	if e.Jitter != nil {
		d := time.Duration(*e.Jitter)
		u.Jitter = &d
	}
	if e.Loss != nil {
		v := float64(*e.Loss)
		u.Loss = &v
	}
	if e.Via != nil {
		v := slices.Clone(*e.Via)
		u.Via = &v
	}
	return u
}

// routerUpdate is a router event as a forwarder change.
func (e Event) routerUpdate() RouterUpdate {
	var u RouterUpdate
	if e.Loss != nil {
		v := float64(*e.Loss)
		u.Loss = &v
	}
	if e.ICMPLoss != nil {
		v := float64(*e.ICMPLoss)
		u.ICMPLoss = &v
	}
	return u
}

// String says what the event does, for the forwarder's log.
func (e Event) String() string {
	what := "router " + e.Router
	if e.Router == "" {
		what = strings.Join(e.Pops, "-")
	}
	if e.Note != "" {
		what += " (" + e.Note + ")"
	}
	return what
}

// LinkSpec sets the path between two PoPs. RTT is split evenly into the two one-way
// delays; Delay sets the one-way delay directly (give one of them). Jitter is the
// largest one-way deviation (uniform, +/-), Loss the share of packets dropped in each
// direction. Via lists the routers from the first PoP towards the second; the way
// back uses them in reverse. OneWay applies the link to the first PoP's direction only.
type LinkSpec struct {
	Pops   []string `yaml:"pops,omitempty" json:"pops,omitempty"`
	RTT    Duration `yaml:"rtt,omitempty" json:"rtt,omitempty"`
	Delay  Duration `yaml:"delay,omitempty" json:"delay,omitempty"`
	Jitter Duration `yaml:"jitter,omitempty" json:"jitter,omitempty"`
	Loss   Percent  `yaml:"loss,omitempty" json:"loss,omitempty"`
	Via    []string `yaml:"via,omitempty" json:"via,omitempty"`
	OneWay bool     `yaml:"oneway,omitempty" json:"oneway,omitempty"`
}

// oneWay is the one-way delay the spec asks for.
func (l LinkSpec) oneWay() time.Duration {
	if l.Delay > 0 {
		return time.Duration(l.Delay)
	}
	return time.Duration(l.RTT) / 2
}

// Duration is a time.Duration written as "80ms" in YAML and JSON.
type Duration time.Duration

// UnmarshalYAML parses Go duration syntax ("80ms", "1.5s").
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the Go duration syntax.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// MarshalText writes the Go duration syntax (JSON).
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText parses the Go duration syntax (JSON).
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// ParseDuration parses a non-negative duration such as "80ms"; a bare 0 is allowed.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want a number with a unit, such as 80ms or 1.5s", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	return d, nil
}

// Percent is a share in percent, written "5%" or 5.
type Percent float64

// UnmarshalYAML parses "5%", "0.5%" or a bare number of percent.
func (p *Percent) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParsePercent(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*p = Percent(v)
	return nil
}

// ParsePercent parses "5%", "0.5%" or "5" (percent) into 0..100.
func ParsePercent(s string) (float64, error) {
	t := strings.TrimSuffix(strings.TrimSpace(s), "%")
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || v < 0 || v > 100 {
		return 0, fmt.Errorf("loss %q: want a percentage from 0%% to 100%%, such as 5%%", s)
	}
	return v, nil
}

var (
	labNameRe = regexp.MustCompile(`^[a-z0-9]{1,8}$`)
	popNameRe = regexp.MustCompile(`^[a-z0-9]{1,8}$`)
	routerRe  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,15}$`)
)

// maxPops bounds a lab by its address plan: one /30 per PoP in a /24 of API addresses.
const maxPops = 60

// maxConfigBytes bounds a lab config file: sixty PoPs with routers and a scenario fit
// in a few KiB.
const maxConfigBytes = 1 << 20

// LoadConfig reads a lab config file.
func LoadConfig(path string) (Config, error) {
	data, err := yamlx.ReadFile(path, maxConfigBytes, "a lab config")
	if err != nil {
		return Config{}, fmt.Errorf("read lab config: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("lab config %s: %w", path, err)
	}
	return c, nil
}

// ParseConfig decodes and validates a lab config (unknown keys are errors).
func ParseConfig(data []byte) (Config, error) {
	var c Config
	if ps := yamlx.DecodeStrict(data, &c); len(ps) > 0 {
		errs := make([]error, len(ps))
		for i, p := range ps {
			if p.Kind == yamlx.Unknown && p.Suggest != "" {
				p.Msg += fmt.Sprintf(" (did you mean %q?)", p.Suggest)
			}
			errs[i] = p
		}
		return Config{}, fmt.Errorf("invalid YAML: %w", errors.Join(errs...))
	}
	return c, c.Validate()
}

func decodeStrict(n *yaml.Node, v any) error { return yamlx.DecodeNodeStrict(n, v) }

// Validate checks names, references and values, and fills default ASNs. All problems
// are reported together.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Name == "" {
		c.Name = DefaultName
	}
	if !labNameRe.MatchString(c.Name) {
		bad("lab name %q: want 1-8 characters of a-z and 0-9 (it becomes part of interface names)", c.Name)
	}
	if len(c.Pops) < 2 {
		bad("a lab needs at least 2 pops, got %d", len(c.Pops))
	}
	if len(c.Pops) > maxPops {
		bad("a lab holds at most %d pops, got %d", maxPops, len(c.Pops))
	}
	seen := map[string]bool{}
	for i := range c.Pops {
		p := &c.Pops[i]
		if !popNameRe.MatchString(p.Name) {
			bad("pop %q: want 1-8 characters of a-z and 0-9", p.Name)
		}
		if seen[p.Name] {
			bad("pop %q is listed twice", p.Name)
		}
		seen[p.Name] = true
		if p.ASN == 0 {
			p.ASN = 64601 + uint32(i)
		}
		if p.Org == "" {
			p.Org = "meshtop lab PoP " + strings.ToUpper(p.Name)
		}
	}
	routers := map[string]bool{}
	for i := range c.Routers {
		r := &c.Routers[i]
		if !routerRe.MatchString(r.Name) {
			bad("router %q: want 1-16 characters of a-z, 0-9 and -", r.Name)
		}
		if routers[r.Name] {
			bad("router %q is listed twice", r.Name)
		}
		routers[r.Name] = true
		if r.ASN == 0 {
			bad("router %q has no asn", r.Name)
		}
		if r.Org == "" {
			r.Org = "meshtop lab router " + r.Name
		}
	}
	for _, r := range c.Routers {
		if r.Loss < 0 || r.Loss > 100 || r.ICMPLoss < 0 || r.ICMPLoss > 100 {
			bad("router %q: loss and icmp_loss must be 0-100%%", r.Name)
		}
	}
	if len(c.Routers) > 250 {
		bad("a lab holds at most 250 routers, got %d", len(c.Routers))
	}
	check := func(where string, l LinkSpec) {
		if l.RTT > 0 && l.Delay > 0 {
			bad("%s: give rtt or delay, not both", where)
		}
		if l.Loss < 0 || l.Loss > 100 {
			bad("%s: loss %v%% is out of 0-100%%", where, float64(l.Loss))
		}
		for _, v := range l.Via {
			if !routers[v] {
				bad("%s: via %q is not a router of this lab (routers: %s)", where, v, strings.Join(c.routerNames(), ", "))
			}
		}
	}
	if len(c.Default.Pops) > 0 || len(c.Default.Via) > 0 {
		bad("default: pops and via belong to links, not to the default")
	}
	check("default", c.Default)
	for i, l := range c.Links {
		where := fmt.Sprintf("links[%d]", i)
		if len(l.Pops) != 2 {
			bad("%s: pops must name exactly two pops, got %d", where, len(l.Pops))
			continue
		}
		where = fmt.Sprintf("link %s-%s", l.Pops[0], l.Pops[1])
		for _, p := range l.Pops {
			if !seen[p] {
				bad("%s: %q is not a pop of this lab", where, p)
			}
		}
		if l.Pops[0] == l.Pops[1] {
			bad("%s: a link joins two different pops", where)
		}
		check(where, l)
	}
	c.validateScenario(bad, seen, routers)
	return errors.Join(errs...)
}

// maxEvents bounds a scenario.
const maxEvents = 1000

func (c *Config) validateScenario(bad func(string, ...any), pops, routers map[string]bool) {
	sc := c.Scenario
	if len(sc.Events) > maxEvents {
		bad("scenario: at most %d events, got %d", maxEvents, len(sc.Events))
		return
	}
	if sc.Every > 0 && sc.Every < Duration(time.Second) {
		bad("scenario: every %s is shorter than 1s", time.Duration(sc.Every))
	}
	for i, e := range sc.Events {
		where := fmt.Sprintf("scenario event %d (at %s)", i+1, time.Duration(e.At))
		if sc.Every > 0 && e.At >= sc.Every {
			bad("%s: at must be before every (%s)", where, time.Duration(sc.Every))
		}
		pct := func(name string, p *Percent) {
			if p != nil && (*p < 0 || *p > 100) {
				bad("%s: %s %v%% is out of 0-100%%", where, name, float64(*p))
			}
		}
		pct("loss", e.Loss)
		pct("icmp_loss", e.ICMPLoss)
		switch {
		case e.Router != "" && len(e.Pops) > 0:
			bad("%s: give pops or router, not both", where)
		case e.Router != "":
			if !routers[e.Router] {
				bad("%s: router %q is not a router of this lab", where, e.Router)
			}
			if e.RTT != nil || e.Delay != nil || e.Jitter != nil || e.Via != nil || e.OneWay {
				bad("%s: a router event sets loss and icmp_loss only", where)
			}
			if e.Loss == nil && e.ICMPLoss == nil {
				bad("%s: nothing to change (loss, icmp_loss)", where)
			}
		case len(e.Pops) != 2:
			bad("%s: pops must name exactly two pops (or give router)", where)
		default:
			for _, p := range e.Pops {
				if !pops[p] {
					bad("%s: %q is not a pop of this lab", where, p)
				}
			}
			if e.Pops[0] == e.Pops[1] {
				bad("%s: a path joins two different pops", where)
			}
			if e.RTT != nil && e.Delay != nil {
				bad("%s: give rtt or delay, not both", where)
			}
			if e.ICMPLoss != nil {
				bad("%s: icmp_loss belongs to a router event", where)
			}
			if e.Via != nil {
				for _, v := range *e.Via {
					if !routers[v] {
						bad("%s: via %q is not a router of this lab", where, v)
					}
				}
			}
			if e.RTT == nil && e.Delay == nil && e.Jitter == nil && e.Loss == nil && e.Via == nil {
				bad("%s: nothing to change (rtt, delay, jitter, loss, via)", where)
			}
		}
	}
}

func (c *Config) routerNames() []string {
	var out []string
	for _, r := range c.Routers {
		out = append(out, r.Name)
	}
	return out
}

func (c *Config) popIndex(name string) int {
	return slices.IndexFunc(c.Pops, func(p PopConfig) bool { return p.Name == name })
}

// Path is the emulated one-way path from one PoP to another.
type Path struct {
	Delay  time.Duration `json:"delay"`
	Jitter time.Duration `json:"jitter"`
	Loss   float64       `json:"loss_pct"`
	Via    []string      `json:"via,omitempty"` // router names, in travel order
}

// Paths expands the config into the one-way path of every ordered PoP pair:
// paths[i][j] is from Pops[i] to Pops[j]. Later links override earlier ones.
func (c *Config) Paths() [][]Path {
	n := len(c.Pops)
	out := make([][]Path, n)
	def := Path{Delay: c.Default.oneWay(), Jitter: time.Duration(c.Default.Jitter), Loss: float64(c.Default.Loss)}
	for i := range out {
		out[i] = make([]Path, n)
		for j := range out[i] {
			out[i][j] = def
		}
	}
	for _, l := range c.Links {
		a, b := c.popIndex(l.Pops[0]), c.popIndex(l.Pops[1])
		if a < 0 || b < 0 {
			continue
		}
		p := Path{Delay: l.oneWay(), Jitter: time.Duration(l.Jitter), Loss: float64(l.Loss), Via: slices.Clone(l.Via)}
		out[a][b] = p
		if !l.OneWay {
			back := p
			back.Via = slices.Clone(l.Via)
			slices.Reverse(back.Via)
			out[b][a] = back
		}
	}
	return out
}
