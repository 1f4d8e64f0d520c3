//go:build unix

package tunnel_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// These tests run against OpenSSH's own sshd (tunneltest.StartSSHD): they
// skip under -short and where sshd is not installed.

// dial connects with cfg (bounded) and closes the client when the test ends.
func sshdDial(t *testing.T, cfg tunnel.Config) *tunnel.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := tunnel.Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial(%s): %v", cfg.Addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// dialErr dials cfg expecting an error, and returns it.
func sshdDialErr(t *testing.T, cfg tunnel.Config) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := tunnel.Dial(ctx, cfg)
	if err == nil {
		c.Close()
		t.Fatalf("Dial(%s) succeeded, want an error", cfg.Addr)
	}
	return err
}

// echoThrough opens a forwarded connection to echo via c and checks a round trip.
func echoThrough(t *testing.T, c interface {
	DialContext(context.Context, string, string) (net.Conn, error)
}, network, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := c.DialContext(ctx, network, addr)
	if err != nil {
		t.Fatalf("DialContext(%s %s): %v", network, addr, err)
	}
	defer conn.Close()
	echoRoundTrip(t, conn, "ping through sshd")
}

func TestSSHDKeyAuthForwards(t *testing.T) {
	t.Parallel()
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	c := sshdDial(t, sshdClientConfig(t, s))
	echo := startEchoServer(t)
	for i := range 3 { // many channels over one connection
		echoThrough(t, c, "tcp", echo)
		_ = i
	}
	if !strings.Contains(s.Log(), "Accepted publickey for "+s.User) {
		t.Errorf("sshd log lacks the publickey login:\n%s", s.Log())
	}
}

func TestSSHDEncryptedKey(t *testing.T) {
	t.Parallel()
	const pass = "correct horse battery"
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{ClientKeyPassphrase: pass})

	_, err := tunnel.LoadKey(s.ClientKeyPath, nil)
	var missing *ssh.PassphraseMissingError
	if !errors.As(err, &missing) {
		t.Fatalf("LoadKey(encrypted, nil) = %v, want *ssh.PassphraseMissingError", err)
	}
	if _, err := tunnel.LoadKey(s.ClientKeyPath, []byte("wrong")); err == nil || errors.As(err, &missing) {
		t.Fatalf("LoadKey(encrypted, wrong) = %v, want a decryption error", err)
	}
	signer, err := tunnel.LoadKey(s.ClientKeyPath, []byte(pass))
	if err != nil {
		t.Fatalf("LoadKey(encrypted, right): %v", err)
	}
	cfg := sshdClientConfig(t, s)
	cfg.Auth = []ssh.AuthMethod{ssh.PublicKeys(signer)}
	c := sshdDial(t, cfg)
	echoThrough(t, c, "tcp", startEchoServer(t))
}

// startOpenSSHAgent runs OpenSSH's ssh-agent on a socket in a temp dir, loaded with
// keys (added with ssh-add, in order), until the test ends.
func startOpenSSHAgent(t *testing.T, keys []string) string {
	t.Helper()
	if _, err := exec.LookPath("ssh-agent"); err != nil {
		t.Skip("ssh-agent not installed")
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	cmd := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	waitUntil(t, func() bool { _, err := os.Stat(sock); return err == nil }, "ssh-agent socket")
	add := exec.Command("ssh-add", keys...)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v\n%s", err, out)
	}
	return sock
}

