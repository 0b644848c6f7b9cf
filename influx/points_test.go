package influx

import (
	"strings"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
)

func TestQuote(t *testing.T) {
	for _, tc := range []struct{ in, str, ident string }{
		{"ams", `'ams'`, `"ams"`},
		{`it's`, `'it\'s'`, `"it's"`},
		{`a\b`, `'a\\b'`, `"a\\b"`},
		{`say "hi"`, `'say "hi"'`, `"say \"hi\""`},
		{`x' OR '1'='1`, `'x\' OR \'1\'=\'1'`, `"x' OR '1'='1"`},
	} {
		if got := QuoteString(tc.in); got != tc.str {
			t.Errorf("QuoteString(%q) = %s, want %s", tc.in, got, tc.str)
		}
		if got := QuoteIdent(tc.in); got != tc.ident {
			t.Errorf("QuoteIdent(%q) = %s, want %s", tc.in, got, tc.ident)
		}
	}
}

func TestDurationLiteral(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Hour: "3600s", 1500 * time.Millisecond: "1500ms", 1500 * time.Microsecond: "1500u", 10: "1u",
	} {
		if got := durationLiteral(d); got != want {
			t.Errorf("durationLiteral(%v) = %s, want %s", d, got, want)
		}
	}
}

func TestSweepLines(t *testing.T) {
	at := time.Unix(1581131071, 0).UTC()
	ok := mesh.PingResult{Time: at.Add(time.Second), Src: "ams 1,x=y", SrcPop: "ams", Dst: "198.18.0.2", DstPop: "fra"}
	ok.DerivePing(5, []float64{10, 12, mesh.Lost, 11, 13}, -1)
	failed := mesh.PingResult{Time: at, Src: "ams-1", SrcPop: "ams", Dst: "203.0.113.5"} // dst_pop unknown
	failed.DerivePing(5, []float64{mesh.Lost, mesh.Lost, mesh.Lost, mesh.Lost, mesh.Lost}, -1)
	unmeasured := mesh.PingResult{Time: at, Src: "ams-1", SrcPop: "ams", Dst: "198.18.0.3", DstPop: "sin", Err: "agent down"}
	tr := mesh.TraceResult{Time: at, Src: "ams-1", SrcPop: "ams", Dst: "198.18.0.2", DstPop: "fra", Proto: "tcp", DPort: 443,
		Hops: []mesh.Hop{{TTL: 1, Addr: "198.18.9.1", ASN: 64511, RTT: 1}, {TTL: 2, NoResponse: true}}}
	sw := probe.Sweep{Time: at, Pings: []mesh.PingResult{ok, failed, unmeasured}, Traces: []mesh.TraceResult{tr}}

	for _, tc := range []struct {
		schema Schema
		want   []string
	}{
		{WorkshopSchema(), []string{
			`ping,dst=198.18.0.2,dst_pop=fra,public_ip=203.0.113.9,src_pop=ams,src_slug=ams\ 1\,x\=y avg_rtt_ms=11.5,failed="0",jitter_ms=1.6666666666666667,jitter_pct=14.492753623188406,loss_pct=20,probe_0_rtt_ms=10,probe_1_rtt_ms=12,probe_2_rtt_ms=0,probe_3_rtt_ms=11,probe_4_rtt_ms=13 1581131071000000000`,
			`ping,dst=203.0.113.5,dst_pop=Unknown,public_ip=203.0.113.9,src_pop=ams,src_slug=ams-1 avg_rtt_ms=0,failed="1",jitter_ms=0,jitter_pct=100,loss_pct=100,probe_0_rtt_ms=0,probe_1_rtt_ms=0,probe_2_rtt_ms=0,probe_3_rtt_ms=0,probe_4_rtt_ms=0 1581131071000000000`,
			`traceroute,dport=443,dst=198.18.0.2,dst_pop=fra,proto=TCP,public_ip=203.0.113.9,src_pop=ams,src_slug=ams-1 as_path="64511 *",failed="0",final_hop_rtt_ms=1,final_hop_ttl=1i,hops="[{\"ttl\":1,\"addr\":\"198.18.9.1\",\"asn\":64511,\"rtt_ms\":1},{\"ttl\":2,\"no_response\":true}]" 1581131071000000000`,
		}},
		{NumericSchema(), []string{`failed=0i`, `failed=1i`, `final_hop_ttl=1i`}},
	} {
		lines, n, err := SweepLines(sw, "203.0.113.9", tc.schema)
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Errorf("n = %d, want 3 (the unmeasured result left out)", n)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(lines), w) {
				t.Errorf("line protocol lacks\n%s\ngot\n%s", w, lines)
			}
		}
		if strings.Contains(string(lines), "sin") {
			t.Errorf("unmeasured result written:\n%s", lines)
		}
	}
}

func TestSchemaValue(t *testing.T) {
	s := Schema{"m": {"f": TypeFloat, "i": TypeInteger, "s": TypeString, "b": TypeBoolean}}
	for _, tc := range []struct {
		field string
		in    any
		want  any
		ok    bool
	}{
		{"f", true, 1.0, true}, {"i", true, int64(1), true}, {"s", false, "0", true}, {"b", true, true, true},
		{"i", 2.6, int64(3), true}, {"s", 2.5, "2.5", true}, {"f", 7, 7.0, true}, {"s", 7, "7", true},
		{"f", "64511 *", nil, false}, {"f", "12.5", 12.5, true}, {"new", 1.5, 1.5, true}, {"new", 3, int64(3), true},
	} {
		got, ok := s.value("m", tc.field, tc.in)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("value(%s, %v) = %v %v, want %v %v", tc.field, tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSchemaMerge(t *testing.T) {
	s := WorkshopSchema()
	s.Merge(FieldTypes{"ping": {"failed": {TypeFloat, TypeString}, "avg_rtt_ms": {TypeString}, "extra": {TypeBoolean}}})
	if s["ping"]["failed"] != TypeString {
		t.Errorf("failed = %s: a type the workshop schema has must win when shards disagree", s["ping"]["failed"])
	}
	if s["ping"]["avg_rtt_ms"] != TypeString || s["ping"]["extra"] != TypeBoolean {
		t.Errorf("merge = %v", s["ping"])
	}
	if WorkshopSchema()["ping"]["avg_rtt_ms"] != TypeFloat {
		t.Error("Merge changed the shared default")
	}
}
