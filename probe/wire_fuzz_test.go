package probe

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/meshtop/meshtop/mesh"
)

// FuzzDecodeTests feeds arbitrary poll answers through what a sweep does with them:
// decode, clean, convert to mesh values, Check. Nothing may panic or allocate without
// bound, no string that reaches a result may carry a control character, and a result
// that passes Check must hold only plausible numbers. Seeds are upstream's answers and
// the hostile ones of issue 10.
func FuzzDecodeTests(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"is_running":true,"receipt":"7fb6c2d0e4a14e0f9a3b5c6d7e8f9309","results":{"ping":[]}}`,
		`{"is_running":false,"receipt":"7fb6","results":{"ping":[{"failed":false,"id":"ec094f","message":null,"result":{"comment":null,"dst":"127.0.0.1","failed":false,"loss":0.0,"packet_size":84,"payload_size":56,"recv":null,"replies":[{"len":64,"rtt_ms":0.06103515625,"seq":0,"ttl":64},{"len":64,"rtt_ms":0.05,"seq":1,"ttl":64}],"rtt":{"avg":"0.059","max":"0.067","min":"0.050"},"sent":3}}]}}`,
		`{"is_running":false,"results":{"traceroute":[{"id":"t","failed":false,"message":null,"result":{"dst":"198.18.77.3","proto":"ICMP","dport":80,"trace":[{"asn":64511,"hostname":"198.18.77.3","no_response":false,"rtt_ms":0.0486,"src":"198.18.77.3","ttl":1},{"asn":null,"hostname":null,"no_response":true,"rtt_ms":null,"src":null,"ttl":2}],"failed":false}}]}}`,
		`{"results":{"ping":[{"id":"x","failed":true,"message":"Required test option of 'dst' was not given. Please pass the required 'dst' option.","result":{}}]}}`,
		// Issue 10: impossible values and hostile text.
		`{"is_running":false,"results":{"ping":[{"id":"a","result":{"dst":"x","sent":1e15,"loss":0,"replies":[]}}]}}`,
		`{"is_running":false,"results":{"ping":[{"id":"a","result":{"dst":"x","sent":1e10,"replies":[{"seq":1e10,"rtt_ms":1}]}}]}}`,
		`{"is_running":false,"results":{"ping":[{"id":"a","result":{"dst":"x","sent":5,"loss":1e9,"replies":[{"seq":0,"rtt_ms":1e307}],"rtt":{"min":"1e300","avg":"5","max":"1e307"}}}]}}`,
		`{"is_running":false,"results":{"ping":[{"id":"a","result":{"dst":"x","sent":5,"loss":-5,"replies":[{"seq":0,"rtt_ms":-1}]}}]}}`,
		`{"is_running":false,"results":{"ping":[{"id":"a","message":"bad \u001b]0;T\u0007\u001b[2J\nx","result":{}}]}}`,
		`{"is_running":false,"results":{"traceroute":[{"id":"a","result":{"dst":"x","trace":[{"ttl":1e18,"src":"\u001b[31mred","hostname":"\u009b2J"}]}}]}}`,
		`{"is_running":"yes","results":{"ping":{"a":1}}}`,
		// meshtop's probes per hop, and hostile ones.
		`{"is_running":false,"results":{"traceroute":[{"id":"t","failed":false,"message":null,"result":{"dst":"198.18.77.3","trace":[{"asn":null,"hostname":"198.18.77.3","no_response":false,"probes":[{"rtt_ms":0.05,"src":"198.18.77.3"},null,{"rtt_ms":0.07,"src":"198.18.77.4"}],"rtt_ms":0.05,"src":"198.18.77.3","ttl":1}],"failed":false}}]}}`,
		`{"is_running":false,"results":{"traceroute":[{"id":"t","result":{"dst":"x","trace":[{"ttl":1,"src":"a","probes":[{"src":"\u001b[2J","rtt_ms":-1},{"src":"b","rtt_ms":"NaN"},{},{"src":"c"}]}]}}]}}`,
		`{"results":{"ping":[{"result":{"sent":"NaN","loss":"Infinity","rtt":{"avg":"nan"}}}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var tr TestsResponse
		if json.Unmarshal(data, &tr) != nil {
			return
		}
		tr.clean()
		_ = tr.Running()
		if tr.Results == nil {
			return
		}
		for _, e := range tr.Results.Ping {
			r := pingFromEntry(e, mesh.PingResult{Src: "a", DstPop: "p"}, DefaultCount)
			noControl(t, r.Err)
			if r.Err != "" || r.Check() != nil {
				continue
			}
			for _, v := range append([]float64{r.LossPct, r.MinRTT, r.AvgRTT, r.MaxRTT, r.JitterMs, r.JitterPct}, r.Probes...) {
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					t.Fatalf("checked ping carries %v: %+v", v, r)
				}
			}
			if r.LossPct > 100 || len(r.Probes) > mesh.MaxProbes {
				t.Fatalf("checked ping out of range: %+v", r)
			}
		}
		for _, e := range tr.Results.Traceroute {
			r := traceFromEntry(e, mesh.TraceResult{Src: "a", DstPop: "p"})
			noControl(t, r.Err)
			noControl(t, r.Proto)
			for _, h := range r.Hops {
				noControl(t, h.Addr)
				noControl(t, h.Name)
				for _, p := range h.Probes {
					noControl(t, p.Addr)
				}
			}
			if r.Err == "" && r.Check() == nil {
				if len(r.Hops) > mesh.MaxTTL {
					t.Fatalf("checked trace of %d hops", len(r.Hops))
				}
				for _, h := range r.Hops {
					for _, p := range h.Probes {
						if len(h.Probes) > mesh.MaxHopProbes || math.IsNaN(p.RTT) || p.RTT < 0 || p.RTT > mesh.MaxRTTms {
							t.Fatalf("checked trace carries hop %+v", h)
						}
					}
				}
			}
		}
	})
}

func noControl(t *testing.T, s string) {
	t.Helper()
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) }) {
		t.Fatalf("control character reaches a result: %q", s)
	}
}
