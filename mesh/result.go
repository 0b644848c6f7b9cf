package mesh

import (
	"strconv"
	"strings"
	"time"
)

// PingResult is one ping test from a source agent to a destination agent: one point of
// the InfluxDB `ping` measurement.
type PingResult struct {
	Time    time.Time `json:"time"`
	Src     string    `json:"src"`      // source agent name (src_slug)
	SrcPop  string    `json:"src_pop"`  // source PoP
	Dst     string    `json:"dst"`      // destination address, as pinged
	DstName string    `json:"dst_name"` // destination agent name, "" when unknown
	DstPop  string    `json:"dst_pop"`  // destination PoP, "Unknown" when unknown

	Sent    int     `json:"sent"`
	Recv    int     `json:"recv"`
	LossPct float64 `json:"loss_pct"`
	// RTT statistics over the answered probes, ms. All zero when Failed.
	MinRTT    float64 `json:"min_rtt_ms"`
	AvgRTT    float64 `json:"avg_rtt_ms"`
	MaxRTT    float64 `json:"max_rtt_ms"`
	JitterMs  float64 `json:"jitter_ms"`
	JitterPct float64 `json:"jitter_pct"`
	Failed    bool    `json:"failed"`
	// Probes holds each probe's RTT in ms in sequence order; a lost probe is 0 (the
	// workshop's probe_N_rtt_ms convention).
	Probes []float64 `json:"probes,omitempty"`

	// Err is set when the test could not be run or read (agent error, per-test message).
	// Such a result carries no measurement and is never shown as one.
	Err string `json:"error,omitempty"`
}

// Measured reports whether r carries a measurement (possibly a failed one) rather than
// an error that prevented measuring.
func (r PingResult) Measured() bool { return r.Err == "" }

// Hop is one TTL step of a traceroute. Addr and RTT are the hop's answer as upstream
// reports it (one probe per hop). Probes, when the agent sent several probes per hop
// (meshtop's agent), holds each probe's answer in the order sent; hop statistics count
// those instead.
type Hop struct {
	TTL        int        `json:"ttl"`
	Addr       string     `json:"addr,omitempty"`
	Name       string     `json:"name,omitempty"`
	ASN        int        `json:"asn,omitempty"` // 0 when unknown
	RTT        float64    `json:"rtt_ms,omitempty"`
	NoResponse bool       `json:"no_response,omitempty"`
	Probes     []HopProbe `json:"probes,omitempty"`
}

// HopProbe is one probe's answer at a hop; Addr is empty for a lost probe.
type HopProbe struct {
	Addr string  `json:"addr,omitempty"`
	RTT  float64 `json:"rtt_ms,omitempty"`
}

// Lost reports whether the probe got no answer.
func (p HopProbe) Lost() bool { return p.Addr == "" }

// TraceResult is one traceroute from a source agent to a destination: one point of the
// InfluxDB `traceroute` measurement, plus the hop list the workshop never kept.
type TraceResult struct {
	Time    time.Time `json:"time"`
	Src     string    `json:"src"`
	SrcPop  string    `json:"src_pop"`
	Dst     string    `json:"dst"`
	DstName string    `json:"dst_name"`
	DstPop  string    `json:"dst_pop"`
	Proto   string    `json:"proto"`
	DPort   int       `json:"dport"`

	Hops   []Hop `json:"hops,omitempty"`
	Failed bool  `json:"failed"`
	// FinalHopRTT and FinalHopTTL describe the last answering hop; TTL 32 when none did.
	FinalHopRTT float64 `json:"final_hop_rtt_ms"`
	FinalHopTTL int     `json:"final_hop_ttl"`
	// ASPath is space-separated ASNs, "*" for a silent hop or a hop without ASN.
	ASPath string `json:"as_path"`

	Err string `json:"error,omitempty"`
}

// Measured reports whether r carries a trace rather than an error.
func (r TraceResult) Measured() bool { return r.Err == "" }

// UnknownPop is the dst_pop the workshop writes for a destination it cannot place.
const UnknownPop = "Unknown"

// DeriveTrace fills FinalHopRTT, FinalHopTTL and ASPath from Hops, as the workshop did:
// the final hop is the last one that answered (TTL 32 and RTT 0 when none did).
func (r *TraceResult) DeriveTrace() {
	r.FinalHopTTL, r.FinalHopRTT = 32, 0
	parts := make([]string, 0, len(r.Hops))
	for _, h := range r.Hops {
		if h.NoResponse || h.ASN == 0 {
			parts = append(parts, "*")
		} else {
			parts = append(parts, strconv.Itoa(h.ASN))
		}
		if !h.NoResponse {
			r.FinalHopTTL, r.FinalHopRTT = h.TTL, h.RTT
		}
	}
	r.ASPath = strings.Join(parts, " ")
}

// PathKey identifies the route of a trace for change detection: the answering hop
// addresses in order, silent hops as "*". Two traces with the same key took the same path.
func (r TraceResult) PathKey() string {
	parts := make([]string, 0, len(r.Hops))
	for _, h := range r.Hops {
		if h.NoResponse || h.Addr == "" {
			parts = append(parts, "*")
		} else {
			parts = append(parts, h.Addr)
		}
	}
	return strings.Join(parts, " ")
}
