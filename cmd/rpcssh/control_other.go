//go:build !unix

package main

import "syscall"

// detached: masters are not started here (control.Listen is unsupported).
func detached() *syscall.SysProcAttr { return nil }
