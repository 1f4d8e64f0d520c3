package tunnel_test

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// TestRedialerShared: while RedialConfig.Shared opens connections the
// Redialer dials no link of its own; after Shared's first error it dials
// its own and never asks Shared again.
func TestRedialerShared(t *testing.T) {
	t.Parallel()
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	echo := startEchoServer(t)
	cfg := sshdClientConfig(t, s)
	var dials, sharedCalls atomic.Int32
	cfg.NetDial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	var masterUp atomic.Bool
	masterUp.Store(true)
	r := tunnel.NewRedialer(tunnel.RedialConfig{Config: cfg, Shared: func(ctx context.Context, network, addr string) (net.Conn, error) {
		sharedCalls.Add(1)
		if !masterUp.Load() {
			return nil, errors.New("master gone")
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr) // stands for a channel through the master
	}})
	t.Cleanup(func() { r.Close() })
	dial := func(msg string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c, err := r.DialContext(ctx, "tcp", echo)
		if err != nil {
			t.Fatal(err)
		}
		echoRoundTrip(t, c, msg)
		c.Close()
	}
	dial("one")
	dial("two")
	if got := dials.Load(); got != 0 {
		t.Errorf("SSH dials with a working Shared = %d, want 0", got)
	}
	masterUp.Store(false)
	dial("three")
	dial("four")
	if got, calls := dials.Load(), sharedCalls.Load(); got != 1 || calls != 3 {
		t.Errorf("after Shared failed: SSH dials = %d, Shared calls = %d; want 1 and 3", got, calls)
	}
}
