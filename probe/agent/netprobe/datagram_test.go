//go:build linux

package netprobe

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const datagramChildEnv = "MT_NETPROBE_DATAGRAM_CHILD"

// TestDatagramMode checks the unprivileged path: the test binary re-runs itself as user
// nobody inside a network namespace of its own where net.ipv4.ping_group_range allows
// ICMP datagram sockets (the host's setting is left alone), and pings 127.0.0.1 with two
// concurrent sessions.
func TestDatagramMode(t *testing.T) {
	if os.Getenv(datagramChildEnv) == "1" {
		datagramChild(t)
		return
	}
	needRoot(t)
	for _, tool := range []string{"ip", "setpriv"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: %v", tool, err)
		}
	}
	ns := fmt.Sprintf("mt-npdg%d", os.Getpid()%100000)
	if out, _ := exec.Command("ip", "netns", "list").Output(); strings.Contains(string(out), ns) {
		t.Fatalf("network namespace %s already exists", ns)
	}
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("ip", "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
	run("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.ping_group_range=0 2147483647")

	// A copy of the test binary that user nobody can execute.
	dir, err := os.MkdirTemp("", "mt-netprobe")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "netprobe.test")
	copyFile(t, os.Args[0], bin)
	runChild(t, ns, bin, "TestDatagramMode", []string{datagramChildEnv + "=1", "HOME=" + dir},
		"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
}

func datagramChild(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Fatal("the datagram child runs as root; it must not")
	}
	e := Open()
	defer e.Close()
	if e.Method() != MethodDatagram {
		t.Fatalf("method %q (%s), want unprivileged datagram", e.Method(), e.Why())
	}
	dst := netip.MustParseAddr("127.0.0.1")
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := e.NewEcho(dst)
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			for seq := range 5 {
				a, err := s.Probe(context.Background(), seq, 0, 56, 2*time.Second)
				if err != nil || !a.Reply || a.From != dst || a.Len != 64 || a.TTL <= 0 {
					t.Errorf("probe %d = %+v, %v", seq, a, err)
				}
			}
			if _, err := s.Probe(context.Background(), 9, 1, 0, time.Second); err != ErrNoTraceroute {
				t.Errorf("TTL probe in datagram mode: %v, want ErrNoTraceroute", err)
			}
		}()
	}
	wg.Wait()

	// Overlapping probes of one session (a ping that keeps sending while replies are
	// on their way): the session's reader hands each reply to its own sequence number.
	s, err := e.NewEcho(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for seq := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := s.Probe(context.Background(), 100+seq, 0, 56, 2*time.Second)
			if err != nil || !a.Reply || a.From != dst {
				t.Errorf("overlapping probe %d = %+v, %v", seq, a, err)
			}
		}()
	}
	wg.Wait()

	// Kernel receive times on the session's own socket, and the fallback without them.
	datagramHeld(t)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
