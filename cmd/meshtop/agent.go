package main

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/meshtop/meshtop/internal/rawcap"
	"github.com/meshtop/meshtop/internal/secretfile"
	"github.com/meshtop/meshtop/probe"
	"github.com/meshtop/meshtop/probe/agent"
	"github.com/meshtop/meshtop/probe/agent/netprobe"
)

func init() { register(newAgentCmd) }

type agentOptions struct {
	listen, tlsCert, tlsKey, asnDB, secretFile string
	pop                                        string
	allow, labels                              []string
	rdns, insecureNoAuth                       bool
	rdnsTimeout, interval, replyWait, hop      time.Duration
	maxTests, maxProcs                         int
}

func newAgentCmd() *cobra.Command {
	o := &agentOptions{}
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run a Scouter-compatible probing agent (ping, traceroute)",
		Long: `Run a Scouter-compatible agent: the HTTP API of Scouter v1.0 for ping and
traceroute tests, with real ICMP echo and TCP SYN probes. Any Scouter client,
meshtop included, can use it in place of an upstream agent.

The shared secret comes from env SCOUTER_API_SECRET or --secret-file, never
from a flag. Limits: env SCOUTER_MAX_TEST_COUNT and SCOUTER_MAX_PROCESS_COUNT
(or --max-tests, --max-procs); port: env API_PORT unless --listen is given.
Raw ICMP needs root or CAP_NET_RAW; without it, ping uses unprivileged ICMP
sockets where net.ipv4.ping_group_range allows, and traceroute is off.

The agent says where it is: --pop NAME and --label KEY=VALUE (env MESHTOP_POP,
MESHTOP_LABELS="k=v,k2=v2") appear in /status as "pop" and "labels", so a
collector that finds agents by DNS (--discover dns://NAME) places them without
an inventory.

Where to run it (docs/deploy.md has each in full):
  VM, with the deb or rpm package: put the secret in /etc/meshtop/agent-secret
    (0640 root:meshtop) and MESHTOP_POP=... in /etc/meshtop/agent.env, then
    systemctl enable --now meshtop-agent (user meshtop, CAP_NET_RAW only).
  Container (podman or docker; no --privileged):
    podman run -d --network host --cap-add NET_RAW -e MESHTOP_POP=fra1 \
      -e SCOUTER_API_SECRET meshtop:VERSION agent
  Kubernetes: deploy/kubernetes/ runs it as a DaemonSet on the host network
    with NET_RAW only, --pop from the node name, and a headless Service that
    collectors read with
    --discover dns://meshtop-agent.meshtop.svc.cluster.local:8000

Timing: a ping sends one echo request every --probe-interval (1s) without
waiting for replies, and accepts replies until --reply-wait (3s) after the last
request, so a 5-probe test takes 4-7 s and an RTT of up to 3 s is measured, not
lost. Traceroute probes the TTLs at once, 10 ms apart, like mtr, each probe
listening for --reply-wait, and stops at the TTL the destination answers; once
it has, routers below it get its RTT plus --hop-timeout (1s). So a trace to a
dead destination takes about one --reply-wait, not a second per silent hop.
A client may ask for several probes per hop (option "probes", 1-10, rounds
250 ms apart); upstream agents ignore that option and send one.`,
		Example: `  # Listen on port 8000, probe only the 10.0.0.0/8 mesh
  SCOUTER_API_SECRET=... meshtop agent --allow 10.0.0.0/8

  # Say where it is, for collectors that find agents by DNS
  SCOUTER_API_SECRET=... meshtop agent --pop fra1 --label region=eu

  # TLS, ASNs for traceroute hops, no reverse DNS
  meshtop agent --secret-file /run/secrets/scouter --tls-cert c.pem \
    --tls-key k.pem --asn-db GeoLite2-ASN.mmdb --rdns=false`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAgent(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "", "`ADDR` to listen on, host:port (default :$API_PORT, else :8000)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS with this certificate `FILE` (PEM)")
	f.StringVar(&o.tlsKey, "tls-key", "", "private key `FILE` (PEM) of --tls-cert")
	f.StringArrayVar(&o.allow, "allow", nil, "only probe destinations in this `CIDR` (repeatable; default: any)")
	f.StringVar(&o.asnDB, "asn-db", "", "GeoLite2-ASN `FILE` (.mmdb) for the ASNs of traceroute hops")
	f.BoolVar(&o.rdns, "rdns", true, "reverse DNS names for traceroute hops (--rdns=false: addresses)")
	f.DurationVar(&o.rdnsTimeout, "rdns-timeout", agent.DefaultRDNSTimeout, "give up a reverse lookup after `DURATION`")
	f.DurationVar(&o.interval, "probe-interval", agent.DefaultProbeInterval, "time between the echo requests of a ping test")
	f.DurationVar(&o.replyWait, "reply-wait", agent.DefaultReplyWait, "accept replies this long after a ping's last request or a traceroute probe (an RTT up to it is measured, not lost)")
	f.DurationVar(&o.replyWait, "probe-timeout", agent.DefaultReplyWait, "old name of --reply-wait")
	_ = f.MarkDeprecated("probe-timeout", "use --reply-wait")
	f.DurationVar(&o.hop, "hop-timeout", agent.DefaultHopTimeout, "how long a traceroute waits for routers below the destination, beyond its RTT, once it answered (a silent one is shown as *)")
	f.BoolVar(&o.insecureNoAuth, "insecure-no-auth", false, "accept requests without a secret (lab use)")
	f.IntVar(&o.maxTests, "max-tests", agent.DefaultMaxTests, "most tests per request (env SCOUTER_MAX_TEST_COUNT)")
	f.IntVar(&o.maxProcs, "max-procs", agent.DefaultMaxProcs, "most tests running at once (env SCOUTER_MAX_PROCESS_COUNT)")
	f.StringVar(&o.secretFile, "secret-file", "", "read the API secret from `FILE` (default: env SCOUTER_API_SECRET)")
	f.StringVar(&o.pop, "pop", "", "`NAME` of this agent's PoP, said in /status (env MESHTOP_POP)")
	f.StringSliceVar(&o.labels, "label", nil, "`KEY=VALUE` said in /status, e.g. region=eu (repeatable; env MESHTOP_LABELS)")
	_ = cmd.MarkFlagFilename("tls-cert", "pem", "crt")
	_ = cmd.MarkFlagFilename("tls-key", "pem", "key")
	_ = cmd.MarkFlagFilename("asn-db", "mmdb")
	return cmd
}

