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
	"sync"
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
func newInProc(t *testing.T, cfg tunneltest.Config) *inProc {
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
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					mu.Lock()
					delete(conns, c)
					mu.Unlock()
					c.Close()
				}()
				_, _ = io.Copy(c, c)
				if cw, ok := c.(interface{ CloseWrite() error }); ok {
					_ = cw.CloseWrite()
				}
			}()
		}
	}()
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
