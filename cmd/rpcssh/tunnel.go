package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/rpcssh/rpcssh/tunnel"
)

type tunnelCmd struct {
	Dest string `arg:"" optional:"" placeholder:"DEST" help:"The SSH destination, as ssh takes it (or --host)."`
	sshFlags
	remoteFlags
	Local       string `default:"127.0.0.1:8000" placeholder:"ADDR" help:"Local address to listen on; other programs use http://ADDR/RPC2."`
	LocalSocket string `type:"path" placeholder:"PATH" help:"Listen on this local Unix socket (mode 0600) instead of --local."`
}

func (c *tunnelCmd) Help() string {
	return `Keeps a local port forwarded to the XML-RPC server on the remote host's
loopback, through one SSH connection that is kept alive and redialled with
backoff when it drops. Any XML-RPC client can then use the printed URL:

  rpcssh tunnel -i ~/.ssh/id ubuntu@ec2-ip      # or --host; a ~/.ssh/config alias works
  python3 -c 'import xmlrpc.client as x; print(x.ServerProxy("http://user:PASS@127.0.0.1:8000/RPC2").echo("hi"))'`
}

func (c *tunnelCmd) Run(ctx context.Context, e *env) error {
	network, remote, err := c.remoteTarget()
	if err != nil {
		return err
	}
	lhost, _, err := net.SplitHostPort(c.Local)
	if err != nil && c.LocalSocket == "" {
		return usageErrorf("--local %q: want host:port, e.g. 127.0.0.1:8000", c.Local)
	}
	if c.Dest != "" {
		if len(c.Host) > 0 {
			return usageErrorf("give the destination as an argument or with --host, not both")
		}
		c.Host = []string{c.Dest}
	}
	host, err := c.singleHost()
	if err != nil {
		return err
	}
	setup, err := c.resolveHost(ctx, e, host)
	if err != nil {
		return err
	}
	defer setup.Close()
	cfg := setup.Config

	// Through a master if one serves (or starts for) the destination: its
	// first channel proves the way. Else dial once first, so that a wrong
	// key or host key fails now with its hint rather than on the first
	// forwarded connection.
	shared := sharedDialer(ctx, e, c.sshFlags, host, setup, network, remote)
	via := ""
	if shared != nil {
		defer shared.Close()
		shared.takeFirst().Close() // it proved the way; the server may not keep it open idle
		via = " (through the connection master)"
	} else {
		first, err := setup.Dial(ctx)
		if err != nil {
			return err
		}
		first.Close()
	}

	var l net.Listener
	u := url.URL{Scheme: "http", Path: c.Path}
	if c.LocalSocket != "" {
		l, err = listenUnix(c.LocalSocket, 0o600)
		if err != nil {
			return err
		}
		u = url.URL{Scheme: "unix", Path: c.LocalSocket + ":" + c.Path}
	} else {
		l, err = net.Listen("tcp", c.Local)
		if err != nil {
			return withHint(fmt.Errorf("listen %s: %w", c.Local, err), "pick a free local port with --local 127.0.0.1:PORT")
		}
		if !isLoopback(lhost) {
			e.warnf("listening on %s: other machines can reach the forwarded server", l.Addr())
		}
		u.Host = l.Addr().String()
	}
	target := remote // host:port, or an absolute path that Forward opens with streamlocal
	rd := tunnel.NewRedialer(tunnel.RedialConfig{
		Config:     cfg,
		MinBackoff: 500 * time.Millisecond,
		MaxBackoff: 30 * time.Second,
		OnEvent:    func(ev tunnel.Event) { e.infof("%s", describeEvent(ev)) },
		Shared:     sharedForward(e, shared),
	})
	defer rd.Close()
	e.infof("forwarding %s to %s on %s%s; Ctrl-C to stop", u.String(), target, cfg.Addr, via)
	fmt.Fprintln(e.stdout, u.String())
	err = rd.Forward(ctx, l, target)
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	e.infof("stopped")
	return nil
}

// sharedForward is the Redialer's way through the master, if there is
// one: each forwarded connection is a channel through it until it fails
// once; then the tunnel says so and keeps its own SSH link.
func sharedForward(e *env, d *masterDialer) func(context.Context, string, string) (net.Conn, error) {
	if d == nil {
		return nil
	}
	return func(ctx context.Context, _, _ string) (net.Conn, error) {
		c, err := openBounded(ctx, d.open)
		if err != nil {
			e.infof("connection master unusable (%v); dialing SSH directly", err)
		}
		return c, err
	}
}

// describeEvent words the tunnel's link changes for the person watching.
func describeEvent(ev tunnel.Event) string {
	switch ev.Kind {
	case tunnel.EventConnected:
		return "SSH link up"
	case tunnel.EventDisconnected:
		return fmt.Sprintf("SSH link lost: %v", ev.Err)
	case tunnel.EventRetrying:
		return fmt.Sprintf("reconnect attempt %d failed: %v; retrying in %s", ev.Attempt, ev.Err, ev.Delay.Round(100*time.Millisecond))
	case tunnel.EventFailed:
		return fmt.Sprintf("reconnect failed for good: %v", ev.Err)
	case tunnel.EventForwardError:
		return fmt.Sprintf("could not forward a connection: %v", ev.Err)
	}
	return ev.Kind.String()
}
