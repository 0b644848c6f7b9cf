package agent

import (
	"strconv"
	"strings"
)

// Output types. Upstream's Flask sorts keys; encoding/json keeps struct field order, so
// every struct below lists its fields alphabetically by JSON name. Value types follow
// upstream: integers stay integers, Python floats (loss, rtt_ms) always carry a decimal
// point, ping's rtt values are 3-decimal strings or null.

// pyFloat marshals like Python's json: 0.0, 100.0, 33.333333333333336.
type pyFloat float64

func (f pyFloat) MarshalJSON() ([]byte, error) {
	s := strconv.FormatFloat(float64(f), 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return []byte(s), nil
}

// entryOut is one test's outcome in results.<type>.
type entryOut struct {
	Failed  bool    `json:"failed"`
	ID      any     `json:"id"`
	Message *string `json:"message"`
	Result  any     `json:"result"` // pingOut, traceOut, or struct{}{} ({}) on a per-test error
}

type rttOut struct {
	Avg *string `json:"avg"`
	Max *string `json:"max"`
	Min *string `json:"min"`
}

type replyOut struct {
	Len   int     `json:"len"`
	RTTms pyFloat `json:"rtt_ms"`
	Seq   int     `json:"seq"`
	TTL   int     `json:"ttl"`
}

type pingOut struct {
	Comment     *string    `json:"comment"`
	Dst         any        `json:"dst"`
	Failed      bool       `json:"failed"`
	Loss        pyFloat    `json:"loss"`
	PacketSize  int        `json:"packet_size"`
	PayloadSize int        `json:"payload_size"`
	Recv        int        `json:"recv"` // upstream leaves it null by mistake; filled here
	Replies     []replyOut `json:"replies"`
	RTT         rttOut     `json:"rtt"`
	Sent        int        `json:"sent"`
}

// hopOut is one hop of a trace. Probes is meshtop's addition, only there when the
// client asked for several probes per hop (the `probes` option): each probe's answer in
// the order sent, null for a lost one. Upstream's clients read the other keys by name
// and never see it otherwise.
type hopOut struct {
	ASN        *uint        `json:"asn"`
	Hostname   *string      `json:"hostname"`
	NoResponse bool         `json:"no_response"`
	Probes     *[]*probeOut `json:"probes,omitempty"`
	RTTms      *pyFloat     `json:"rtt_ms"`
	Src        *string      `json:"src"`
	TTL        int          `json:"ttl"`
}

// probeOut is one answered probe of a hop.
type probeOut struct {
	RTTms pyFloat `json:"rtt_ms"`
	Src   string  `json:"src"`
}

type traceOut struct {
	Comment     *string  `json:"comment"`
	DPort       int      `json:"dport"`
	Dst         any      `json:"dst"`
	Failed      bool     `json:"failed"`
	PacketSize  int      `json:"packet_size"`
	PayloadSize int      `json:"payload_size"`
	Proto       string   `json:"proto"`
	Trace       []hopOut `json:"trace"`
}

// testsOut is the answer to GET /api/v1.0/tests.
type testsOut struct {
	IsRunning bool                  `json:"is_running"`
	Receipt   string                `json:"receipt"`
	Results   map[string][]entryOut `json:"results"` // maps encode with sorted keys
}

// workerOut mirrors a uWSGI worker of upstream's status page; here a worker is one slot
// of the test pool (--max-procs).
type workerOut struct {
	AvgRT         int64  `json:"avg_rt"` // microseconds per test
	DeltaRequests int64  `json:"delta_requests"`
	Exceptions    int64  `json:"exceptions"` // tests that ended with a message
	ID            int    `json:"id"`
	LastSpawn     int64  `json:"last_spawn"`
	PID           int    `json:"pid"`
	Requests      int64  `json:"requests"` // tests run
	RespawnCount  int    `json:"respawn_count"`
	RSS           int64  `json:"rss"`
	RunningTime   int64  `json:"running_time"` // microseconds
	Signals       int    `json:"signals"`
	Status        string `json:"status"` // idle or busy
	TX            int64  `json:"tx"`
	VSZ           int64  `json:"vsz"`
}

// statusOut is the answer to GET /api/v1.0/status: upstream's keys plus meshtop's (pop
// and labels when the agent was given them: probe.Describe).
type statusOut struct {
	Labels          map[string]string `json:"labels,omitempty"`
	MaxProcessCount int               `json:"max_process_count"`
	MaxTestCount    int               `json:"max_test_count"`
	PingMethod      string            `json:"ping_method"`
	Pop             string            `json:"pop,omitempty"`
	TotalRequests   int64             `json:"total_requests"`
	Traceroute      bool              `json:"traceroute"`
	WorkerStatus    []workerOut       `json:"worker_status"`
}
