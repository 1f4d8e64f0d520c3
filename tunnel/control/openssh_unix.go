//go:build linux || darwin

package control

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// DialOpenSSH opens a stream to network/addr on the remote side through
// the OpenSSH master listening at path (ssh -M -S path), as ssh -W does:
// it sends MUX_C_NEW_STDIO_FWD with the two ends of socket pairs as the
// forward's stdin and stdout. network is "tcp" (addr host:port) or "unix"
// (addr a socket path on the remote host, sent with port -2; masters
// older than OpenSSH 9.4 ignore the -2 and ask for TCP to a host named
// like the path, which fails with *OpenError). ctx bounds the exchange and
// the channel open.
//
// Errors: *UnavailableError when no OpenSSH master answers at path,
// *OpenError when the master could not open the channel.
func DialOpenSSH(ctx context.Context, path, network, addr string) (net.Conn, error) {
	const id = 1
	req, err := muxRequest(id, network, addr)
	if err != nil {
		return nil, err
	}
	unavailable := func(err error) error { return &UnavailableError{Path: path, Err: err} }
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, unavailable(err)
	}
	ctl := c.(*net.UnixConn)
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(DefaultHandshakeTimeout)
	}
	ctl.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { ctl.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	fail := func(err error) (net.Conn, error) {
		ctl.Close()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, unavailable(err)
	}
	if err := writePacket(ctl, muxHelloMsg()); err != nil {
		return fail(err)
	}
	hello, err := readPacket(ctl)
	if err != nil {
		return fail(err)
	}
	if err := checkHello(hello); err != nil {
		return fail(err)
	}
	// stdin: we write, the master reads; stdout: the master writes, we read.
	in, inPeer, err := socketPair()
	if err != nil {
		return fail(err)
	}
	out, outPeer, err := socketPair()
	if err != nil {
		in.Close()
		inPeer.Close()
		return fail(err)
	}
	closeAll := func() { in.Close(); out.Close() }
	err = writePacket(ctl, req)
	if err == nil {
		err = sendFd(ctl, inPeer)
	}
	if err == nil {
		err = sendFd(ctl, outPeer)
	}
	inPeer.Close()
	outPeer.Close()
	if err != nil {
		closeAll()
		return fail(err)
	}
	rep, err := readPacket(ctl)
	if err != nil {
		closeAll()
		return fail(err)
	}
	opened, reason, err := parseStdioReply(rep, id)
	if err != nil {
		closeAll()
		return fail(err)
	}
	if !opened {
		closeAll()
		ctl.Close()
		return nil, &OpenError{Network: network, Addr: addr, Msg: reason}
	}
	if !stop() {
		closeAll()
		return fail(ctx.Err())
	}
	ctl.SetDeadline(time.Time{})
	return &muxConn{UnixConn: out, in: in, ctl: ctl}, nil
}

// socketPair returns the two ends of a stream socket pair: ours as a
// *net.UnixConn, the peer's as a file to pass on.
func socketPair() (*net.UnixConn, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("control: socketpair: %w", err)
	}
	unix.CloseOnExec(fds[0])
	unix.CloseOnExec(fds[1])
	f := os.NewFile(uintptr(fds[0]), "mux")
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		unix.Close(fds[1])
		return nil, nil, fmt.Errorf("control: socketpair: %w", err)
	}
	return c.(*net.UnixConn), os.NewFile(uintptr(fds[1]), "mux peer"), nil
}

// sendFd passes f over c with one byte of data, as OpenSSH's mm_send_fd.
func sendFd(c *net.UnixConn, f *os.File) error {
	n, oobn, err := c.WriteMsgUnix([]byte{0}, unix.UnixRights(int(f.Fd())), nil)
	if err == nil && (n != 1 || oobn == 0) {
		err = errors.New("short sendmsg")
	}
	if err != nil {
		return fmt.Errorf("control: pass descriptor: %w", err)
	}
	return nil
}

// muxConn is a stream through an OpenSSH master: reads come from the
// forward's stdout, writes go to its stdin, and the control connection
// stays open as long as the stream (closing it ends the forward).
type muxConn struct {
	*net.UnixConn // stdout, ours
	in            *net.UnixConn
	ctl           *net.UnixConn
}

func (c *muxConn) Write(p []byte) (int, error) { return c.in.Write(p) }

// CloseWrite ends the forward's input; the remote side sees EOF.
func (c *muxConn) CloseWrite() error { return c.in.Close() }

func (c *muxConn) Close() error {
	c.in.Close()
	c.ctl.Close()
	return c.UnixConn.Close()
}

func (c *muxConn) SetDeadline(t time.Time) error {
	c.in.SetWriteDeadline(t)
	return c.UnixConn.SetDeadline(t)
}

func (c *muxConn) SetWriteDeadline(t time.Time) error { return c.in.SetWriteDeadline(t) }
