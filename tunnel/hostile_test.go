//go:build unix

package tunnel_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// rpcOverTunnel serves an XML-RPC server with "block" (waits for its ctx,
// after signalling entered) on a loopback port and returns an rpc.Client
// reaching it through c.
func rpcOverTunnel(t *testing.T, c *tunnel.Client, entered chan<- struct{}) (*rpc.Client, string) {
	t.Helper()
	srv := rpc.NewServer(rpc.ServerConfig{})
	if err := srv.Register("block", func(ctx context.Context) (string, error) {
		entered <- struct{}{}
		<-ctx.Done()
		return "", ctx.Err()
	}); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx, l); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	hc := &http.Client{Transport: &http.Transport{DialContext: c.DialContext}}
	rc, err := rpc.NewClient(rpc.ClientConfig{URL: "http://" + l.Addr().String() + "/RPC2", HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	return rc, l.Addr().String()
}

// TestRPCCallOnFrozenSSHD: an XML-RPC call is waiting for its answer through
// a real sshd when sshd is SIGSTOPped. With keepalives every 200 ms the
// call must fail on its own, within a few intervals, though its ctx allows
// a minute.
func TestRPCCallOnFrozenSSHD(t *testing.T) {
	t.Parallel()
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	cfg := sshdClientConfig(t, s)
	cfg.KeepaliveInterval = 200 * time.Millisecond
	cfg.KeepaliveMax = 3
	c := sshdDial(t, cfg)
	entered := make(chan struct{}, 1)
	rc, _ := rpcOverTunnel(t, c, entered)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	callErr := make(chan error, 1)
	go func() { callErr <- rc.Call(ctx, "block", nil, nil) }()
	select {
	case <-entered:
	case err := <-callErr:
		t.Fatalf("call ended before the method ran: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("the call did not reach the method in 20 s")
	}
	if err := s.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Signal(syscall.SIGCONT) })
	frozen := time.Now()
	select {
	case err := <-callErr:
		t.Logf("call failed %v after sshd froze: %v", time.Since(frozen).Round(time.Millisecond), err)
		if err == nil || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("call = %v, want a link-lost error before its ctx ends", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("call still waiting 20 s after sshd froze (keepalive 200 ms x 3)")
	}
	err := c.Wait()
	t.Logf("Wait = %v", err)
	if err == nil || errors.Is(err, tunnel.ErrClosed) {
		t.Errorf("Wait = %v, want the keepalive failure", err)
	}
}

// TestRPCCallRemotePortClosed: nothing listens on the remote port; the call
// fails at once with an error matching tunnel.ErrRemoteConnectFailed, and
// the SSH link stays usable.
func TestRPCCallRemotePortClosed(t *testing.T) {
	t.Parallel()
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	c := sshdDial(t, sshdClientConfig(t, s))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	hc := &http.Client{Transport: &http.Transport{DialContext: c.DialContext}}
	rc, err := rpc.NewClient(rpc.ClientConfig{URL: "http://" + closed + "/RPC2", HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = rc.Call(ctx, "echo", nil, nil)
	if !errors.Is(err, tunnel.ErrRemoteConnectFailed) {
		t.Errorf("call to a closed remote port = %v, want ErrRemoteConnectFailed", err)
	}
	// The link is still fine: a server that does listen is reachable.
	rc2, _ := rpcOverTunnel(t, c, make(chan struct{}, 1))
	var names []string
	if err := rc2.Call(ctx, "system.listMethods", nil, &names); err != nil || len(names) == 0 {
		t.Errorf("call through the same link afterwards = %v, %v", names, err)
	}
}
