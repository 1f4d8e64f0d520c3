//go:build unix

package main

import "syscall"

// detached makes a master the leader of its own session: no controlling
// terminal, so the caller's hangup or Ctrl-C does not reach it.
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }
