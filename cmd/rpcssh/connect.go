package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
	"github.com/rpcssh/rpcssh/tunnel"
)

// remoteFlags name the XML-RPC server on the far side of the tunnel.
type remoteFlags struct {
	Port   int    `default:"8000" help:"The XML-RPC server's TCP port on the remote host's loopback (as 'rpcssh serve --port')."`
	Socket string `placeholder:"PATH" help:"A Unix socket on the remote host to reach instead of --port."`
	Path   string `default:"/RPC2" help:"HTTP path of the XML-RPC endpoint."`
}

// remoteTarget is the network and address the tunnel opens on the remote
// side: the server on the instance's own loopback.
func (r remoteFlags) remoteTarget() (network, addr string, err error) {
	if r.Socket != "" {
		return "unix", r.Socket, nil
	}
	if r.Port < 1 || r.Port > 65535 {
		return "", "", usageErrorf("--port %d: not 1-65535", r.Port)
	}
	return "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(r.Port)), nil
}

// sshLink is an open SSH connection and an HTTP client whose every
// connection is a channel through it to the remote server.
type sshLink struct {
	client *tunnel.Client
	setup  *tunnel.Resolved // nil when the caller owns the resolved set-up
	http   *http.Client
	url    string
	lost   chan error // receives Wait's cause once the link has ended
	shared io.Closer  // channels go through a master instead of client (control.go)
}

// explain adds why the SSH link died to an error from a call through it,
// which by itself says only "EOF". A link still up leaves err as it is.
func (l *sshLink) explain(err error) error {
	var fault *rpc.Fault
	var httpErr *rpc.HTTPError
	if err == nil || errors.As(err, &fault) || errors.As(err, &httpErr) {
		return err // the server answered: the link was fine
	}
	select {
	case cause := <-l.lost:
		l.lost <- cause // keep it for the next caller
		if cause != nil {
			return fmt.Errorf("%w (the SSH link was lost: %v)", err, cause)
		}
	case <-time.After(100 * time.Millisecond):
		// Still up, or not yet noticed: the call's own error stands.
	}
	return err
}

func (l *sshLink) Close() error {
	l.http.CloseIdleConnections()
	var err error
	if l.client != nil {
		err = l.client.Close()
	}
	if l.shared != nil {
		l.shared.Close()
	}
	if l.setup != nil {
		closeQuietly(l.setup)
	}
	return err
}

// dialSSH resolves the single --host and connects, bounded by
// --connect-timeout. An empty *password is filled, before connecting, with
// the one `rpcssh install` stored for the destination, or is an error.
func dialSSH(ctx context.Context, e *env, f sshFlags, r remoteFlags, password *string) (*sshLink, error) {
	if _, _, err := r.remoteTarget(); err != nil {
		return nil, err
	}
	host, err := f.singleHost()
	if err != nil {
		return nil, err
	}
	setup, err := resolveDeferringKeys(ctx, e, f, host)
	if err != nil {
		return nil, err
	}
	if *password == "" {
		if *password, err = storedPassword(e, setup.Config); err == nil && *password == "" {
			err = noPasswordError(true)
		}
		if err != nil {
			closeQuietly(setup)
			return nil, err
		}
	}
	if link := sharedLink(ctx, e, f, r, host, setup); link != nil {
		link.setup = setup
		return link, nil
	}
	if err := setup.LoadKeys(); err != nil {
		closeQuietly(setup)
		return nil, resolveError(err)
	}
	link, err := dialResolved(ctx, setup, r)
	if err != nil {
		closeQuietly(setup)
		return nil, err
	}
	link.setup = setup
	return link, nil
}

// resolveDeferringKeys resolves the destination as resolveHost does but
// reads no key and asks for no passphrase yet (tunnel.Resolved.LoadKeys
// does, when it comes to dialing): a call that a master serves needs
// neither.
func resolveDeferringKeys(ctx context.Context, e *env, f sshFlags, dest string) (*tunnel.Resolved, error) {
	opts, err := f.resolveOptions(e)
	if err != nil {
		return nil, err
	}
	opts.DeferKeys = true
	res, err := tunnel.Resolve(ctx, dest, opts)
	if err != nil {
		return nil, resolveError(err)
	}
	return res, nil
}

// dialResolved connects with a resolved destination and returns the HTTP
// client through it.
func dialResolved(ctx context.Context, res *tunnel.Resolved, r remoteFlags) (*sshLink, error) {
	network, addr, err := r.remoteTarget()
	if err != nil {
		return nil, err
	}
	c, err := res.Dial(ctx)
	if err != nil {
		return nil, err
	}
	link := linkThrough(func(ctx context.Context) (net.Conn, error) {
		return c.DialContext(ctx, network, addr)
	}, network, addr, r.Path)
	link.client = c
	go func() { link.lost <- c.Wait() }()
	return link, nil
}

// linkThrough is a link whose HTTP connections are each a channel that
// dial opens to the server at network, addr; the caller sets what carries
// the channels (client or shared) and feeds lost.
func linkThrough(dial func(context.Context) (net.Conn, error), network, addr, path string) *sshLink {
	tr := &http.Transport{
		DialContext:         func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) },
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	host := addr
	if network == "unix" {
		host = "localhost"
	}
	return &sshLink{
		lost: make(chan error, 1),
		http: &http.Client{Transport: tr},
		url:  "http://" + host + path,
	}
}

// dialFleetHost resolves (with resolve, which uses the fan-out's shared
// resolver) and connects one host of a fan-out. The link does not own the
// resolver.
func dialFleetHost(ctx context.Context, resolve func(context.Context) (*tunnel.Resolved, error), rf remoteFlags) (*sshLink, error) {
	res, err := resolve(ctx)
	if err != nil {
		return nil, resolveError(err)
	}
	link, err := dialResolved(ctx, res, rf)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = fmt.Errorf("--connect-timeout %s: %w", res.ConnectTimeout, err)
		}
		return nil, err
	}
	return link, nil
}

// connectRPC reaches the server as call and jobs do: directly with --url,
// else through SSH to the single --host. The link is nil for --url; close
// it when done.
func connectRPC(ctx context.Context, e *env, f sshFlags, r remoteFlags, url, username, password string, lim rpc.Limits) (*rpc.Client, *sshLink, error) {
	var hc *http.Client
	var link *sshLink
	switch {
	case url != "" && len(f.Host) > 0:
		return nil, nil, usageErrorf("give --host (through SSH) or --url (direct), not both")
	case url == "":
		var err error
		link, err = dialSSH(ctx, e, f, r, &password)
		if err != nil {
			return nil, nil, err
		}
		url, hc = link.url, link.http
	}
	client, err := newRPCClient(url, hc, username, password, lim)
	if err != nil {
		if link != nil {
			link.Close()
		}
		return nil, nil, err
	}
	return client, link, nil
}

// newRPCClient makes the XML-RPC client for a URL, over hc when non-nil.
func newRPCClient(url string, hc *http.Client, username, password string, lim rpc.Limits) (*rpc.Client, error) {
	c, err := rpc.NewClient(rpc.ClientConfig{URL: url, Username: username, Password: password, HTTPClient: hc, Limits: lim})
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	return c, nil
}
