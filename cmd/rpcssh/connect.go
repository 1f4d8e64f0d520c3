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
	setup  *sshSetup // nil when the caller owns the resolved set-up
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
// --connect-timeout.
func dialSSH(ctx context.Context, e *env, f sshFlags, r remoteFlags) (*sshLink, error) {
	if _, _, err := r.remoteTarget(); err != nil {
		return nil, err
	}
	host, err := f.singleHost()
	if err != nil {
		return nil, err
	}
	return dialSSHHost(ctx, e, f, r, host)
}

// dialSSHHost resolves one destination from the flags and ssh_config and
// connects, bounded by --connect-timeout per hop.
func dialSSHHost(ctx context.Context, e *env, f sshFlags, r remoteFlags, dest string) (*sshLink, error) {
	setup, err := f.resolveHost(e, dest)
	if err != nil {
		return nil, err
	}
	if link := sharedLink(ctx, e, f, r, dest, setup.cfg); link != nil {
		link.setup = setup
		return link, nil
	}
	link, err := dialConfig(ctx, setup.cfg, f.ConnectTimeout, r)
	if err != nil {
		closeQuietly(setup)
		return nil, err
	}
	link.setup = setup
	return link, nil
}

// dialConfig connects with a resolved tunnel.Config, the connection
// bounded by connectTimeout per hop, and returns the HTTP client through it.
func dialConfig(ctx context.Context, cfg tunnel.Config, connectTimeout time.Duration, r remoteFlags) (*sshLink, error) {
	network, addr, err := r.remoteTarget()
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, connectTimeout*time.Duration(1+len(cfg.Jump)))
	defer cancel()
	c, err := tunnel.Dial(dctx, cfg)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return c.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	host := addr
	if network == "unix" {
		host = "localhost"
	}
	lost := make(chan error, 1)
	go func() { lost <- c.Wait() }()
	return &sshLink{
		client: c,
		lost:   lost,
		http:   &http.Client{Transport: tr},
		url:    "http://" + host + r.Path,
	}, nil
}

// connectRPC reaches the server as call and jobs do: directly with --url,
// else through SSH to the single --host. The link is nil for --url; close
// it when done.
func connectRPC(ctx context.Context, e *env, f sshFlags, r remoteFlags, url, username, password string) (*rpc.Client, *sshLink, error) {
	var hc *http.Client
	var link *sshLink
	switch {
	case url != "" && len(f.Host) > 0:
		return nil, nil, usageErrorf("give --host (through SSH) or --url (direct), not both")
	case url == "":
		var err error
		link, err = dialSSH(ctx, e, f, r)
		if err != nil {
			return nil, nil, err
		}
		url, hc = link.url, link.http
	}
	client, err := newRPCClient(url, hc, username, password)
	if err != nil {
		if link != nil {
			link.Close()
		}
		return nil, nil, err
	}
	return client, link, nil
}

// newRPCClient makes the XML-RPC client for a URL, over hc when non-nil.
func newRPCClient(url string, hc *http.Client, username, password string) (*rpc.Client, error) {
	c, err := rpc.NewClient(rpc.ClientConfig{URL: url, Username: username, Password: password, HTTPClient: hc})
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	return c, nil
}
