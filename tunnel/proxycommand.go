package tunnel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ProxyCommandError reports a ProxyCommand that could not be started or
// that exited while SSH was still talking through it.
type ProxyCommandError struct {
	Command string
	Status  string // "exit status 1", "signal: killed", or the start error
}

func (e *ProxyCommandError) Error() string {
	return fmt.Sprintf("tunnel: proxy command %q exited: %s", e.Command, e.Status)
}

// expandProxyCommand expands the tokens ssh allows in ProxyCommand: %h
// (host), %p (port), %r (remote user), %n (the alias as typed) and %%.
func expandProxyCommand(cmd, host, port, user, alias string) string {
	var b strings.Builder
	for i := 0; i < len(cmd); i++ {
		if cmd[i] != '%' || i+1 >= len(cmd) {
			b.WriteByte(cmd[i])
			continue
		}
		i++
		switch cmd[i] {
		case 'h':
			b.WriteString(host)
		case 'p':
			b.WriteString(port)
		case 'r':
			b.WriteString(user)
		case 'n':
			b.WriteString(alias)
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(cmd[i])
		}
	}
	return b.String()
}

// dialProxyCommand starts command with /bin/sh -c (its stderr to stderr)
// and returns a net.Conn over its stdin and stdout. ctx bounds only the
// start; closing the conn ends the process.
func dialProxyCommand(ctx context.Context, command string, stderr io.Writer) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cmd := exec.Command("/bin/sh", "-c", command)
	cmd.Env = proxyEnv(os.Environ())
	if stderr != nil {
		cmd.Stderr = stderr
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, &ProxyCommandError{Command: command, Status: err.Error()}
	}
	// Not StdoutPipe: Wait closes that pipe as soon as the command exits,
	// and what it wrote last (an SSH server's last packets) would be lost
	// unread. With our own pipe, the output is read to its end.
	stdout, w, err := os.Pipe()
	if err != nil {
		return nil, &ProxyCommandError{Command: command, Status: err.Error()}
	}
	cmd.Stdout = w
	err = cmd.Start()
	w.Close()
	if err != nil {
		stdout.Close()
		return nil, &ProxyCommandError{Command: command, Status: err.Error()}
	}
	c := &proxyConn{command: command, cmd: cmd, stdin: stdin, stdout: stdout, exited: make(chan struct{}), closed: make(chan struct{})}
	go func() {
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

// proxyEnv is the environment without this program's secrets.
func proxyEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "RPCSSH_") {
			out = append(out, kv)
		}
	}
	return out
}

type proxyConn struct {
	command string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stdout  io.ReadCloser

	exited  chan struct{}
	waitErr error

	closeOnce sync.Once
	closed    chan struct{}
}

// Read returns, at the command's end of output, a *ProxyCommandError
// naming its exit status, unless the conn was closed.
func (c *proxyConn) Read(p []byte) (int, error) {
	n, err := c.stdout.Read(p)
	if err == io.EOF || errors.Is(err, os.ErrClosed) {
		select {
		case <-c.exited:
		case <-time.After(2 * time.Second):
			return n, err
		}
		if c.waitErr != nil && !c.isClosed() {
			return n, &ProxyCommandError{Command: c.command, Status: c.waitErr.Error()}
		}
		if !c.isClosed() {
			return n, &ProxyCommandError{Command: c.command, Status: "exit status 0 (closed the connection)"}
		}
	}
	return n, err
}

// Write returns, when the command's input is gone because it exited, a
// *ProxyCommandError naming its exit status. A broken pipe comes before
// the command is reaped, so it waits a moment for that, as Read does.
func (c *proxyConn) Write(p []byte) (int, error) {
	n, err := c.stdin.Write(p)
	if err != nil && !c.isClosed() {
		select {
		case <-c.exited:
			return n, &ProxyCommandError{Command: c.command, Status: fmt.Sprint(c.waitErr)}
		case <-time.After(2 * time.Second):
		}
	}
	return n, err
}

func (c *proxyConn) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// Close closes its stdin and asks the command to end (SIGTERM where there
// are signals), kills it if it has not exited within a moment, and reaps
// it. A command should exec its last program (exec nc %h %p), as with ssh:
// a child it forks is not signalled.
func (c *proxyConn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		c.stdin.Close()
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.exited:
		case <-time.After(500 * time.Millisecond):
			_ = c.cmd.Process.Kill()
			<-c.exited
		}
		c.stdout.Close()
	})
	return nil
}

func (c *proxyConn) LocalAddr() net.Addr                { return proxyAddr(c.command) }
func (c *proxyConn) RemoteAddr() net.Addr               { return proxyAddr(c.command) }
func (c *proxyConn) SetDeadline(t time.Time) error      { return nil }
func (c *proxyConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *proxyConn) SetWriteDeadline(t time.Time) error { return nil }

type proxyAddr string

func (a proxyAddr) Network() string { return "proxycommand" }
func (a proxyAddr) String() string  { return string(a) }
