//go:build !linux

package tunnel

import "net"

// wrapConn only turns Nagle off: TCP_QUICKACK is Linux-only.
func wrapConn(c net.Conn, quickAck bool) net.Conn {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	return c
}