func agentSecret(o *agentOptions) (string, error) {
	if o.secretFile != "" {
		s, err := secretfile.Read(o.secretFile)
		if err != nil {
			return "", fmt.Errorf("read the API secret (--secret-file): %w", err)
		}
		return strings.TrimSpace(s), nil
	}
	return os.Getenv("SCOUTER_API_SECRET"), nil
}

func runAgent(cmd *cobra.Command, o *agentOptions) error {
	// SCOUTER_MAX_TEST_COUNT, SCOUTER_MAX_PROCESS_COUNT and API_PORT are env bindings of
	// --max-tests, --max-procs and --listen (config_env.go), resolved before RunE.
	if o.maxTests < 1 || o.maxProcs < 1 {
		return errors.New("--max-tests and --max-procs must be at least 1")
	}
	// A client gives a test about 2 s per probe plus 30 s (probe.Options.Timeout):
	// a longer wait would outlast it.
	if o.replyWait < 10*time.Millisecond || o.replyWait > 30*time.Second {
		return fmt.Errorf("--reply-wait %s: want 10ms to 30s", o.replyWait)
	}
	if o.hop < 10*time.Millisecond || o.hop > o.replyWait {
		return fmt.Errorf("--hop-timeout %s: want 10ms up to --reply-wait (%s)", o.hop, o.replyWait)
	}
	listen := o.listen
	if listen == "" {
		listen = net.JoinHostPort("", "8000")
	}
	allow, err := agent.ParseAllow(o.allow)
	if err != nil {
		return err
	}
	secret, err := agentSecret(o)
	if err != nil {
		return err
	}
	labels, err := probe.ParseLabels(o.labels)
	if err != nil {
		return fmt.Errorf("--label: %w", err)
	}
	// Before the sockets open: the image's binary has CAP_NET_RAW permitted only.
	caps, capErr := rawcap.Raise()
	var asn *agent.ASNDB
	if o.asnDB != "" {
		if asn, err = agent.OpenASNDB(o.asnDB); err != nil {
			return err
		}
		defer asn.Close()
	}
	a, err := agent.New(agent.Config{
		Secret: secret, InsecureNoAuth: o.insecureNoAuth, Pop: o.pop, Labels: labels,
		MaxTests: o.maxTests, MaxProcs: o.maxProcs, Allow: allow,
		ProbeInterval: max(o.interval, time.Nanosecond), ReplyWait: o.replyWait, HopTimeout: o.hop,
		ASN: asn, RDNS: o.rdns, RDNSTimeout: o.rdnsTimeout,
	})
	if err != nil {
		return err
	}
	defer a.Close()
	stderr := cmd.ErrOrStderr()
	return a.Serve(cmd.Context(), agent.ServeOptions{
		Addr: listen, CertFile: o.tlsCert, KeyFile: o.tlsKey,
		Ready: func(addr net.Addr) {
			fmt.Fprintln(stderr, agentStartLine(addr, o, a, allow, secret == ""))
			if caps == rawcap.Raised && a.Method() == netprobe.MethodRaw {
				fmt.Fprintln(stderr, "meshtop agent: raw ICMP as uid", os.Getuid(), "with CAP_NET_RAW from the binary's file capability")
			}
			if a.Method() != netprobe.MethodRaw {
				why := string(caps)
				if capErr != nil {
					why += ": " + capErr.Error()
				}
				fmt.Fprintln(stderr, "meshtop agent: no raw ICMP ("+why+"): traceroute is off")
			}
		},
	})
}

