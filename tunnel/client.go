package tunnel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"

	"golang.org/x/crypto/ssh"
)

// Client is an SSH connection that carries forwarded connections. It is
// safe for concurrent use.
type Client struct {
	addr   string
	log    *slog.Logger
	ssh    *ssh.Client
	parent *Client // the jump hop this connection runs through, or nil

	done      chan struct{} // closed when the link is gone
	closeOnce sync.Once
	wg        sync.WaitGroup // keepalive and watcher goroutines

	mu    sync.Mutex
	cause error // why the link ended; set once, before done is closed

	onClose []io.Closer // released after the connection (DialDestination)
}

// Dial connects to cfg.Addr (through cfg.Jump hops, if any), verifies the
// host key and authenticates. ctx bounds the TCP connect and the SSH
// handshake of every hop; once Dial returns, ctx no longer matters.
//
// Errors: ErrNoHostKeyCheck, *UnknownHostError, *HostKeyChangedError,
// *RevokedHostKeyError, ErrAuthFailed (errors.Is) when no credential was
// accepted, ctx's error (errors.Is), or the dial/handshake error wrapped.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	var hop *Client
	if len(cfg.Jump) > 0 {
		if hop, err = dialJumps(ctx, cfg); err != nil {
			return nil, err
		}
		cfg.NetDial = hop.DialContext
	}
	netDial := cfg.NetDial
	if cfg.ProxyCommand != "" && hop == nil {
		netDial = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialProxyCommand(ctx, cfg.ProxyCommand, cfg.ProxyStderr)
		}
	}
	if netDial == nil {
		var d net.Dialer
		netDial = d.DialContext
	}
	conn, err := netDial(ctx, "tcp", cfg.Addr)
	if err != nil {
		if hop != nil {
			hop.Close()
		}
		return nil, fmt.Errorf("tunnel: dial %s: %w", cfg.Addr, err)
	}
	c, err := newClient(ctx, conn, cfg, hop)
	if err != nil && hop != nil {
		hop.Close()
	}
	return c, err
}

// dialJumps connects the hop chain of cfg and returns the innermost hop;
// closing it closes the whole chain.
func dialJumps(ctx context.Context, cfg Config) (*Client, error) {
	var prev *Client
	for i, hop := range cfg.Jump {
		if prev != nil {
			hop.NetDial = prev.DialContext
		} else if hop.NetDial == nil {
			hop.NetDial = cfg.NetDial
		}
		c, err := Dial(ctx, hop)
		if err != nil {
			if prev != nil {
				prev.Close()
			}
			return nil, &jumpError{hop: i + 1, err: err}
		}
		c.parent = prev
		prev = c
	}
	return prev, nil
}

// NewClient runs the SSH handshake over an existing connection (a socket
// pair, a channel of another Client) and takes ownership of conn. ctx
// bounds the handshake. cfg.Jump and cfg.NetDial are ignored. Errors are
// those of Dial.
func NewClient(ctx context.Context, conn net.Conn, cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		conn.Close()
		return nil, err
	}
	return newClient(ctx, conn, cfg, nil)
}

func newClient(ctx context.Context, conn net.Conn, cfg Config, parent *Client) (*Client, error) {
	hostKeyCallback, algos, err := hostKeyPolicy(cfg)
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn = newBufferedConn(wrapConn(conn, !cfg.noQuickAck))
	sshCfg := &ssh.ClientConfig{
		User:              cfg.User,
		Auth:              cfg.Auth,
		HostKeyCallback:   hostKeyCallback,
		HostKeyAlgorithms: algos,
	}
	// x/crypto has no context for the handshake: closing the connection is
	// the one interrupt that works for every net.Conn (SSH channels do not
	// support deadlines).
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	sc, chans, reqs, err := ssh.NewClientConn(conn, cfg.Addr, sshCfg)
	if !stop() {
		if err == nil {
			sc.Close()
		}
		conn.Close()
		return nil, fmt.Errorf("tunnel: handshake with %s: %w", cfg.Addr, context.Cause(ctx))
	}
	if err != nil {
		conn.Close()
		return nil, handshakeError(cfg.Addr, err)
	}
	c := &Client{
		addr:   cfg.Addr,
		log:    cfg.Logger,
		ssh:    ssh.NewClient(sc, chans, reqs),
		parent: parent,
		done:   make(chan struct{}),
	}
	c.wg.Add(1)
	go c.watch()
	if cfg.KeepaliveInterval > 0 {
		c.wg.Add(1)
		go c.keepalive(cfg.KeepaliveInterval, cfg.KeepaliveMax)
	}
	return c, nil
}

