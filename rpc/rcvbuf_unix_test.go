//go:build unix

package rpc_test

import "syscall"

// setReceiveBuffer shrinks a socket's receive buffer before it connects,
// so that the window it offers is small from the start.
func setReceiveBuffer(fd uintptr, n int) {
	_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, n)
}
