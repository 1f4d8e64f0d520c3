package tunnel_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// sshdClientConfig returns a Config that logs in to s with its client key
// (unless it is encrypted: then Auth is left to the test) and verifies it
// against a known_hosts file holding all its host keys.
func sshdClientConfig(t *testing.T, s *tunneltest.SSHD) tunnel.Config {
	t.Helper()
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := s.WriteKnownHosts(kh, false); err != nil {
		t.Fatal(err)
	}
	cfg := tunnel.Config{
		Addr:            s.Addr(),
		User:            s.User,
		KnownHostsFiles: []string{kh},
	}
	signer, err := tunnel.LoadKey(s.ClientKeyPath, nil)
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
	case err != nil:
		t.Fatal(err)
	default:
		cfg.Auth = []ssh.AuthMethod{ssh.PublicKeys(signer)}
	}
	return cfg
}

func parseKeyFile(t *testing.T, path string) ssh.Signer {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

// startEchoServer runs a TCP echo server on 127.0.0.1:0 for the test.
func startEchoServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveEchoOn(t, l)
	return l.Addr().String()
}

// serveEchoOn echoes every connection accepted on l until the test ends.
func serveEchoOn(t *testing.T, l net.Listener) {
	serveConns(t, l, echo)
}

// echoRoundTrip writes msg on conn and checks it comes back, within 10 s.
func echoRoundTrip(t *testing.T, conn net.Conn, msg string) {
	t.Helper()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(conn, buf); err != nil {
		t.Fatalf("read echo: %v", err)
	}
	if string(buf) != msg {
		t.Fatalf("echo = %q, want %q", buf, msg)
	}
}

// eventLog records Redialer events for assertions.
type eventLog struct {
	mu  sync.Mutex
	all []tunnel.Event
}

func (e *eventLog) add(ev tunnel.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
}

func (e *eventLog) kinds(k tunnel.EventKind) []tunnel.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []tunnel.Event
	for _, ev := range e.all {
		if ev.Kind == k {
			out = append(out, ev)
		}
	}
	return out
}

// refusingAddr returns an address where every TCP connection is accepted
// and closed at once: each SSH dial fails with a transient error.
func refusingAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveConns(t, l, func(net.Conn) {})
	return l.Addr().String()
}

func TestRedialerBacksOffOnTransientErrors(t *testing.T) {
	var ev eventLog
	r := tunnel.NewRedialer(tunnel.RedialConfig{
		Config: tunnel.Config{
			Addr:            refusingAddr(t),
			User:            "nobody",
			HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		},
		MinBackoff: 10 * time.Millisecond,
		MaxBackoff: 40 * time.Millisecond,
		OnEvent:    ev.add,
	})
	t.Cleanup(func() { r.Close() })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := r.DialContext(ctx, "tcp", "127.0.0.1:1")
		errc <- err
	}()
	waitUntil(t, func() bool { return len(ev.kinds(tunnel.EventRetrying)) >= 4 }, "4 Retrying events")
	cancel()
	var err error
	select {
	case err = <-errc:
	case <-time.After(10 * time.Second):
		t.Fatal("DialContext still blocked 10s after its ctx was cancelled")
	}
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "last attempt") {
		t.Fatalf("DialContext error = %v, want Canceled with the last attempt's error", err)
	}
	retries := ev.kinds(tunnel.EventRetrying)
	for i, e := range retries {
		want := min(10*time.Millisecond<<i, 40*time.Millisecond)
		if e.Attempt != i+1 || e.Delay < want/2 || e.Delay > want || e.Err == nil {
			t.Errorf("event %d = {Attempt %d, Delay %v, Err %v}, want Attempt %d, Delay in [%v, %v], an error",
				i, e.Attempt, e.Delay, e.Err, i+1, want/2, want)
		}
	}
	if len(ev.kinds(tunnel.EventConnected)) != 0 || len(ev.kinds(tunnel.EventFailed)) != 0 {
		t.Errorf("events = %+v, want only Retrying", ev.all)
	}
}

