//go:build unix

package main

import "syscall"

// syscallKill kills a process at once, as a dropped laptop lid or an OOM killer would.
func syscallKill(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }
