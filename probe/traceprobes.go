package probe

// TraceProbes is how many probes per hop meshtop asks for in a traceroute (the `probes`
// option; meshtop's agent sends them in rounds, like mtr's cycles). One probe per hop and
// trace leaves a hop's loss resting on as many samples as traces; five make every trace
// count five times. Upstream agents ignore option keys they do not know (their traceroute
// takes **kwargs), so every agent may be asked: whether it sent several shows in its
// answer (each hop's `probes`), never assumed.
const TraceProbes = 5

func traceProbes() *int {
	n := TraceProbes
	return &n
}
