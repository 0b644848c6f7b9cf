//go:build linux

package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// Links and addresses are configured with iproute2's `ip`, the tool every Linux
// administrator can read back; the lab logs each command so a failed build says exactly
// which step broke. Only TUN access and sysctls need to happen from inside a namespace,
// which withNetns does on a locked OS thread.

// ipCmd runs `ip args...` and returns its error with the command line and stderr.
func ipCmd(ctx context.Context, args ...string) error {
	_, err := ipOut(ctx, args...)
	return err
}

func ipOut(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "ip", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, errors.New("the `ip` command (iproute2) is not installed; install it (apt-get install iproute2)")
		}
		return out, fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// netnsPath is where `ip netns add` mounts a named namespace.
func netnsPath(name string) string { return "/run/netns/" + name }

// withNetns runs f on an OS thread that has entered the named network namespace.
// Sockets and TUN file descriptors f opens stay bound to that namespace after the
// thread leaves it. The thread is returned to the pool only when it was switched back
// successfully; otherwise it is left locked so the runtime discards it with the goroutine.
func withNetns(name string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- fmt.Errorf("open own network namespace: %w", err)
			runtime.UnlockOSThread()
			return
		}
		defer orig.Close()
		target, err := os.Open(netnsPath(name))
		if err != nil {
			errc <- fmt.Errorf("open network namespace %s: %w", name, err)
			runtime.UnlockOSThread()
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("enter network namespace %s: %w", name, err)
			runtime.UnlockOSThread()
			return
		}
		ferr := f()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			// Leave the thread locked: it dies with this goroutine.
			errc <- errors.Join(ferr, fmt.Errorf("return from network namespace %s: %w", name, err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// sysctlIn writes sysctl values (keys like "net/ipv4/conf/all/rp_filter") inside the
// named namespace; /proc/sys/net belongs to the netns of whoever opens it.
func sysctlIn(name string, kv map[string]string) error {
	return withNetns(name, func() error {
		for k, v := range kv {
			err := os.WriteFile("/proc/sys/"+k, []byte(v), 0o644)
			if errors.Is(err, os.ErrNotExist) && strings.HasPrefix(k, "net/ipv6/") {
				continue // a kernel without IPv6 has nothing to turn off
			}
			if err != nil {
				return fmt.Errorf("sysctl %s=%s in %s: %w", strings.ReplaceAll(k, "/", "."), v, name, err)
			}
		}
		return nil
	})
}

// openTUN attaches to the TUN device ifname inside the named namespace (created
// persistent by `ip tuntap add`) and returns it non-blocking, so that reads go through
// Go's poller and Close unblocks them.
func openTUN(netns, ifname string) (*os.File, error) {
	var fd int
	err := withNetns(netns, func() error {
		var err error
		fd, err = unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open /dev/net/tun: %w", err)
		}
		ifr, err := unix.NewIfreq(ifname)
		if err != nil {
			unix.Close(fd)
			return err
		}
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
			unix.Close(fd)
			return fmt.Errorf("attach to TUN %s: %w", ifname, err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open TUN %s in %s: %w", ifname, netns, err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("TUN %s in %s: set non-blocking: %w", ifname, netns, err)
	}
	return os.NewFile(uintptr(fd), netns+"/"+ifname), nil
}

// listNetns returns the names of all named network namespaces.
func listNetns() ([]string, error) {
	ents, err := os.ReadDir("/run/netns")
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list network namespaces: %w", err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out, nil
}
