//go:build unix

package main

import "syscall"

// withUmask runs fn with the process umask set to mask. serve calls it once
// at start-up, before any other goroutine creates files.
func withUmask(mask int, fn func() error) error {
	old := syscall.Umask(mask)
	defer syscall.Umask(old)
	return fn()
}
