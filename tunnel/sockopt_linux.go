//go:build linux

package tunnel

import (
	"net"
	"syscall"
)

// quickAckConn re-arms TCP_QUICKACK around every read and write on the SSH
// socket. Linux clears the flag after it sends an ACK, so setting it once is
// not enough. Without it a server that leaves Nagle on (OpenSSH sshd does
// for forwarding-only sessions) and sends two small packets back to back
// stalls for the client's 40 ms delayed ACK.
type quickAckConn struct {
	*net.TCPConn
	raw syscall.RawConn
}

func wrapConn(c net.Conn, quickAck bool) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	_ = tc.SetNoDelay(true)
	if !quickAck {
		return c
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	return &quickAckConn{TCPConn: tc, raw: raw}
}

func (c *quickAckConn) quickAck() {
	_ = c.raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}

func (c *quickAckConn) Read(b []byte) (int, error) {
	c.quickAck()
	n, err := c.TCPConn.Read(b)
	c.quickAck()
	return n, err
}

func (c *quickAckConn) Write(b []byte) (int, error) {
	n, err := c.TCPConn.Write(b)
	c.quickAck()
	return n, err
}
