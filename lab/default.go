//go:build linux

package lab

import "time"

// DefaultConfig is the lab that `meshtop lab` builds without --config: six PoPs on three
// continents with round-trip times close to what the public Internet shows between those
// cities, and transit routers on the long-haul paths so that traceroutes show multi-hop
// AS paths. It is also a demo of every state the grid has: a lossy path (lon-nyc), a
// slow one (nyc-sin, yellow) and one slower than a second (sjc-sin over a satellite
// backup, red), a jittery one (ams-sjc), a router that rate-limits its ICMP answers
// (us-bb: loss at that hop only), and a scenario that repeats every 6 minutes: a route
// change, a short outage and a lossy router whose loss carries on to every later hop.
func DefaultConfig() Config {
	ms := func(f float64) Duration { return Duration(time.Duration(f * float64(time.Millisecond))) }
	link := func(a, b string, rtt, jitter float64, loss Percent, via ...string) LinkSpec {
		return LinkSpec{Pops: []string{a, b}, RTT: ms(rtt), Jitter: ms(jitter), Loss: loss, Via: via}
	}
	pct := func(v float64) *Percent { p := Percent(v); return &p }
	via := func(r ...string) *[]string { return &r }
	sec := func(s float64) Duration { return Duration(time.Duration(s * float64(time.Second))) }
	c := Config{
		Name: DefaultName,
		Pops: []PopConfig{
			{Name: "ams", ASN: 64601, Org: "meshtop lab Amsterdam"},
			{Name: "fra", ASN: 64602, Org: "meshtop lab Frankfurt"},
			{Name: "lon", ASN: 64603, Org: "meshtop lab London"},
			{Name: "nyc", ASN: 64604, Org: "meshtop lab New York"},
			{Name: "sjc", ASN: 64605, Org: "meshtop lab San Jose"},
			{Name: "sin", ASN: 64606, Org: "meshtop lab Singapore"},
		},
		Routers: []RouterSpec{
			{Name: "eu-ix", ASN: 64700, Org: "Lab Transit Europe"},
			{Name: "atl", ASN: 64701, Org: "Lab Transatlantic"},
			{Name: "us-bb", ASN: 64702, Org: "Lab US Backbone", ICMPLoss: 50},
			{Name: "pac", ASN: 64703, Org: "Lab Transpacific"},
			{Name: "asia", ASN: 64704, Org: "Lab Asia Transit"},
			{Name: "sat", ASN: 64705, Org: "Lab Satellite Backup"},
		},
		Default: LinkSpec{RTT: ms(150), Jitter: ms(1)},
		Links: []LinkSpec{
			link("ams", "fra", 7.5, 0.2, 0),
			link("ams", "lon", 6.8, 0.2, 0),
			link("fra", "lon", 14.2, 0.3, 0, "eu-ix"),
			link("ams", "nyc", 76, 0.8, 0, "eu-ix", "atl"),
			link("fra", "nyc", 84, 0.8, 0, "eu-ix", "atl"),
			link("lon", "nyc", 70, 0.6, 3, "atl"),
			link("nyc", "sjc", 63, 0.7, 0, "us-bb"),
			link("ams", "sjc", 142, 25, 0, "eu-ix", "atl", "us-bb"),
			link("fra", "sjc", 150, 1.2, 0, "eu-ix", "atl", "us-bb"),
			link("lon", "sjc", 137, 1.1, 0, "atl", "us-bb"),
			link("sjc", "sin", 1150, 4, 0.5, "sat"),
			link("nyc", "sin", 320, 2.5, 0.5, "us-bb", "pac"),
			link("ams", "sin", 158, 1.8, 0, "eu-ix", "asia"),
			link("fra", "sin", 152, 1.8, 0, "eu-ix", "asia"),
			link("lon", "sin", 166, 2.0, 0.3, "asia"),
		},
		Scenario: Scenario{Every: sec(360), Events: []Event{
			{At: sec(40), Pops: []string{"ams", "nyc"}, Via: via("atl"), Note: "route change: ams-nyc leaves eu-ix"},
			{At: sec(100), Pops: []string{"fra", "sin"}, Loss: pct(100), Note: "outage fra-sin"},
			{At: sec(130), Pops: []string{"fra", "sin"}, Loss: pct(0), Note: "fra-sin back"},
			{At: sec(160), Pops: []string{"ams", "nyc"}, Via: via("eu-ix", "atl"), Note: "route change: ams-nyc back via eu-ix"},
			{At: sec(200), Router: "atl", Loss: pct(20), Note: "atl loses 20% (every hop after it too)"},
			{At: sec(290), Router: "atl", Loss: pct(0), Note: "atl recovers"},
		}},
	}
	return c
}
