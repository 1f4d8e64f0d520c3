package tunnel

import (
	"bufio"
	"net"
)

// versionReadBuffer is the read buffer under an SSH client connection.
// x/crypto reads the server's version line one byte per Read, straight
// from the connection: a dozen read syscalls (and, with TCP_QUICKACK,
// two setsockopt calls around each) for one line, a cost paid by every
// connection of a fan-out. With this buffer the line takes one read;
// after it, the transport's own 4 KiB reads are larger than the buffer
// and bypass it, so nothing is copied twice.
const versionReadBuffer = 512

// bufferedConn reads conn through a small buffer; see versionReadBuffer.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func newBufferedConn(c net.Conn) net.Conn {
	return &bufferedConn{Conn: c, r: bufio.NewReaderSize(c, versionReadBuffer)}
}

func (c *bufferedConn) Read(b []byte) (int, error) { return c.r.Read(b) }
