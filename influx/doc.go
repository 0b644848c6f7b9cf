// Package influx reads and writes meshtop's data in InfluxDB 1.x, in the workshop's
// schema (SPEC 6): measurements ping and traceroute, tags src_pop, dst_pop, src_slug,
// dst, public_ip (and proto, dport), one point per agent pair per sweep, all points of a
// sweep on the sweep's timestamp.
//
// Reader serves the TUI and snapshot from history: the whole mesh over a window in one
// request (Matrix), one pair's bucketed history (PairHistory) and its traceroutes
// (PairTraces). It copes with the type quirk of workshop databases: fields written as
// strings by the collector, and fields whose type differs between shards.
//
// Recorder writes live sweeps (--record) with the field types the database already has,
// learning them from SHOW FIELD KEYS or, for a write-only user, from InfluxDB's "field
// type conflict" answers; it buffers through outages.
//
// Every value placed in InfluxQL goes through QuoteString or QuoteIdent; line protocol is
// encoded by influxdb1-client's point type, which escapes tags and field strings.
package influx
