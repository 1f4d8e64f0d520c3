package tunnel_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// inProc is an in-process SSH server with a user key and a known_hosts
// file that trusts it.
type inProc struct {
	srv        *tunneltest.Server
	user       ssh.Signer
	knownHosts string
}

// newInProc starts a tunneltest server that accepts a fresh user key and
// writes a known_hosts with its ed25519 key.
func newInProc(t testing.TB, cfg tunneltest.Config) *inProc {
	t.Helper()
	user := genSigner(t)
	cfg.AuthorizedKeys = append(cfg.AuthorizedKeys, user.PublicKey())
	srv := tunneltest.NewServer(t, cfg)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, kh, srv.KnownHostsLine()+"\n")
	return &inProc{srv: srv, user: user, knownHosts: kh}
}

// config returns a Config that dials p with its user key.
func (p *inProc) config() tunnel.Config {
	return tunnel.Config{
		Addr:            p.srv.Addr(),
		User:            "tester",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(p.user)},
		KnownHostsFiles: []string{p.knownHosts},
	}
}

func genSigner(t testing.TB) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dialOK dials cfg and closes the client at cleanup.
func dialOK(t testing.TB, cfg tunnel.Config) *tunnel.Client {
	t.Helper()
	c, err := tunnel.Dial(testCtx(t), cfg)
	if err != nil {
		t.Fatalf("Dial(%s) error = %v, want nil", cfg.Addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// echoAddr starts an echo server (network "tcp" or "unix") and returns its
// address. Cleanup closes it and its connections and waits for them.
func echoAddr(t testing.TB, network, addr string) string {
	t.Helper()
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	serveConns(t, l, echo)
	return l.Addr().String()
}

// roundTrip writes msg to c, half-closes and reads the echo to EOF.
func roundTrip(t testing.TB, c net.Conn, msg string) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		if err := cw.CloseWrite(); err != nil {
			t.Fatalf("CloseWrite: %v", err)
		}
	}
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if string(got) != msg {
		t.Fatalf("echo = %q, want %q", got, msg)
	}
}

// goroutinesSettle waits (bounded) until the goroutine count drops to at
// most base and fails with a dump if it does not.
func goroutinesSettle(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("goroutines = %d, want <= %d\n%s", n, base, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDial(t *testing.T) {
	p := newInProc(t, tunneltest.Config{})
	c := dialOK(t, p.config())
	conn, err := c.DialContext(testCtx(t), "tcp", echoAddr(t, "tcp", "127.0.0.1:0"))
	if err != nil {
		t.Fatalf("DialContext error = %v", err)
	}
	defer conn.Close()
	roundTrip(t, conn, "hello through ssh")
}

func TestDialNoHostKeyCheck(t *testing.T) {
	p := newInProc(t, tunneltest.Config{})
	cfg := p.config()
	cfg.KnownHostsFiles = nil
	_, err := tunnel.Dial(testCtx(t), cfg)
	if !errors.Is(err, tunnel.ErrNoHostKeyCheck) {
		t.Fatalf("Dial error = %v, want ErrNoHostKeyCheck", err)
	}
	if !strings.Contains(err.Error(), "host key") {
		t.Errorf("error %q does not mention host keys", err)
	}
}

func net6Listen() (net.Listener, error) { return net.Listen("tcp", "[::1]:0") }

// goroutineBase returns the goroutine count to compare against after a test
// has closed what it opened.
func goroutineBase() int { return runtime.NumGoroutine() }

func TestDialHandshakeStallBoundedByContext(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		stall tunneltest.Stall
	}{
		{"silent after TCP accept", tunneltest.StallBeforeVersion},
		{"silent after version line", tunneltest.StallAfterVersion},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newInProc(t, tunneltest.Config{Stall: tt.stall})
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			res := make(chan error, 1)
			go func() {
				c, err := tunnel.Dial(ctx, p.config())
				if err == nil {
					c.Close()
				}
				res <- err
			}()
			select {
			case err := <-res:
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("Dial error = %v, want context.DeadlineExceeded", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Dial did not return within 10s of a 300ms deadline")
			}
		})
	}
}

func TestDialCancelledContext(t *testing.T) {
	p := newInProc(t, tunneltest.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tunnel.Dial(ctx, p.config()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Dial(cancelled ctx) error = %v, want context.Canceled", err)
	}
}

// After Dial returns, its context no longer matters.
func TestDialContextEndsAfterDial(t *testing.T) {
	p := newInProc(t, tunneltest.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	c, err := tunnel.Dial(ctx, p.config())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cancel()
	time.Sleep(50 * time.Millisecond)
	conn, err := c.DialContext(testCtx(t), "tcp", echoAddr(t, "tcp", "127.0.0.1:0"))
	if err != nil {
		t.Fatalf("DialContext after Dial's ctx was cancelled: %v", err)
	}
	roundTrip(t, conn, "ctx is gone")
	conn.Close()
}

func TestDialWrongCredentials(t *testing.T) {
	p := newInProc(t, tunneltest.Config{Password: "right"})
	cfg := p.config()
	cfg.Auth = []ssh.AuthMethod{ssh.Password("wrong")}
	if _, err := tunnel.Dial(testCtx(t), cfg); !errors.Is(err, tunnel.ErrAuthFailed) || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("Dial(wrong password) error = %v, want ErrAuthFailed (unable to authenticate)", err)
	}
	cfg.Auth = []ssh.AuthMethod{ssh.Password("right")}
	dialOK(t, cfg)
}

// NewClient runs over a connection the caller made; here a unix socket
// relayed to the server, whose RemoteAddr is no host:port (the known_hosts
// check must still use cfg.Addr).
func TestNewClientOverUnixSocket(t *testing.T) {
	p := newInProc(t, tunneltest.Config{})
	sock := filepath.Join(t.TempDir(), "relay.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	relayDone := make(chan struct{})
	go func() {
		defer close(relayDone)
		uc, err := l.Accept()
		if err != nil {
			return
		}
		defer uc.Close()
		tc, err := net.Dial("tcp", p.srv.Addr())
		if err != nil {
			return
		}
		defer tc.Close()
		go func() { _, _ = io.Copy(tc, uc); tc.Close() }()
		_, _ = io.Copy(uc, tc)
	}()
	t.Cleanup(func() {
		l.Close()
		<-relayDone
	})
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tunnel.NewClient(testCtx(t), conn, p.config())
	if err != nil {
		t.Fatalf("NewClient error = %v", err)
	}
	defer c.Close()
	rc, err := c.DialContext(testCtx(t), "tcp", echoAddr(t, "tcp", "127.0.0.1:0"))
	if err != nil {
		t.Fatalf("DialContext error = %v", err)
	}
	roundTrip(t, rc, "over a unix relay")
	rc.Close()
}

// A chain of two jump hosts, each with its own key, known_hosts and
// user; Close tears the whole chain down.
func TestDialJumpChain(t *testing.T) {
	hop1 := newInProc(t, tunneltest.Config{})
	hop2 := newInProc(t, tunneltest.Config{})
	target := newInProc(t, tunneltest.Config{})
	echo := echoAddr(t, "tcp", "127.0.0.1:0")
	base := goroutineBase()

	cfg := target.config()
	cfg.Jump = []tunnel.Config{hop1.config(), hop2.config()}
	c, err := tunnel.Dial(testCtx(t), cfg)
	if err != nil {
		t.Fatalf("Dial through two jumps error = %v", err)
	}
	conn, err := c.DialContext(testCtx(t), "tcp", echo)
	if err != nil {
		t.Fatalf("DialContext error = %v", err)
	}
	roundTrip(t, conn, "three hops")
	conn.Close()
	for i, p := range []*inProc{hop1, hop2, target} {
		if n := p.srv.ConnCount(); n != 1 {
			t.Errorf("server %d has %d connections, want 1", i, n)
		}
	}
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for _, p := range []*inProc{hop1, hop2, target} {
		for p.srv.ConnCount() != 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := p.srv.ConnCount(); n != 0 {
			t.Errorf("server %s still has %d connections after Close", p.srv.Addr(), n)
		}
	}
	goroutinesSettle(t, base)
}

// Every hop is verified: an unknown second hop stops the chain and the
// first hop's connection is closed again.
func TestDialJumpUnknownHop(t *testing.T) {
	hop1 := newInProc(t, tunneltest.Config{})
	hop2 := newInProc(t, tunneltest.Config{})
	target := newInProc(t, tunneltest.Config{})
	bad := hop2.config()
	bad.KnownHostsFiles = []string{target.knownHosts} // trusts another host
	cfg := target.config()
	cfg.Jump = []tunnel.Config{hop1.config(), bad}
	_, err := tunnel.Dial(testCtx(t), cfg)
	var unknown *tunnel.UnknownHostError
	if !errors.As(err, &unknown) {
		t.Fatalf("Dial error = %v, want *UnknownHostError for hop 2", err)
	}
	if unknown.Host != hop2.srv.Addr() || !strings.Contains(err.Error(), "jump host 2") {
		t.Errorf("error = %v (host %s), want it about jump host 2 (%s)", err, unknown.Host, hop2.srv.Addr())
	}
	deadline := time.Now().Add(5 * time.Second)
	for hop1.srv.ConnCount() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := hop1.srv.ConnCount(); n != 0 {
		t.Errorf("hop 1 still has %d connections after the failed chain", n)
	}
}

func TestDialBadConfig(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  tunnel.Config
	}{
		{"no address", tunnel.Config{KnownHostsFiles: []string{"/dev/null"}}},
		{"garbage address", tunnel.Config{Addr: "a:b:c]", KnownHostsFiles: []string{"/dev/null"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tunnel.Dial(testCtx(t), tt.cfg); err == nil {
				t.Fatal("Dial error = nil, want a config error")
			}
		})
	}
}
