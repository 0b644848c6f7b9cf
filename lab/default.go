//go:build linux

package lab

import "time"

// DefaultConfig is the lab that `meshtop lab` builds without --config: six PoPs on three
// continents with round-trip times close to what the public Internet shows between those
// cities, a little jitter, rare loss, and transit routers on the long-haul paths so that
// traceroutes show multi-hop AS paths.
func DefaultConfig() Config {
	ms := func(f float64) Duration { return Duration(time.Duration(f * float64(time.Millisecond))) }
	link := func(a, b string, rtt, jitter float64, loss Percent, via ...string) LinkSpec {
		return LinkSpec{Pops: []string{a, b}, RTT: ms(rtt), Jitter: ms(jitter), Loss: loss, Via: via}
	}
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
			{Name: "us-bb", ASN: 64702, Org: "Lab US Backbone"},
			{Name: "pac", ASN: 64703, Org: "Lab Transpacific"},
			{Name: "asia", ASN: 64704, Org: "Lab Asia Transit"},
		},
		Default: LinkSpec{RTT: ms(150), Jitter: ms(1)},
		Links: []LinkSpec{
			link("ams", "fra", 7.5, 0.2, 0),
			link("ams", "lon", 6.8, 0.2, 0),
			link("fra", "lon", 14.2, 0.3, 0, "eu-ix"),
			link("ams", "nyc", 76, 0.8, 0, "eu-ix", "atl"),
			link("fra", "nyc", 84, 0.8, 0, "eu-ix", "atl"),
			link("lon", "nyc", 70, 0.6, 0.2, "atl"),
			link("nyc", "sjc", 63, 0.7, 0, "us-bb"),
			link("ams", "sjc", 142, 1.2, 0, "eu-ix", "atl", "us-bb"),
			link("fra", "sjc", 150, 1.2, 0, "eu-ix", "atl", "us-bb"),
			link("lon", "sjc", 137, 1.1, 0, "atl", "us-bb"),
			link("sjc", "sin", 172, 1.5, 0.5, "pac"),
			link("nyc", "sin", 228, 2.5, 0.5, "us-bb", "pac"),
			link("ams", "sin", 158, 1.8, 0, "eu-ix", "asia"),
			link("fra", "sin", 152, 1.8, 0, "eu-ix", "asia"),
			link("lon", "sin", 166, 2.0, 0.3, "asia"),
		},
	}
	return c
}
