package probe

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/meshtop/meshtop/mesh"
)

// TestTraceProbesConvert: each hop's probes (meshtop's agent with the probes option)
// reach the mesh trace in order, a null or incomplete one as lost; a hop without them
// (upstream) keeps none; a hop with more than an agent may send is the pair's error.
func TestTraceProbesConvert(t *testing.T) {
	decode := func(body string) mesh.TraceResult {
		t.Helper()
		var tr TestsResponse
		if err := json.Unmarshal([]byte(body), &tr); err != nil {
			t.Fatal(err)
		}
		tr.clean()
		return traceFromEntry(tr.Results.Traceroute[0], mesh.TraceResult{Src: "a"})
	}
	got := decode(`{"is_running":false,"results":{"traceroute":[{"id":"t","failed":false,"message":null,"result":{"dst":"198.18.77.9","failed":false,"trace":[` +
		`{"asn":null,"hostname":"198.18.77.3","no_response":false,"probes":[{"rtt_ms":1.5,"src":"198.18.77.3"},null,{"rtt_ms":2,"src":"198.18.77.4"},{"src":"198.18.77.3","rtt_ms":null}],"rtt_ms":1.5,"src":"198.18.77.3","ttl":1},` +
		`{"asn":null,"hostname":"198.18.77.9","no_response":false,"rtt_ms":3,"src":"198.18.77.9","ttl":2}]}}]}}`)
	want := []mesh.HopProbe{{Addr: "198.18.77.3", RTT: 1.5}, {}, {Addr: "198.18.77.4", RTT: 2}, {}}
	if got.Err != "" || len(got.Hops) != 2 || !slices.Equal(got.Hops[0].Probes, want) || got.Hops[1].Probes != nil {
		t.Fatalf("trace %+v, want hop 1 probes %v and none at hop 2", got, want)
	}
	many := strings.Repeat(`{"rtt_ms":1,"src":"198.18.77.3"},`, mesh.MaxHopProbes) + "null"
	got = decode(`{"is_running":false,"results":{"traceroute":[{"id":"t","result":{"dst":"x","trace":[{"ttl":1,"src":"198.18.77.3","rtt_ms":1,"probes":[` + many + `]}]}}]}}`)
	if !strings.Contains(got.Err, "probes") {
		t.Errorf("a hop of %d probes: %+v, want the pair's error", mesh.MaxHopProbes+1, got)
	}
}
