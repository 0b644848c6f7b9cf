package influx

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	client "github.com/influxdata/influxdb1-client/v2"

	"github.com/meshtop/meshtop/internal/textsafe"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
)

// Measurement names of SPEC 6.
const (
	PingMeasurement  = "ping"
	TraceMeasurement = "traceroute"
)

// Schema says which type each field is written with: measurement -> field -> type
// (TypeFloat, TypeInteger, TypeString, TypeBoolean). A field it does not list is written
// as float (numbers) or string (text).
type Schema map[string]map[string]string

// probeFields are the workshop's per-probe fields; it pinged with count 5.
var probeFields = []string{"probe_0_rtt_ms", "probe_1_rtt_ms", "probe_2_rtt_ms", "probe_3_rtt_ms", "probe_4_rtt_ms"}

// WorkshopSchema is what a database filled by the workshop's collector holds: its script
// printed every field as a string and Telegraf's converter made floats of the RTT, jitter
// and loss fields and an integer of final_hop_ttl, leaving failed and as_path strings.
// meshtop writes this by default, so that the workshop's collector (and meshtop) can keep
// writing into a database meshtop started.
func WorkshopSchema() Schema {
	ping := map[string]string{"failed": TypeString}
	for _, m := range mesh.Metrics {
		ping[m.Field()] = TypeFloat
	}
	for _, f := range probeFields {
		ping[f] = TypeFloat
	}
	return Schema{
		PingMeasurement: ping,
		TraceMeasurement: {"failed": TypeString, "final_hop_rtt_ms": TypeFloat, "final_hop_ttl": TypeInteger,
			"as_path": TypeString, HopsField: TypeString},
	}
}

// NumericSchema writes failed as an integer (0/1); everything else as WorkshopSchema.
func NumericSchema() Schema {
	s := WorkshopSchema()
	s[PingMeasurement]["failed"] = TypeInteger
	s[TraceMeasurement]["failed"] = TypeInteger
	return s
}

// Clone copies a schema.
func (s Schema) Clone() Schema {
	out := make(Schema, len(s))
	for m, f := range s {
		out[m] = maps.Clone(f)
	}
	return out
}

// Merge takes over the types found in a database (SHOW FIELD KEYS). When shards disagree
// the existing type that the schema already has wins, else the first listed.
func (s Schema) Merge(ft FieldTypes) {
	for m, fields := range ft {
		if s[m] == nil {
			s[m] = map[string]string{}
		}
		for f, types := range fields {
			if len(types) == 0 {
				continue
			}
			if cur, ok := s[m][f]; ok && slices.Contains(types, cur) {
				continue
			}
			s[m][f] = types[0]
		}
	}
}

// value converts v (float64, int, bool or string) to the field's type. ok is false when
// it cannot be expressed in that type (e.g. an AS path as a number): the field is left out.
func (s Schema) value(measurement, field string, v any) (any, bool) {
	typ := s[measurement][field]
	switch x := v.(type) {
	case bool:
		n := 0
		if x {
			n = 1
		}
		switch typ {
		case TypeFloat:
			return float64(n), true
		case TypeInteger:
			return int64(n), true
		case TypeBoolean:
			return x, true
		default:
			return strconv.Itoa(n), true
		}
	case int:
		switch typ {
		case TypeFloat:
			return float64(x), true
		case TypeInteger, "":
			return int64(x), true
		case TypeString:
			return strconv.Itoa(x), true
		}
		return nil, false
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, false
		}
		switch typ {
		case TypeFloat, "":
			return x, true
		case TypeInteger:
			return int64(math.Round(x)), true
		case TypeString:
			return strconv.FormatFloat(x, 'f', -1, 64), true
		}
		return nil, false
	case string:
		switch typ {
		case TypeString, "":
			return x, true
		case TypeFloat:
			f, err := strconv.ParseFloat(x, 64)
			return f, err == nil
		case TypeInteger:
			i, err := strconv.ParseInt(x, 10, 64)
			return i, err == nil
		}
		return nil, false
	}
	return nil, false
}

func (s Schema) fields(measurement string, raw [][2]any) map[string]any {
	out := make(map[string]any, len(raw))
	for _, kv := range raw {
		name := kv[0].(string)
		if v, ok := s.value(measurement, name, kv[1]); ok {
			out[name] = v
		}
	}
	return out
}