// agentStartLine is the startup log line: everything an operator needs to check the
// agent came up as intended, and never the secret.
func agentStartLine(addr net.Addr, o *agentOptions, a *agent.Agent, allow []netip.Prefix, noAuth bool) string {
	scheme := "http"
	if o.tlsCert != "" {
		scheme = "https"
	}
	ping := string(a.Method())
	if why := a.Engine().Why(); why != "" {
		ping += " (" + why + ")"
	}
	ping += ", " + a.Engine().RxTimes()
	al := "any destination"
	if len(allow) > 0 {
		s := make([]string, len(allow))
		for i, p := range allow {
			s[i] = p.String()
		}
		al = strings.Join(s, ",")
	}
	asn := "none"
	if o.asnDB != "" {
		asn = o.asnDB
	}
	rdns := "off"
	if o.rdns {
		rdns = "on, timeout " + o.rdnsTimeout.String()
	}
	auth := "secret required"
	if noAuth {
		auth = "NO AUTH (--insecure-no-auth)"
	}
	where := "pop: none (--pop)"
	if o.pop != "" {
		where = "pop: " + o.pop
	}
	if labels := a.Labels(); len(labels) > 0 {
		kv := make([]string, 0, len(labels))
		for _, k := range slices.Sorted(maps.Keys(labels)) {
			kv = append(kv, k+"="+labels[k])
		}
		where += ", labels: " + strings.Join(kv, ",")
	}
	return fmt.Sprintf("meshtop agent: listening on %s://%s; %s; ping: %s, one probe per %s, replies accepted %s after the last; max tests %d, max procs %d; allow: %s; asn-db: %s; rdns: %s; auth: %s",
		scheme, addr, where, ping, o.interval, o.replyWait, o.maxTests, o.maxProcs, al, asn, rdns, auth)
}