func TestSSHDAgentFilteredToChosenKey(t *testing.T) {
	t.Parallel()
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{MaxAuthTries: 3})
	dir := t.TempDir()
	var keys []string
	for i := range 9 { // nine keys the server does not know, then the right one
		p := filepath.Join(dir, "id_other"+strconv.Itoa(i))
		if _, err := tunneltest.GenerateKey(p, "ed25519", ""); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, p)
	}
	keys = append(keys, s.ClientKeyPath)
	sock := startOpenSSHAgent(t, keys)

	t.Run("all agent keys exhaust MaxAuthTries", func(t *testing.T) {
		signers, closer, err := tunnel.AgentSigners(sock, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer closer.Close()
		if len(signers) != 10 {
			t.Fatalf("agent holds %d keys, want 10", len(signers))
		}
		cfg := sshdClientConfig(t, s)
		cfg.Auth = []ssh.AuthMethod{ssh.PublicKeys(signers...)}
		err = sshdDialErr(t, cfg)
		if !errors.Is(err, tunnel.ErrAuthFailed) || !strings.Contains(err.Error(), "Too many authentication failures") {
			t.Errorf("Dial with 10 agent keys = %v, want sshd's \"Too many authentication failures\"", err)
		}

		// A Redialer gives up at once: retrying cannot fix it.
		var ev eventLog
		r := tunnel.NewRedialer(tunnel.RedialConfig{Config: cfg, MinBackoff: 10 * time.Millisecond, OnEvent: ev.add})
		defer r.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := r.DialContext(ctx, "tcp", "127.0.0.1:1"); err == nil || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Redialer.DialContext = %v, want the auth failure", err)
		}
		if n := len(ev.kinds(tunnel.EventRetrying)); n != 0 {
			t.Errorf("Redialer retried %d times after too many authentication failures, want 0", n)
		}
	})
	t.Run("filtered to the chosen key", func(t *testing.T) {
		signers, closer, err := tunnel.AgentSigners(sock, []ssh.PublicKey{s.ClientKey})
		if err != nil {
			t.Fatal(err)
		}
		defer closer.Close()
		if len(signers) != 1 {
			t.Fatalf("filtered agent signers = %d, want 1", len(signers))
		}
		cfg := sshdClientConfig(t, s)
		cfg.Auth = []ssh.AuthMethod{ssh.PublicKeys(signers...)}
		c := sshdDial(t, cfg)
		echoThrough(t, c, "tcp", startEchoServer(t))
	})
}

func TestSSHDEd25519KnownHostsAgainstThreeHostKeys(t *testing.T) {
	t.Parallel()
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{HostKeyTypes: []string{"ed25519", "ecdsa", "rsa"}})
	// The known_hosts line comes from OpenSSH itself.
	out, err := exec.Command("ssh-keyscan", "-t", "ed25519", "-p", strconv.Itoa(s.Port()), s.Host()).Output()
	if err != nil || !strings.Contains(string(out), "ssh-ed25519") {
		t.Fatalf("ssh-keyscan: %v: %q", err, out)
	}
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, out, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := sshdClientConfig(t, s)
	cfg.KnownHostsFiles = []string{kh}
	c := sshdDial(t, cfg)
	echoThrough(t, c, "tcp", startEchoServer(t))
}

func TestSSHDUnknownHost(t *testing.T) {
	t.Parallel()
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	kh := filepath.Join(t.TempDir(), "known_hosts")
	other := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	if err := os.WriteFile(kh, []byte(other.KnownHostsLine("ed25519")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := sshdClientConfig(t, s)
	cfg.KnownHostsFiles = []string{kh, filepath.Join(t.TempDir(), "missing")}
	err := sshdDialErr(t, cfg)
	var ue *tunnel.UnknownHostError
	if !errors.As(err, &ue) {
		t.Fatalf("Dial error = %v (%T), want *UnknownHostError", err, err)
	}
	want := ssh.FingerprintSHA256(s.HostKey("ed25519"))
	if ue.Fingerprint() != want || !strings.Contains(err.Error(), want) {
		t.Errorf("fingerprint = %s (message %q), want %s", ue.Fingerprint(), err, want)
	}
	if ue.Host != s.Addr() || len(ue.Files) != 2 {
		t.Errorf("UnknownHostError = {Host %s, Files %v}, want Host %s and both files", ue.Host, ue.Files, s.Addr())
	}
}

func TestSSHDChangedHostKey(t *testing.T) {
	t.Parallel()
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	dir := t.TempDir()
	oldKey, err := tunneltest.GenerateKey(filepath.Join(dir, "old_host_key"), "ed25519", "")
	if err != nil {
		t.Fatal(err)
	}
	kh := filepath.Join(dir, "known_hosts")
	lines := "# comment\n" +
		"other.example.com " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.HostKey("ed25519")))) + "\n" +
		"[" + s.Host() + "]:" + strconv.Itoa(s.Port()) + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(oldKey))) + "\n"
	if err := os.WriteFile(kh, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, acceptNew := range []bool{false, true} {
		cfg := sshdClientConfig(t, s)
		cfg.KnownHostsFiles = []string{kh}
		cfg.AcceptNew = acceptNew // never overrides a changed key
		err := sshdDialErr(t, cfg)
		var ce *tunnel.HostKeyChangedError
		if !errors.As(err, &ce) {
			t.Fatalf("AcceptNew=%v: Dial error = %v (%T), want *HostKeyChangedError", acceptNew, err, err)
		}
		if ce.File != kh || ce.Line != 3 {
			t.Errorf("AcceptNew=%v: conflict at %s:%d, want %s:3", acceptNew, ce.File, ce.Line, kh)
		}
		if want := ssh.FingerprintSHA256(s.HostKey("ed25519")); ce.Fingerprint() != want {
			t.Errorf("fingerprint = %s, want the server's %s", ce.Fingerprint(), want)
		}
	}
	if b, _ := os.ReadFile(kh); string(b) != lines {
		t.Errorf("known_hosts was modified:\n%s", b)
	}
}

func TestSSHDHashedKnownHosts(t *testing.T) {
	t.Parallel()
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{HostKeyTypes: []string{"ed25519", "ecdsa"}})
	kh := filepath.Join(t.TempDir(), "known_hosts")
	// Only the ecdsa key, hashed by ssh-keygen -H: the client must ask for ecdsa.
	if err := s.WriteKnownHosts(kh, true, "ecdsa"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(kh); !strings.HasPrefix(string(b), "|1|") || strings.Contains(string(b), s.Host()) {
		t.Fatalf("known_hosts not hashed: %s", b)
	}
	cfg := sshdClientConfig(t, s)
	cfg.KnownHostsFiles = []string{kh}
	c := sshdDial(t, cfg)
	echoThrough(t, c, "tcp", startEchoServer(t))
}

func TestSSHDAcceptNewWritesLineOpenSSHFinds(t *testing.T) {
	t.Parallel()
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	kh := filepath.Join(t.TempDir(), "ssh", "known_hosts") // directory created too
	cfg := sshdClientConfig(t, s)
	cfg.KnownHostsFiles = []string{kh}
	cfg.AcceptNew = true
	sshdDial(t, cfg).Close()

	out, err := exec.Command("ssh-keygen", "-F", "["+s.Host()+"]:"+strconv.Itoa(s.Port()), "-f", kh).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ssh-ed25519") {
		t.Fatalf("ssh-keygen -F does not find the accepted key: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(kh); !strings.HasPrefix(string(b), "|1|") {
		t.Errorf("accepted line is not hashed: %s", b)
	}
	// Now known: a strict dial succeeds without writing more.
	cfg.AcceptNew = false
	before, _ := os.ReadFile(kh)
	sshdDial(t, cfg)
	if after, _ := os.ReadFile(kh); string(after) != string(before) {
		t.Errorf("known_hosts changed on a second dial:\n%s\nthen\n%s", before, after)
	}
}

func TestSSHDJump(t *testing.T) {
	t.Parallel()
	bastion := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{LogLevel: "DEBUG1"})
	target := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	echo := startEchoServer(t)

	hop := sshdClientConfig(t, bastion)
	cfg := sshdClientConfig(t, target)
	var dialled []string
	cfg.NetDial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialled = append(dialled, addr) // only the outermost hop dials TCP itself
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	cfg.Jump = []tunnel.Config{hop}
	c := sshdDial(t, cfg)
	echoThrough(t, c, "tcp", echo)

	if len(dialled) != 1 || dialled[0] != bastion.Addr() {
		t.Errorf("TCP dials = %v, want only the bastion %s", dialled, bastion.Addr())
	}
	if want := "port " + strconv.Itoa(target.Port()); !strings.Contains(bastion.Log(), want) {
		t.Errorf("bastion log does not show a forward to the target (%s):\n%s", want, bastion.Log())
	}

	t.Run("two hops", func(t *testing.T) {
		inner := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{LogLevel: "DEBUG1"})
		two := sshdClientConfig(t, target)
		two.Jump = []tunnel.Config{hop, sshdClientConfig(t, inner)}
		c := sshdDial(t, two)
		echoThrough(t, c, "tcp", echo)
		if want := "port " + strconv.Itoa(inner.Port()); !strings.Contains(bastion.Log(), want) {
			t.Errorf("outer bastion never forwarded to the inner one (%s)", want)
		}
		if want := "port " + strconv.Itoa(target.Port()); !strings.Contains(inner.Log(), want) {
			t.Errorf("inner bastion never forwarded to the target (%s):\n%s", want, inner.Log())
		}
	})

	t.Run("hop verified", func(t *testing.T) {
		bad := cfg
		badHop := hop
		badHop.KnownHostsFiles = []string{filepath.Join(t.TempDir(), "empty")}
		bad.Jump = []tunnel.Config{badHop}
		bad.NetDial = nil
		err := sshdDialErr(t, bad)
		var ue *tunnel.UnknownHostError
		if !errors.As(err, &ue) || ue.Host != bastion.Addr() {
			t.Errorf("Dial with unknown bastion = %v, want *UnknownHostError for %s", err, bastion.Addr())
		}
	})
}

func TestSSHDForwardRefusals(t *testing.T) {
	t.Parallel()
	closedPort := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return addr
	}()
	echo := startEchoServer(t)
	tests := []struct {
		name string
		cfg  tunneltest.SSHDConfig
		addr string
		want error
	}{
		{"closed port", tunneltest.SSHDConfig{}, closedPort, tunnel.ErrRemoteRefused},
		{"PermitOpen", tunneltest.SSHDConfig{PermitOpen: "127.0.0.1:1"}, echo, tunnel.ErrForwardProhibited},
		{"AllowTcpForwarding no", tunneltest.SSHDConfig{AllowTCPForwarding: "no"}, echo, tunnel.ErrForwardProhibited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tunneltest.StartSSHD(t, tt.cfg)
			c := sshdDial(t, sshdClientConfig(t, s))
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			conn, err := c.DialContext(ctx, "tcp", tt.addr)
			if err == nil {
				conn.Close()
				t.Fatalf("DialContext(%s) succeeded, want %v", tt.addr, tt.want)
			}
			var oe *tunnel.OpenError
			if !errors.Is(err, tt.want) || !errors.As(err, &oe) {
				t.Fatalf("DialContext(%s) = %v, want *OpenError matching %v", tt.addr, err, tt.want)
			}
			// The link is still usable after a refused channel.
			if tt.addr != echo {
				echoThrough(t, c, "tcp", echo)
			}
		})
	}
}

// serveHTTPUnix serves "hello from unix" over HTTP on a socket in dir.
func serveHTTPUnix(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "rpc.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from unix "+r.URL.Path)
	}), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return path
}

func TestSSHDUnixSocket(t *testing.T) {
	t.Parallel()
	sock := serveHTTPUnix(t, t.TempDir())
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	c := sshdDial(t, sshdClientConfig(t, s))

	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return c.DialContext(ctx, "unix", sock)
		},
	}, Timeout: 20 * time.Second}
	resp, err := hc.Get("http://unix/RPC2")
	if err != nil {
		t.Fatalf("GET over direct-streamlocal: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello from unix /RPC2" {
		t.Errorf("body = %q, want %q", body, "hello from unix /RPC2")
	}

	// OpenSSH 9.2 answers every failed direct-streamlocal open the same
	// way on the wire: "connect failed" / "open failed", whether the socket
	// is missing, not accessible or AllowStreamLocalForwarding is no (only
	// its log tells them apart). So the error must name the path and
	// network; it cannot say which of the three it was.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	checkRefused := func(t *testing.T, s *tunneltest.SSHD, c *tunnel.Client, path, logWant string) {
		t.Helper()
		conn, err := c.DialContext(ctx, "unix", path)
		if err == nil {
			conn.Close()
			t.Fatalf("DialContext(unix %s) succeeded, want a refusal", path)
		}
		var oe *tunnel.OpenError
		if !errors.As(err, &oe) || oe.Network != "unix" || oe.Addr != path || oe.Reason != ssh.ConnectionFailed {
			t.Fatalf("DialContext(unix %s) = %v, want *OpenError{unix %s, connect failed}", path, err, path)
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("error %q does not name the socket", err)
		}
		if !strings.Contains(s.Log(), logWant) {
			t.Errorf("sshd log lacks %q:\n%s", logWant, s.Log())
		}
		resp, err := hc.Get("http://unix/again") // the link survives the refusal
		if err != nil {
			t.Fatalf("GET after a refused open: %v", err)
		}
		resp.Body.Close()
	}

	t.Run("missing socket", func(t *testing.T) {
		missing := filepath.Join(filepath.Dir(sock), "missing.sock")
		checkRefused(t, s, c, missing, "No such file or directory")
	})
	t.Run("AllowStreamLocalForwarding no", func(t *testing.T) {
		s2 := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{AllowStreamLocalForwarding: "no"})
		c2 := sshdDial(t, sshdClientConfig(t, s2))
		conn, err := c2.DialContext(ctx, "unix", sock)
		if err == nil {
			conn.Close()
			t.Fatal("DialContext(unix) succeeded against AllowStreamLocalForwarding no")
		}
		var oe *tunnel.OpenError
		if !errors.As(err, &oe) || oe.Addr != sock || !strings.Contains(err.Error(), sock) {
			t.Errorf("DialContext(unix) = %v, want *OpenError naming %s", err, sock)
		}
		if !strings.Contains(s2.Log(), "refused streamlocal port forward") {
			t.Errorf("sshd log lacks the refusal:\n%s", s2.Log())
		}
	})
}

func TestSSHDStoppedPeerDetectedByKeepalive(t *testing.T) {
	t.Parallel()
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	cfg := sshdClientConfig(t, s)
	cfg.KeepaliveInterval = 200 * time.Millisecond
	cfg.KeepaliveMax = 3
	c := sshdDial(t, cfg)
	echo := startEchoServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := c.DialContext(ctx, "tcp", echo)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	echoRoundTrip(t, conn, "before")

	if err := s.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Signal(syscall.SIGCONT) })

	// Mid-call: a read waiting for an answer, and a new channel open, both
	// with no deadline of their own.
	readErr := make(chan error, 1)
	go func() {
		conn.SetDeadline(time.Time{})
		conn.Write([]byte("during"))
		_, err := io.ReadFull(conn, make([]byte, 6))
		readErr <- err
	}()
	dialErrc := make(chan error, 1)
	go func() {
		time.Sleep(50 * time.Millisecond)
		conn, err := c.DialContext(context.Background(), "tcp", echo)
		if err == nil {
			conn.Close()
		}
		dialErrc <- err
	}()
	waitErr := make(chan error, 1)
	go func() { waitErr <- c.Wait() }()

	const bound = 10 * time.Second // generous: detection takes ~(max+1)*interval
	for name, ch := range map[string]chan error{"Wait": waitErr, "read": readErr, "DialContext": dialErrc} {
		select {
		case err := <-ch:
			if err == nil || errors.Is(err, tunnel.ErrClosed) && name == "Wait" {
				t.Errorf("%s on a frozen peer = %v, want a link-lost error", name, err)
			}
		case <-time.After(bound):
			t.Fatalf("%s still blocked %v after sshd was stopped", name, bound)
		}
	}
}

func TestSSHDKilledWaitReturns(t *testing.T) {
	t.Parallel()
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	c := sshdDial(t, sshdClientConfig(t, s)) // default keepalive: the TCP close alone must be seen
	waitErr := make(chan error, 1)
	go func() { waitErr <- c.Wait() }()
	select {
	case err := <-waitErr:
		t.Fatalf("Wait returned %v while sshd runs", err)
	case <-time.After(100 * time.Millisecond):
	}
	s.Stop()
	select {
	case err := <-waitErr:
		if err == nil || errors.Is(err, tunnel.ErrClosed) {
			t.Errorf("Wait after sshd was killed = %v, want the link-lost cause", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait still blocked 10s after sshd was killed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if conn, err := c.DialContext(ctx, "tcp", "127.0.0.1:1"); err == nil {
		conn.Close()
		t.Error("DialContext on a dead link succeeded")
	}
}

func TestSSHDRedialerReconnectsAfterRestart(t *testing.T) {
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	echo := startEchoServer(t)
	var ev eventLog
	r := tunnel.NewRedialer(tunnel.RedialConfig{
		Config:     sshdClientConfig(t, s),
		MinBackoff: 20 * time.Millisecond,
		MaxBackoff: 100 * time.Millisecond,
		OnEvent:    ev.add,
	})
	t.Cleanup(func() { r.Close() })

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	fwdErr := make(chan error, 1)
	go func() { fwdErr <- r.Forward(ctx, l, echo) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-fwdErr:
		case <-time.After(10 * time.Second):
			t.Error("Forward did not return 10s after its ctx was cancelled")
		}
	})
	viaForward := func(msg string) {
		t.Helper()
		conn, err := net.DialTimeout("tcp", l.Addr().String(), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		echoRoundTrip(t, conn, msg)
	}
	viaForward("first link")
	echoThrough(t, r, "tcp", echo)

	// Restart: the link drops, the next connection gets a new one.
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { return len(ev.kinds(tunnel.EventDisconnected)) > 0 }, "a Disconnected event")
	viaForward("second link")

	// Down for a while: a connection accepted meanwhile waits for the redial.
	s.Stop()
	waitUntil(t, func() bool { return len(ev.kinds(tunnel.EventDisconnected)) > 1 }, "a second Disconnected event")
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn, err := net.DialTimeout("tcp", l.Addr().String(), 10*time.Second)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(20 * time.Second))
		conn.Write([]byte("third"))
		buf := make([]byte, 5)
		if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "third" {
			t.Errorf("echo across the outage = %q, %v, want third", buf, err)
		}
	}()
	waitUntil(t, func() bool { return len(ev.kinds(tunnel.EventRetrying)) > 0 }, "a Retrying event")
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("connection accepted during the outage never completed")
	}
	if n := len(ev.kinds(tunnel.EventConnected)); n != 3 {
		t.Errorf("Connected events = %d, want 3 (initial and two redials)", n)
	}
}

func TestSSHDIPv6(t *testing.T) {
	t.Parallel()
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{IPv6: true})
	if !strings.HasPrefix(s.Addr(), "[::1]:") {
		t.Fatalf("Addr = %s, want [::1]:port", s.Addr())
	}
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback")
	}
	serveEchoOn(t, l)
	c := sshdDial(t, sshdClientConfig(t, s))
	echoThrough(t, c, "tcp", l.Addr().String())
}

func TestSSHDRedialerSurvivesFrozenServer(t *testing.T) {
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	echo := startEchoServer(t)
	cfg := sshdClientConfig(t, s)
	cfg.KeepaliveInterval = 200 * time.Millisecond
	cfg.KeepaliveMax = 3
	var ev eventLog
	r := tunnel.NewRedialer(tunnel.RedialConfig{
		Config:      cfg,
		MinBackoff:  20 * time.Millisecond,
		MaxBackoff:  100 * time.Millisecond,
		DialTimeout: 500 * time.Millisecond, // a frozen server accepts TCP but never handshakes
		OnEvent:     ev.add,
	})
	t.Cleanup(func() { r.Close() })
	echoThrough(t, r, "tcp", echo)

	if err := s.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Signal(syscall.SIGCONT) })
	waitUntil(t, func() bool { return len(ev.kinds(tunnel.EventDisconnected)) > 0 }, "keepalive to drop the frozen link")

	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		conn, err := r.DialContext(ctx, "tcp", echo)
		if err == nil {
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err = conn.Write([]byte("thaw")); err == nil {
				_, err = io.ReadFull(conn, make([]byte, 4))
			}
			conn.Close()
		}
		errc <- err
	}()
	// Attempts time out against the frozen server and are retried.
	waitUntil(t, func() bool { return len(ev.kinds(tunnel.EventRetrying)) > 0 }, "a timed-out attempt")
	if err := s.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("DialContext across the freeze: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("DialContext did not recover 20s after SIGCONT")
	}
	if got := ev.kinds(tunnel.EventRetrying)[0].Err; !errors.Is(got, context.DeadlineExceeded) {
		t.Errorf("first retry error = %v, want the DialTimeout's DeadlineExceeded", got)
	}
}
