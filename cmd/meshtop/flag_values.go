package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/meshtop/meshtop/internal/yamlx"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/tui"
)

// enumFlag is a flag that takes one of a few values. The table below is what shell
// completion offers and what `config check` accepts, so a value in the config file is
// checked (with its line) before the command that uses it runs.
type enumFlag struct {
	values []string // offered by completion, in help order
	help   []string // a description per value, for shells that show them
	// parse is the command's own parser where there is one (it also takes aliases such
	// as avg_rtt_ms); nil means one of values, case as given by fold.
	parse func(string) error
	fold  bool // values match case-insensitively (ICMP, icmp)
}

// enumFlags is keyed by flag name: a flag name means the same on every command.
var enumFlags = map[string]enumFlag{
	"metric": {values: mesh.ViewValues(), help: append([]string{"worst of latency, jitter ms and loss"}, metricTitles()...),
		parse: func(s string) error { _, err := mesh.ParseView(s); return err }},
	"stat": {values: statNames(), help: []string{"latest sweep", "mean over the window", "worst over the window", "95th percentile"},
		parse: func(s string) error { _, err := mesh.ParseStat(s); return err }},
	"fail-on": {values: []string{"yellow", "orange", "red"}, help: []string{"exit 2 at yellow or worse", "exit 2 at orange or red", "exit 2 at red"},
		parse: func(s string) error { _, err := mesh.ParseClass(s); return err }},
	"format":      {values: []string{"table", "json", "csv"}, help: []string{"aligned text", "stable JSON schema", "one row per pair"}},
	"palette":     {values: []string{tui.PaletteDefault, tui.PaletteColorblind}, help: []string{"green, yellow, orange, red", "blue to orange, safe for colour blindness"}},
	"source":      {values: []string{"live", "influx"}, help: []string{"one sweep through the agents", "InfluxDB history over --window"}},
	"trace-proto": {values: []string{"ICMP", "TCP"}, help: []string{"ICMP echo traceroute", "TCP SYN traceroute (--dport)"}, fold: true},
	"utility":     {values: []string{"ping", "traceroute", "both"}, help: []string{"ping tests", "traceroute tests", "ping and traceroute"}, fold: true},
	"log-format":  {values: []string{"text", "json"}, help: []string{"key=value lines", "one JSON object a line (journald, Loki)"}},
	"types":       {values: []string{"workshop", "numeric"}, help: []string{"field types of the workshop's databases", "every field numeric"}, fold: true},
}

func metricTitles() []string {
	out := make([]string, len(mesh.Metrics))
	for i, m := range mesh.Metrics {
		out[i] = m.Title()
	}
	return out
}

func statNames() []string {
	out := make([]string, len(mesh.Stats))
	for i, s := range mesh.Stats {
		out[i] = s.String()
	}
	return out
}

// check accepts what the command accepts and names the closest value otherwise.
func (e enumFlag) check(s string) error {
	ok := false
	switch {
	case e.parse != nil:
		ok = e.parse(s) == nil
	case e.fold:
		ok = slices.ContainsFunc(e.values, func(v string) bool { return strings.EqualFold(v, s) })
	default:
		ok = slices.Contains(e.values, s)
	}
	if ok {
		return nil
	}
	msg := fmt.Sprintf("%q: want %s", s, orList(e.values))
	if c := yamlx.Closest(s, e.values); c != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", c)
	}
	return fmt.Errorf("%s", msg)
}

// valueChecks are the config file's value checks, by flag name.
func valueChecks() map[string]func(string) error {
	out := map[string]func(string) error{}
	for name, e := range enumFlags {
		out[name] = e.check
	}
	return out
}

// orList writes "a, b or c".
func orList(vs []string) string {
	if len(vs) < 2 {
		return strings.Join(vs, "")
	}
	return strings.Join(vs[:len(vs)-1], ", ") + " or " + vs[len(vs)-1]
}
