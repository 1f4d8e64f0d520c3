//go:build !unix

package main

// withUmask runs fn: there is no umask outside Unix; the socket's mode is
// set right after it is created.
func withUmask(_ int, fn func() error) error { return fn() }