func TestRedialerCloseStopsWaiters(t *testing.T) {
	r := tunnel.NewRedialer(tunnel.RedialConfig{
		Config: tunnel.Config{
			Addr:            refusingAddr(t),
			HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		},
		MinBackoff: time.Hour, // only Close can end the wait
	})
	errc := make(chan error, 1)
	go func() {
		_, err := r.DialContext(context.Background(), "tcp", "127.0.0.1:1")
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	r.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, tunnel.ErrClosed) {
			t.Errorf("DialContext after Close = %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("DialContext still blocked 10s after Close")
	}
	if _, err := r.DialContext(context.Background(), "tcp", "127.0.0.1:1"); !errors.Is(err, tunnel.ErrClosed) {
		t.Errorf("DialContext on closed Redialer = %v, want ErrClosed", err)
	}
}

func TestRedialerPermanentErrorsAreNotRetried(t *testing.T) {
	t.Parallel()
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	base := sshdClientConfig(t, s)
	emptyKH := filepath.Join(t.TempDir(), "empty_known_hosts")
	if err := os.WriteFile(emptyKH, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	otherKey := parseKeyFile(t, filepath.Join(s.Dir, "ssh_host_ed25519_key")) // not authorized

	tests := []struct {
		name   string
		mutate func(*tunnel.Config)
		check  func(error) bool
	}{
		{"unknown host", func(c *tunnel.Config) { c.KnownHostsFiles = []string{emptyKH} },
			func(err error) bool { var e *tunnel.UnknownHostError; return errors.As(err, &e) }},
		{"auth refused", func(c *tunnel.Config) { c.Auth = []ssh.AuthMethod{ssh.PublicKeys(otherKey)} },
			func(err error) bool { return errors.Is(err, tunnel.ErrAuthFailed) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.mutate(&cfg)
			var ev eventLog
			r := tunnel.NewRedialer(tunnel.RedialConfig{Config: cfg, MinBackoff: 10 * time.Millisecond, OnEvent: ev.add})
			t.Cleanup(func() { r.Close() })
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := r.DialContext(ctx, "tcp", "127.0.0.1:1")
			if !tt.check(err) {
				t.Fatalf("DialContext error = %v, want the permanent error itself", err)
			}
			if n := len(ev.kinds(tunnel.EventRetrying)); n != 0 {
				t.Errorf("got %d Retrying events, want 0 for a permanent error", n)
			}
			if f := ev.kinds(tunnel.EventFailed); len(f) != 1 || f[0].Attempt != 1 {
				t.Errorf("Failed events = %+v, want one with Attempt 1", f)
			}
		})
	}
}

func TestRedialerSharesOneDial(t *testing.T) {
	t.Parallel()
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	echo := startEchoServer(t)
	cfg := sshdClientConfig(t, s)
	var dials atomic.Int32
	cfg.NetDial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	r := tunnel.NewRedialer(tunnel.RedialConfig{Config: cfg})
	t.Cleanup(func() { r.Close() })

	const n = 8
	conns := make(chan net.Conn, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c, err := r.DialContext(ctx, "tcp", echo)
			if err != nil {
				errs <- err
				return
			}
			conns <- c
		}()
	}
	for i := range n {
		select {
		case c := <-conns:
			echoRoundTrip(t, c, "shared")
			c.Close()
		case err := <-errs:
			t.Fatalf("DialContext %d: %v", i, err)
		}
	}
	// Bad arguments fail without costing the shared link.
	for _, bad := range [][2]string{{"udp", echo}, {"tcp", "no-port"}} {
		if c, err := r.DialContext(context.Background(), bad[0], bad[1]); err == nil {
			c.Close()
			t.Errorf("DialContext(%s, %s) succeeded, want an error", bad[0], bad[1])
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := r.DialContext(ctx, "tcp", echo)
	if err != nil {
		t.Fatal(err)
	}
	echoRoundTrip(t, c, "still shared")
	c.Close()
	if got := dials.Load(); got != 1 {
		t.Errorf("SSH dials = %d for %d concurrent callers and bad calls, want 1", got, n)
	}
}

func TestRedialerForwardEnds(t *testing.T) {
	t.Parallel()
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	echo := startEchoServer(t)
	emptyKH := filepath.Join(t.TempDir(), "known_hosts")
	unknown := sshdClientConfig(t, s)
	unknown.KnownHostsFiles = []string{emptyKH}

	tests := []struct {
		name string
		cfg  tunnel.Config
		end  func(r *tunnel.Redialer, cancel context.CancelFunc, l net.Listener)
		want func(error) bool
	}{
		{"ctx cancelled", sshdClientConfig(t, s),
			func(_ *tunnel.Redialer, cancel context.CancelFunc, _ net.Listener) { cancel() },
			func(err error) bool { return err == nil }},
		{"listener closed", sshdClientConfig(t, s),
			func(_ *tunnel.Redialer, _ context.CancelFunc, l net.Listener) { l.Close() },
			func(err error) bool { return err == nil }},
		{"redialer closed", sshdClientConfig(t, s),
			func(r *tunnel.Redialer, _ context.CancelFunc, _ net.Listener) { r.Close() },
			func(err error) bool { return errors.Is(err, tunnel.ErrClosed) }},
		{"permanent error", unknown,
			func(_ *tunnel.Redialer, _ context.CancelFunc, l net.Listener) {
				c, err := net.Dial("tcp", l.Addr().String()) // triggers the dial
				if err == nil {
					t.Cleanup(func() { c.Close() })
				}
			},
			func(err error) bool { var e *tunnel.UnknownHostError; return errors.As(err, &e) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tunnel.NewRedialer(tunnel.RedialConfig{Config: tt.cfg})
			t.Cleanup(func() { r.Close() })
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			go func() { errc <- r.Forward(ctx, l, echo) }()
			if tt.name != "permanent error" { // a working forward first
				conn, err := net.DialTimeout("tcp", l.Addr().String(), 10*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				echoRoundTrip(t, conn, "up")
				defer conn.Close()
			}
			tt.end(r, cancel, l)
			select {
			case err := <-errc:
				if !tt.want(err) {
					t.Errorf("Forward = %v, want a different end", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Forward still running 10s after its end")
			}
			wantListenerClosed(t, l)
		})
	}
}

// waitUntil polls cond for up to 10 s.
func waitUntil(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 10s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A long-lived tunnel for an HTTP (XML-RPC) client: every request gets a
// channel on the current SSH link, and a lost link is redialled on demand.
func ExampleRedialer() {
	signer, err := tunnel.LoadKey("/home/me/.ssh/id_ed25519", nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	r := tunnel.NewRedialer(tunnel.RedialConfig{
		Config: tunnel.Config{
			Addr:            "server.example.com:22",
			User:            "me",
			Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
			KnownHostsFiles: []string{"/home/me/.ssh/known_hosts"},
		},
		OnEvent: func(e tunnel.Event) {
			switch e.Kind {
			case tunnel.EventRetrying:
				fmt.Fprintf(os.Stderr, "rpcssh: %v; reconnecting in %v\n", e.Err, e.Delay.Round(time.Second))
			case tunnel.EventFailed:
				fmt.Fprintf(os.Stderr, "rpcssh: giving up: %v\n", e.Err)
			}
		},
	})
	defer r.Close()
	hc := &http.Client{Transport: &http.Transport{DialContext: r.DialContext}}
	resp, err := hc.Post("http://127.0.0.1:8000/RPC2", "text/xml", strings.NewReader("<methodCall>…</methodCall>"))
	if err == nil {
		resp.Body.Close()
	}
}
