package mesh

import (
	"fmt"
	"math"
	"strconv"
)

// Plausibility limits for values that come from outside (agents, InfluxDB, files). A
// value beyond them is not a measurement but a broken or hostile source: the result is
// turned into that pair's error and never shown as a cell value or recorded.
const (
	// MaxRTTms is the largest RTT taken as real: a minute. Nothing a ping agent reports
	// can take longer (count <= 20 probes a second apart plus a few seconds' wait).
	MaxRTTms = 60_000
	// MaxProbes bounds sent/recv and the probe list (Scouter allows count 1..20).
	MaxProbes = 1000
	// MaxHopProbes bounds the probes per hop of one trace (meshtop's `probes` option).
	MaxHopProbes = 10
	// MaxJitterPct bounds jitter_pct: jitter_ms/avg*100 can exceed 100 on real paths,
	// but not by orders of magnitude.
	MaxJitterPct = 100_000
	// MaxTTL bounds traceroute TTLs and hop counts.
	MaxTTL = 255
	// rttSlack absorbs the 3-decimal rounding of Scouter's rtt strings in min<=avg<=max.
	rttSlack = 0.0015
)

// ImplausibleError says which value of a result was impossible.
type ImplausibleError struct {
	Field string  // e.g. "loss"
	Value float64 // the value seen
	Unit  string  // "%", "ms", ""
	Why   string  // optional detail, e.g. "min > avg"
}

func (e *ImplausibleError) Error() string {
	s := "implausible value: " + e.Field + " " + strconv.FormatFloat(e.Value, 'g', 6, 64)
	if e.Unit != "" {
		s += " " + e.Unit
	}
	if e.Why != "" {
		s += " (" + e.Why + ")"
	}
	return s
}

func implausible(field string, v float64, unit, why string) error {
	return &ImplausibleError{Field: field, Value: v, Unit: unit, Why: why}
}

func rttOK(v float64) bool { return !math.IsNaN(v) && v >= 0 && v < MaxRTTms }

// Check reports the first impossible value of a measured ping result: loss outside
// 0..100, RTTs negative, non-finite or over MaxRTTms, min > avg or avg > max, recv >
// sent or counts over MaxProbes, jitter out of range. A result with Err set is not a
// measurement and checks as fine. Zero min/max (not known, e.g. read from InfluxDB,
// which keeps only the average) are not compared.
func (r PingResult) Check() error {
	if !r.Measured() {
		return nil
	}
	switch {
	case r.Sent < 0 || r.Sent > MaxProbes:
		return implausible("sent", float64(r.Sent), "", fmt.Sprintf("want 0..%d", MaxProbes))
	case r.Recv < 0 || r.Recv > MaxProbes:
		return implausible("recv", float64(r.Recv), "", fmt.Sprintf("want 0..%d", MaxProbes))
	case r.Sent > 0 && r.Recv > r.Sent:
		return implausible("recv", float64(r.Recv), "", "more replies than probes sent ("+strconv.Itoa(r.Sent)+")")
	case len(r.Probes) > MaxProbes:
		return implausible("probes", float64(len(r.Probes)), "", fmt.Sprintf("want at most %d", MaxProbes))
	case math.IsNaN(r.LossPct) || r.LossPct < 0 || r.LossPct > 100:
		return implausible("loss", r.LossPct, "%", "want 0..100")
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"min rtt", r.MinRTT}, {"avg rtt", r.AvgRTT}, {"max rtt", r.MaxRTT}, {"jitter", r.JitterMs}} {
		if !rttOK(f.v) {
			return implausible(f.name, f.v, "ms", fmt.Sprintf("want 0..%d", MaxRTTms))
		}
	}
	if math.IsNaN(r.JitterPct) || r.JitterPct < 0 || r.JitterPct > MaxJitterPct {
		return implausible("jitter", r.JitterPct, "%", fmt.Sprintf("want 0..%d", MaxJitterPct))
	}
	if r.MinRTT > 0 && r.AvgRTT > 0 && r.MinRTT > r.AvgRTT+rttSlack {
		return implausible("min rtt", r.MinRTT, "ms", "min > avg "+strconv.FormatFloat(r.AvgRTT, 'g', 6, 64))
	}
	if r.MaxRTT > 0 && r.AvgRTT > r.MaxRTT+rttSlack {
		return implausible("avg rtt", r.AvgRTT, "ms", "avg > max "+strconv.FormatFloat(r.MaxRTT, 'g', 6, 64))
	}
	for i, p := range r.Probes {
		if !rttOK(p) {
			return implausible("probe "+strconv.Itoa(i)+" rtt", p, "ms", fmt.Sprintf("want 0..%d", MaxRTTms))
		}
	}
	return nil
}

// Check reports the first impossible value of a measured trace: TTLs out of 1..MaxTTL,
// more hops than MaxTTL, hop RTTs negative, non-finite or over MaxRTTms.
func (r TraceResult) Check() error {
	if !r.Measured() {
		return nil
	}
	if len(r.Hops) > MaxTTL {
		return implausible("hops", float64(len(r.Hops)), "", fmt.Sprintf("want at most %d", MaxTTL))
	}
	for _, h := range r.Hops {
		if h.TTL < 1 || h.TTL > MaxTTL {
			return implausible("hop ttl", float64(h.TTL), "", fmt.Sprintf("want 1..%d", MaxTTL))
		}
		if !rttOK(h.RTT) {
			return implausible("hop "+strconv.Itoa(h.TTL)+" rtt", h.RTT, "ms", fmt.Sprintf("want 0..%d", MaxRTTms))
		}
		if h.ASN < 0 || int64(h.ASN) > math.MaxUint32 {
			return implausible("hop "+strconv.Itoa(h.TTL)+" asn", float64(h.ASN), "", "want 0..4294967295")
		}
		if len(h.Probes) > MaxHopProbes {
			return implausible("hop "+strconv.Itoa(h.TTL)+" probes", float64(len(h.Probes)), "", fmt.Sprintf("want at most %d", MaxHopProbes))
		}
		for _, p := range h.Probes {
			if !rttOK(p.RTT) {
				return implausible("hop "+strconv.Itoa(h.TTL)+" probe rtt", p.RTT, "ms", fmt.Sprintf("want 0..%d", MaxRTTms))
			}
		}
	}
	// The hops first: they name the culprit; the final hop is derived from them.
	if r.FinalHopTTL < 0 || r.FinalHopTTL > MaxTTL {
		return implausible("final hop ttl", float64(r.FinalHopTTL), "", fmt.Sprintf("want 0..%d", MaxTTL))
	}
	if !rttOK(r.FinalHopRTT) {
		return implausible("final hop rtt", r.FinalHopRTT, "ms", fmt.Sprintf("want 0..%d", MaxRTTms))
	}
	return nil
}
