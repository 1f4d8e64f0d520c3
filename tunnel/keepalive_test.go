package tunnel_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// waitDone returns Wait's result, failing if it takes longer than bound.
func waitDone(t *testing.T, c *tunnel.Client, bound time.Duration) error {
	t.Helper()
	res := make(chan error, 1)
	go func() { res <- c.Wait() }()
	select {
	case err := <-res:
		return err
	case <-time.After(bound):
		t.Fatalf("Wait did not return within %v", bound)
		return nil
	}
}

// A frozen server (reads nothing, answers nothing) is detected by the
// keepalive and Wait returns with the cause.
func TestKeepaliveFrozenServer(t *testing.T) {
	t.Parallel()
	p := newInProc(t, tunneltest.Config{})
	cfg := p.config()
	cfg.KeepaliveInterval = 100 * time.Millisecond
	cfg.KeepaliveMax = 3
	c := dialOK(t, cfg)
	p.srv.Freeze()
	err := waitDone(t, c, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "keepalive") {
		t.Fatalf("Wait() = %v, want a keepalive failure", err)
	}
	if _, err := c.DialContext(testCtx(t), "tcp", "127.0.0.1:1"); err == nil || errors.Is(err, tunnel.ErrClosed) {
		t.Errorf("DialContext after keepalive failure = %v, want the keepalive cause", err)
	}
}

// OpenSSH (and tunneltest) answer keepalive@openssh.com with a failure
// reply: that still means alive, so an idle link survives many intervals.
// Were a failure reply counted as unanswered, the link would die after
// KeepaliveMax intervals; it is watched for three times that. The interval
// and the number of misses leave a loaded machine's scheduler 600 ms to
// deliver an answer (20 ms and 1 miss did not, on a busy CI machine).
func TestKeepaliveFailureReplyMeansAlive(t *testing.T) {
	t.Parallel()
	const (
		interval = 200 * time.Millisecond
		misses   = 3
	)
	p := newInProc(t, tunneltest.Config{})
	cfg := p.config()
	cfg.KeepaliveInterval = interval
	cfg.KeepaliveMax = misses
	c := dialOK(t, cfg)
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		t.Fatalf("link died while idle: %v", err)
	case <-time.After(3 * (misses + 1) * interval):
	}
	conn, err := c.DialContext(testCtx(t), "tcp", echoAddr(t, "tcp", "127.0.0.1:0"))
	if err != nil {
		t.Fatalf("DialContext after idle keepalives error = %v", err)
	}
	roundTrip(t, conn, "still here")
	conn.Close()
}

func TestWaitAfterServerClose(t *testing.T) {
	p := newInProc(t, tunneltest.Config{})
	cfg := p.config()
	cfg.KeepaliveInterval = -1
	c := dialOK(t, cfg)
	p.srv.Close()
	err := waitDone(t, c, 10*time.Second)
	if err == nil || errors.Is(err, tunnel.ErrClosed) {
		t.Fatalf("Wait() = %v, want a lost-connection error", err)
	}
}

func TestWaitAfterClose(t *testing.T) {
	p := newInProc(t, tunneltest.Config{})
	c := dialOK(t, p.config())
	c.Close()
	if err := waitDone(t, c, 10*time.Second); !errors.Is(err, tunnel.ErrClosed) {
		t.Fatalf("Wait() after Close = %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
}

// ctx bounds the channel open even when the server never answers it.
func TestDialContextBoundedOnFrozenServer(t *testing.T) {
	t.Parallel()
	p := newInProc(t, tunneltest.Config{})
	cfg := p.config()
	cfg.KeepaliveInterval = -1
	c := dialOK(t, cfg)
	p.srv.Freeze()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	res := make(chan error, 1)
	go func() {
		conn, err := c.DialContext(ctx, "tcp", "127.0.0.1:9")
		if conn != nil {
			conn.Close()
		}
		res <- err
	}()
	select {
	case err := <-res:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("DialContext error = %v, want context.DeadlineExceeded", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("DialContext ignored its context")
	}
}
