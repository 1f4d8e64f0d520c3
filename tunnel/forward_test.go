package tunnel_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// startForward runs c.Forward on a fresh loopback listener and returns
// the listener and a channel with Forward's result.
func startForward(t *testing.T, ctx context.Context, c *tunnel.Client, remote string) (net.Listener, <-chan error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	res := make(chan error, 1)
	go func() { res <- c.Forward(ctx, l, remote) }()
	return l, res
}

// wantListenerClosed fails the test unless l is closed. It asks l itself:
// dialing its address could reach another test's listener, which may
// have the freed port by then.
func wantListenerClosed(t *testing.T, l net.Listener) {
	t.Helper()
	if tl, ok := l.(*net.TCPListener); ok {
		_ = tl.SetDeadline(time.Now().Add(time.Second)) // an open one times out
	}
	if c, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		if c != nil {
			c.Close()
		}
		t.Errorf("Accept on the listener after Forward returned = %v, want %v", err, net.ErrClosed)
	}
}

func waitErr(t *testing.T, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not return within 10s", what)
		return nil
	}
}

func TestForwardConcurrentHalfClose(t *testing.T) {
	p := newInProc(t, tunneltest.Config{})
	echo := echoAddr(t, "tcp", "127.0.0.1:0")
	base := goroutineBase()
	c, err := tunnel.Dial(testCtx(t), p.config())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l, res := startForward(t, ctx, c, echo)
	local := l.Addr().String()

	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := make([]byte, 1000+i*3000) // up to ~120 KB: beyond one channel window packet
			_, _ = rand.Read(msg)
			conn, err := net.Dial("tcp", local)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
			go func() {
				_, _ = conn.Write(msg)
				_ = conn.(*net.TCPConn).CloseWrite() // half-close: the echo must still come back
			}()
			got, err := io.ReadAll(conn)
			if err != nil {
				errs <- fmt.Errorf("conn %d: read: %w", i, err)
				return
			}
			if !bytes.Equal(got, msg) {
				errs <- fmt.Errorf("conn %d: echoed %d bytes, want %d identical", i, len(got), len(msg))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	cancel()
	if err := waitErr(t, res, "Forward after cancel"); err != nil {
		t.Errorf("Forward after cancel = %v, want nil", err)
	}
	wantListenerClosed(t, l)
	c.Close()
	goroutinesSettle(t, base)
}

func TestDialContextErrors(t *testing.T) {
	p := newInProc(t, tunneltest.Config{})
	denied := newInProc(t, tunneltest.Config{DenyForwarding: true})
	c := dialOK(t, p.config())
	cd := dialOK(t, denied.config())
	echo := echoAddr(t, "tcp", "127.0.0.1:0")
	missing := filepath.Join(t.TempDir(), "missing.sock")
	checkOpenErrors(t, []openErrorCase{
		{"closed port", c, "tcp", refusedAddr(t), []error{tunnel.ErrRemoteRefused, tunnel.ErrRemoteConnectFailed}, tunnel.ErrForwardProhibited, "connect failed: Connection refused"},
		{"prohibited tcp", cd, "tcp", echo, []error{tunnel.ErrForwardProhibited}, tunnel.ErrRemoteConnectFailed, "administratively prohibited"},
		{"prohibited unix", cd, "unix", missing, []error{tunnel.ErrRemoteConnectFailed}, tunnel.ErrRemoteRefused, "connect failed: open failed"},
		{"socket missing", c, "unix", missing, []error{tunnel.ErrRemoteConnectFailed}, tunnel.ErrRemoteRefused, "connect failed: open failed"},
	})
}

// The same refusals from OpenSSH's sshd: the mapping rests on its wording.
func TestDialContextErrorsFromOpenSSH(t *testing.T) {
	t.Parallel()
	dial := func(sc tunneltest.SSHDConfig) *tunnel.Client {
		s := tunneltest.StartSSHD(t, sc)
		kh := filepath.Join(t.TempDir(), "known_hosts")
		if err := s.WriteKnownHosts(kh, false); err != nil {
			t.Fatal(err)
		}
		key, err := tunnel.LoadKey(s.ClientKeyPath, nil)
		if err != nil {
			t.Fatal(err)
		}
		return dialOK(t, tunnel.Config{Addr: s.Addr(), User: s.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(key)}, KnownHostsFiles: []string{kh}})
	}
	c := dial(tunneltest.SSHDConfig{})
	cd := dial(tunneltest.SSHDConfig{AllowTCPForwarding: "no", AllowStreamLocalForwarding: "no"})
	echo := echoAddr(t, "tcp", "127.0.0.1:0")
	missing := filepath.Join(t.TempDir(), "missing.sock")
	checkOpenErrors(t, []openErrorCase{
		{"closed port", c, "tcp", refusedAddr(t), []error{tunnel.ErrRemoteRefused, tunnel.ErrRemoteConnectFailed}, tunnel.ErrForwardProhibited, "connect failed: Connection refused"},
		{"prohibited tcp", cd, "tcp", echo, []error{tunnel.ErrForwardProhibited}, tunnel.ErrRemoteConnectFailed, "administratively prohibited"},
		{"prohibited unix", cd, "unix", missing, []error{tunnel.ErrRemoteConnectFailed}, tunnel.ErrRemoteRefused, "connect failed: open failed"},
		{"socket missing", c, "unix", missing, []error{tunnel.ErrRemoteConnectFailed}, tunnel.ErrRemoteRefused, "connect failed: open failed"},
	})
}

