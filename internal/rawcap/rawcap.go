// Package rawcap raises CAP_NET_RAW from the permitted into the effective set of every
// thread, for `meshtop agent` in the container image.
//
// Why: the image runs as a non-root user (65532). Docker does not give a non-root
// process the capabilities of --cap-add (no ambient set), so the image's binary carries
// a file capability, cap_net_raw+p: on exec the kernel puts CAP_NET_RAW into the
// permitted set when the container's bounding set has it (--cap-add NET_RAW), and leaves
// it out otherwise. The effective bit is deliberately not set in the file: with it, a
// container started without NET_RAW could not exec the binary at all (the kernel
// refuses a file whose effective capabilities it cannot grant), and `meshtop serve` or
// `meshtop version` need no capability. So the agent raises it itself, before it opens
// its sockets.
//
// Capabilities are per thread in Linux; Go's syscall.AllThreadsSyscall applies the
// change to every thread of the process (it needs a binary without cgo, which the
// release is). Threads made later inherit it.
package rawcap

// Result says what Raise did, for the agent's start line.
type Result string

// Results.
const (
	Effective   Result = "CAP_NET_RAW effective"                              // already, or raised
	Raised      Result = "CAP_NET_RAW raised from the file capability"        // permitted only, now effective
	NotGranted  Result = "no CAP_NET_RAW (run as root, or --cap-add NET_RAW)" // neither
	Unsupported Result = "capabilities not supported here"
)