// handshakeError returns our typed host key errors unwrapped by layers of
// x/crypto wording, and wraps everything else.
func handshakeError(addr string, err error) error {
	var unknown *UnknownHostError
	var changed *HostKeyChangedError
	var revoked *RevokedHostKeyError
	switch {
	case errors.As(err, &unknown):
		return unknown
	case errors.As(err, &changed):
		return changed
	case errors.As(err, &revoked):
		return revoked
	case isAuthFailure(err):
		return &authError{addr: addr, err: err}
	}
	return fmt.Errorf("tunnel: handshake with %s: %w", addr, err)
}

// watch records why the transport ended.
func (c *Client) watch() {
	defer c.wg.Done()
	err := c.ssh.Wait()
	if err == nil {
		err = errors.New("connection closed by remote")
	}
	c.fail(fmt.Errorf("tunnel: connection to %s lost: %w", c.addr, err))
	close(c.done)
}

// fail records the first cause and closes the transport.
func (c *Client) fail(cause error) {
	c.mu.Lock()
	if c.cause == nil {
		c.cause = cause
	}
	c.mu.Unlock()
	c.ssh.Close()
}

// Wait blocks until the connection is gone and returns why: ErrClosed after
// Close, a keepalive timeout, or the transport error.
func (c *Client) Wait() error {
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cause
}

// Close closes the connection and every jump hop under it, and waits for the
// client's goroutines. Forwarded connections are cut.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.fail(ErrClosed)
		c.wg.Wait()
		if c.parent != nil {
			c.parent.Close()
		}
		for _, cl := range c.onClose {
			_ = cl.Close()
		}
	})
	return nil
}

// DialContext opens a connection from the server to addr: network "tcp",
// "tcp4" or "tcp6" with addr host:port (direct-tcpip; the server resolves
// the name), or "unix" with a socket path on the server
// (direct-streamlocal@openssh.com). It suits http.Transport.DialContext.
// ctx bounds the channel open; a channel that opens after ctx is done is
// closed. Errors: ErrClosed (or the cause of a lost link), *OpenError
// (matching ErrRemoteConnectFailed, ErrRemoteRefused, ErrForwardProhibited),
// ctx's error.
func (c *Client) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if err := checkDialArgs(network, addr); err != nil {
		return nil, err
	}
	if err := c.ended(); err != nil {
		return nil, err
	}
	conn, err := c.ssh.DialContext(ctx, network, addr)
	if err != nil {
		if err := c.ended(); err != nil {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("tunnel: dial %s %s: %w", network, addr, ctx.Err())
		}
		if oe := openError(network, addr, err); oe != err {
			return nil, oe
		}
		return nil, fmt.Errorf("tunnel: dial %s %s: %w", network, addr, err)
	}
	return conn, nil
}

// ended returns nil while the link is up, else closedErr. The cause is set
// before the transport is closed, so errors caused by closing see it.
func (c *Client) ended() error {
	c.mu.Lock()
	cause := c.cause
	c.mu.Unlock()
	if cause == nil {
		return nil
	}
	return c.closedErr()
}

// closedErr is ErrClosed after Close, or the cause that ended the link.
func (c *Client) closedErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cause == nil || errors.Is(c.cause, ErrClosed) {
		return ErrClosed
	}
	return c.cause
}

// jumpError says which hop of a ProxyJump chain failed; it unwraps to the
// hop's error (*UnknownHostError and so on).
type jumpError struct {
	hop int
	err error
}

func (e *jumpError) Error() string { return fmt.Sprintf("%v (jump host %d)", e.err, e.hop) }
func (e *jumpError) Unwrap() error { return e.err }

// checkDialArgs refuses what DialContext cannot open: networks other than
// tcp* and unix, and a tcp address without a port.
func checkDialArgs(network, addr string) error {
	switch network {
	case "tcp", "tcp4", "tcp6":
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return fmt.Errorf("tunnel: dial %s %s: %w", network, addr, err)
		}
	case "unix":
	default:
		return fmt.Errorf("tunnel: dial %s %s: unsupported network", network, addr)
	}
	return nil
}