type openErrorCase struct {
	name     string
	c        *tunnel.Client
	network  string
	addr     string
	want     []error
	notWant  error
	wantText string
}

func checkOpenErrors(t *testing.T, tests []openErrorCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.c.DialContext(testCtx(t), tt.network, tt.addr)
			var oe *tunnel.OpenError
			if !errors.As(err, &oe) {
				t.Fatalf("DialContext(%s, %s) error = %v (%T), want *tunnel.OpenError", tt.network, tt.addr, err, err)
			}
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("error %v: errors.Is(%v) = false, want true", err, w)
				}
			}
			if errors.Is(err, tt.notWant) {
				t.Errorf("error %v: errors.Is(%v) = true, want false", err, tt.notWant)
			}
			if !strings.Contains(err.Error(), tt.wantText) || !strings.Contains(err.Error(), tt.addr) {
				t.Errorf("error %q, want it to contain %q and %q", err, tt.wantText, tt.addr)
			}
		})
	}
}

// refusedAddr returns a loopback address with nothing listening.
func refusedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestDialContextUnixSocket(t *testing.T) {
	p := newInProc(t, tunneltest.Config{})
	c := dialOK(t, p.config())
	sock := echoAddr(t, "unix", filepath.Join(t.TempDir(), "echo.sock"))
	conn, err := c.DialContext(testCtx(t), "unix", sock)
	if err != nil {
		t.Fatalf("DialContext(unix) error = %v", err)
	}
	defer conn.Close()
	roundTrip(t, conn, "through direct-streamlocal")

	// Forward with an absolute path as remote uses the socket too.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l, res := startForward(t, ctx, c, sock)
	local := l.Addr().String()
	lc, err := net.Dial("tcp", local)
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	roundTrip(t, lc, "forwarded to a unix socket")
	cancel()
	if err := waitErr(t, res, "Forward"); err != nil {
		t.Errorf("Forward = %v, want nil", err)
	}
}

func TestDialContextUnsupportedNetwork(t *testing.T) {
	p := newInProc(t, tunneltest.Config{})
	c := dialOK(t, p.config())
	for _, tt := range []struct{ network, addr string }{{"udp", "127.0.0.1:53"}, {"tcp", "no-port"}} {
		if _, err := c.DialContext(testCtx(t), tt.network, tt.addr); err == nil {
			t.Errorf("DialContext(%s, %s) error = nil, want an error", tt.network, tt.addr)
		}
	}
}

func TestForwardEndsWhenClientCloses(t *testing.T) {
	p := newInProc(t, tunneltest.Config{})
	c, err := tunnel.Dial(testCtx(t), p.config())
	if err != nil {
		t.Fatal(err)
	}
	echo := echoAddr(t, "tcp", "127.0.0.1:0")
	l, res := startForward(t, context.Background(), c, echo)
	local := l.Addr().String()
	lc, err := net.Dial("tcp", local)
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	if _, err := lc.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1)
	_ = lc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(lc, buf); err != nil {
		t.Fatalf("read echo: %v", err)
	}
	c.Close()
	if err := waitErr(t, res, "Forward after Close"); !errors.Is(err, tunnel.ErrClosed) {
		t.Errorf("Forward after Close = %v, want ErrClosed", err)
	}
	// The open forwarded connection was cut.
	if _, err := io.ReadAll(lc); err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		t.Errorf("read after Close: %v", err)
	}
	if _, err := c.DialContext(testCtx(t), "tcp", echo); !errors.Is(err, tunnel.ErrClosed) {
		t.Errorf("DialContext after Close = %v, want ErrClosed", err)
	}
	// Forward on a closed client returns at once.
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Forward(context.Background(), l2, echo); !errors.Is(err, tunnel.ErrClosed) {
		t.Errorf("Forward on closed client = %v, want ErrClosed", err)
	}
}

func isReset(err error) bool { return strings.Contains(err.Error(), "reset") }

// A forwarded connection the server cannot open is closed at once, and the
// reason goes to Config.Logger since Forward keeps serving.
func TestForwardRefusedRemoteIsLogged(t *testing.T) {
	p := newInProc(t, tunneltest.Config{})
	var logs syncBuffer
	cfg := p.config()
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	c := dialOK(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l, res := startForward(t, ctx, c, refusedAddr(t))
	local := l.Addr().String()
	lc, err := net.Dial("tcp", local)
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	_ = lc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := lc.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read from refused forward = %d, %v; want EOF", n, err)
	}
	cancel()
	if err := waitErr(t, res, "Forward"); err != nil {
		t.Errorf("Forward = %v, want nil", err)
	}
	if got := logs.String(); !strings.Contains(got, "level=WARN") || !strings.Contains(got, "Connection refused") {
		t.Errorf("log = %q, want a WARN line with the server's reason", got)
	}
}

// syncBuffer collects what another goroutine writes (a logger, a child
// process's stderr).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
