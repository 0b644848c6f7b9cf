// Package mesh holds meshtop's data model: agents, ping and traceroute results, the
// thresholds that colour a cell, the per-pair history store and the PoP-by-PoP matrix
// that every view (table, JSON, TUI) renders. It does no I/O.
package mesh

// Agent is one probing agent: a Scouter-compatible API in a PoP.
type Agent struct {
	Name    string            `json:"name"`    // unique; becomes src_slug
	Pop     string            `json:"pop"`     // lower-case PoP code
	Address string            `json:"address"` // what the other agents ping
	URL     string            `json:"url"`     // base URL of its API, e.g. http://198.18.0.2:8000
	Labels  map[string]string `json:"labels,omitempty"`
	// Secret overrides the fleet-wide shared secret for this agent. It is never printed:
	// Agent values reach logs and JSON, so the field is excluded from both.
	Secret string `json:"-"`
}

// AgentState says whether an agent could be used in the last sweep.
type AgentState string

// Agent states. Unreachable means no HTTP answer at all (dead host, refused, timeout);
// AuthFailed means it answered 403 to our secret; Error covers every other failure
// (HTML or garbage answers, 5xx, expired receipts).
const (
	StateUnknown     AgentState = ""
	StateOK          AgentState = "ok"
	StateUnreachable AgentState = "unreachable"
	StateAuthFailed  AgentState = "auth_failed"
	StateError       AgentState = "error"
)

// AgentStatus is an agent with the outcome of its latest sweep.
type AgentStatus struct {
	Agent
	State AgentState `json:"state"`
	Error string     `json:"error,omitempty"`
}

// Failing reports whether the agent's own failure (not its targets') spoils its row.
func (s AgentState) Failing() bool {
	return s == StateUnreachable || s == StateAuthFailed || s == StateError
}