// tags drops empty values (line protocol has no empty tag value) and sanitises the
// rest: names come from agents and inventories, and a control character (a newline
// above all) would break the line or reach whoever reads the data. Line protocol cannot
// escape a trailing backslash in a tag value, so trailing backslashes are dropped.
func tags(kv ...string) map[string]string {
	out := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		if v := strings.TrimRight(textsafe.Name(kv[i+1]), `\`); v != "" {
			out[kv[i]] = v
		}
	}
	return out
}

func dstPop(p string) string {
	if p == "" {
		return mesh.UnknownPop
	}
	return p
}

// PingPoint is r as a point of the ping measurement (SPEC 6); ok is false for a result
// that carries no measurement (Err set): writing it would store zeros that look like data.
func PingPoint(r mesh.PingResult, publicIP string, s Schema) (*client.Point, bool, error) {
	if !r.Measured() {
		return nil, false, nil
	}
	raw := [][2]any{{"failed", r.Failed}}
	for _, m := range mesh.Metrics {
		raw = append(raw, [2]any{m.Field(), m.Value(r)})
	}
	for i := range max(len(r.Probes), len(probeFields)) {
		v := 0.0 // the workshop wrote 0.0 for a lost or missing probe
		if i < len(r.Probes) {
			v = r.Probes[i]
		}
		raw = append(raw, [2]any{"probe_" + strconv.Itoa(i) + "_rtt_ms", v})
	}
	pt, err := client.NewPoint(PingMeasurement,
		tags("dst", r.Dst, "dst_pop", dstPop(r.DstPop), "src_pop", r.SrcPop, "src_slug", r.Src, "public_ip", publicIP),
		s.fields(PingMeasurement, raw), r.Time)
	if err != nil {
		return nil, false, fmt.Errorf("encode ping %s→%s: %w", r.Src, r.Dst, err)
	}
	return pt, true, nil
}

// TracePoint is r as a point of the traceroute measurement, with the hop list in
// HopsField.
func TracePoint(r mesh.TraceResult, publicIP string, s Schema) (*client.Point, bool, error) {
	if !r.Measured() {
		return nil, false, nil
	}
	if r.ASPath == "" && len(r.Hops) > 0 {
		r.DeriveTrace()
	}
	raw := [][2]any{{"failed", r.Failed}, {"final_hop_rtt_ms", r.FinalHopRTT}, {"final_hop_ttl", r.FinalHopTTL},
		{"as_path", r.ASPath}}
	if len(r.Hops) > 0 {
		b, err := json.Marshal(r.Hops)
		if err != nil {
			return nil, false, fmt.Errorf("encode hops of %s→%s: %w", r.Src, r.Dst, err)
		}
		raw = append(raw, [2]any{HopsField, string(b)})
	}
	proto := r.Proto
	if proto == "" {
		proto = "ICMP"
	}
	dport := ""
	if r.DPort > 0 {
		dport = strconv.Itoa(r.DPort)
	}
	pt, err := client.NewPoint(TraceMeasurement,
		tags("dst", r.Dst, "proto", strings.ToUpper(proto), "dport", dport, "src_slug", r.Src, "src_pop", r.SrcPop,
			"dst_pop", dstPop(r.DstPop), "public_ip", publicIP),
		s.fields(TraceMeasurement, raw), r.Time)
	if err != nil {
		return nil, false, fmt.Errorf("encode traceroute %s→%s: %w", r.Src, r.Dst, err)
	}
	return pt, true, nil
}

// SweepLines encodes every measured result of a sweep as line protocol, one point per
// line, all carrying the sweep's timestamp. n is the number of points.
func SweepLines(sw probe.Sweep, publicIP string, s Schema) (lines []byte, n int, err error) {
	var b strings.Builder
	add := func(pt *client.Point, ok bool, err error) error {
		if err != nil || !ok {
			return err
		}
		b.WriteString(pt.String())
		b.WriteByte('\n')
		n++
		return nil
	}
	// Every point of a sweep carries the sweep's start (ARCHITECTURE: sweep time).
	for _, r := range sw.Pings {
		if !sw.Time.IsZero() {
			r.Time = sw.Time
		}
		if r.Check() != nil {
			continue // an impossible value is the pair's error, never a recorded point
		}
		if err := add(PingPoint(r, publicIP, s)); err != nil {
			return nil, 0, err
		}
	}
	for _, r := range sw.Traces {
		if !sw.Time.IsZero() {
			r.Time = sw.Time
		}
		if r.Check() != nil {
			continue
		}
		if err := add(TracePoint(r, publicIP, s)); err != nil {
			return nil, 0, err
		}
	}
	return []byte(b.String()), n, nil
}
