//go:build linux || darwin

package control_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/control"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// wanConfig is f's config with the sshd reached through a latency proxy.
func wanConfig(t *testing.T, f *fixture, delay time.Duration) (tunnel.Config, *tunneltest.LatencyProxy) {
	t.Helper()
	px := tunneltest.NewLatencyProxy(t, f.sshd.Addr(), delay)
	var lines []string
	for _, k := range f.sshd.HostKeys {
		lines = append(lines, knownhosts.Line([]string{knownhosts.Normalize(px.Addr())}, k))
	}
	kh := filepath.Join(t.TempDir(), "wan_known_hosts")
	if err := os.WriteFile(kh, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := f.config()
	cfg.Addr, cfg.KnownHostsFiles = px.Addr(), []string{kh}
	return cfg, px
}

// On a 50 ms RTT link, keepalives every 200 ms keep the link (and a master
// on it) up; a connect bound shorter than the handshake's round trips
// fails the dial promptly instead of hanging.
func TestSlowLinkKeepaliveAndTimeouts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cfg, _ := wanConfig(t, f, 25*time.Millisecond)

	t.Run("keepalive holds", func(t *testing.T) {
		cfg := cfg
		cfg.KeepaliveInterval, cfg.KeepaliveMax = 200*time.Millisecond, 2
		ctx := testCtx(t)
		sock, err := control.Listen(ctx, f.path)
		if err != nil {
			t.Fatal(err)
		}
		c, err := tunnel.Dial(ctx, cfg)
		if err != nil {
			sock.Close()
			t.Fatal(err)
		}
		defer c.Close()
		done := make(chan error, 1)
		sctx, cancel := context.WithCancel(context.Background())
		go func() { done <- control.Serve(sctx, sock, c, control.MasterConfig{Prefetch: true}) }()
		defer func() { cancel(); <-done }()
		time.Sleep(time.Second) // five keepalives
		for i := range 3 {
			conn, err := control.Dial(testCtx(t), f.path, "tcp", f.target)
			if err != nil {
				t.Fatalf("Dial %d after keepalives on a slow link: %v", i, err)
			}
			roundTrip(t, conn, "slow link")
			conn.Close()
		}
		select {
		case err := <-done:
			t.Fatalf("master ended on a healthy slow link: %v", err)
		default:
		}
	})

	t.Run("connect timeout", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond) // two RTTs
		defer cancel()
		start := time.Now()
		c, err := tunnel.Dial(ctx, cfg)
		if err == nil {
			c.Close()
			t.Fatal("Dial within two RTTs succeeded; a handshake takes more")
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Dial = %v, want the deadline", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("Dial took %v past its 100 ms bound", d)
		}
	})

	t.Run("keepalive detects a frozen link", func(t *testing.T) {
		// Over the slow link, a peer that stops answering is found by
		// the keepalives (interval × max), and a master on the link ends
		// (see TestMasterEnds/link_dies).
		slow, _ := wanConfig(t, f, 25*time.Millisecond)
		slow.KeepaliveInterval, slow.KeepaliveMax = 200*time.Millisecond, 2
		c, err := tunnel.Dial(testCtx(t), slow)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Freeze sshd: nothing answers the keepalives any more.
		if err := f.sshd.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		defer f.sshd.Signal(syscall.SIGCONT)
		waited := make(chan error, 1)
		go func() { waited <- c.Wait() }()
		select {
		case err := <-waited:
			if err == nil {
				t.Error("Wait = nil, want the keepalive failure")
			}
		case <-time.After(20 * time.Second):
			t.Fatal("a frozen link was not detected in 20 s")
		}
	})
}
