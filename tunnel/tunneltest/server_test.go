package tunneltest_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

func userKey(t *testing.T) ssh.Signer {
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

// dialServer connects with plain x/crypto/ssh, pinning the server's key.
func dialServer(s *tunneltest.Server, user string, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	return ssh.Dial("tcp", s.Addr(), &ssh.ClientConfig{
		User:            user,
		Auth:            auth,
		HostKeyCallback: ssh.FixedHostKey(s.HostKey()),
		Timeout:         5 * time.Second,
	})
}

func TestServerAuth(t *testing.T) {
	key := userKey(t)
	s := tunneltest.NewServer(t, tunneltest.Config{User: "alice", AuthorizedKeys: []ssh.PublicKey{key.PublicKey()}, Password: "pw"})
	tests := []struct {
		name   string
		user   string
		auth   ssh.AuthMethod
		wantOK bool
	}{
		{"key", "alice", ssh.PublicKeys(key), true},
		{"password", "alice", ssh.Password("pw"), true},
		{"wrong password", "alice", ssh.Password("nope"), false},
		{"other key", "alice", ssh.PublicKeys(userKey(t)), false},
		{"other user", "bob", ssh.PublicKeys(key), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := dialServer(s, tt.user, tt.auth)
			if err == nil {
				c.Close()
			}
			if (err == nil) != tt.wantOK {
				t.Fatalf("Dial error = %v, want ok %v", err, tt.wantOK)
			}
		})
	}
}

func TestServerForwardsAndRejectsSessions(t *testing.T) {
	key := userKey(t)
	s := tunneltest.NewServer(t, tunneltest.Config{AuthorizedKeys: []ssh.PublicKey{key.PublicKey()}})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		_, _ = io.WriteString(c, "hi")
		c.Close()
	}()
	c, err := dialServer(s, "u", ssh.PublicKeys(key))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conn, err := c.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatalf("direct-tcpip error = %v", err)
	}
	got, err := io.ReadAll(conn)
	if err != nil || string(got) != "hi" {
		t.Fatalf("read = %q, %v; want \"hi\"", got, err)
	}
	if _, err := c.NewSession(); err == nil {
		t.Error("NewSession succeeded, want the session rejected")
	}
	ok, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
	if err != nil || ok {
		t.Errorf("keepalive reply = %v, %v; want false, nil like OpenSSH", ok, err)
	}
}

func TestServerKnownHostsLine(t *testing.T) {
	s := tunneltest.NewServer(t, tunneltest.Config{ExtraHostKeys: []string{ssh.KeyAlgoECDSA256, ssh.KeyAlgoRSA}})
	line := s.KnownHostsLine()
	if !strings.HasPrefix(line, knownhosts.Normalize(s.Addr())+" ssh-ed25519 ") {
		t.Errorf("KnownHostsLine() = %q, want [host]:port ssh-ed25519 ...", line)
	}
	var types []string
	for _, k := range s.HostKeys() {
		types = append(types, k.Type())
	}
	if got, want := strings.Join(types, ","), "ssh-ed25519,ecdsa-sha2-nistp256,ssh-rsa"; got != want {
		t.Errorf("HostKeys types = %s, want %s", got, want)
	}
}

// Close waits for every goroutine, including those of open connections and
// stalled handshakes.
func TestServerCloseWaitsForGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	key := userKey(t)
	var closers []io.Closer
	for _, stall := range []tunneltest.Stall{tunneltest.StallNone, tunneltest.StallBeforeVersion, tunneltest.StallAfterVersion} {
		s, err := tunneltest.Start(tunneltest.Config{AuthorizedKeys: []ssh.PublicKey{key.PublicKey()}, Stall: stall})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		if stall == tunneltest.StallNone {
			sc, chans, reqs, err := ssh.NewClientConn(raw, s.Addr(), &ssh.ClientConfig{
				User: "u", Auth: []ssh.AuthMethod{ssh.PublicKeys(key)}, HostKeyCallback: ssh.FixedHostKey(s.HostKey()),
			})
			if err != nil {
				t.Fatal(err)
			}
			c := ssh.NewClient(sc, chans, reqs)
			closers = append(closers, c)
		} else {
			closers = append(closers, raw)
		}
		s.Close() // with the client still connected
		s.Close() // idempotent
	}
	for _, c := range closers {
		c.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		t.Errorf("goroutines = %d after Close, want <= %d", n, base)
	}
}

func TestServerFreeze(t *testing.T) {
	key := userKey(t)
	s := tunneltest.NewServer(t, tunneltest.Config{AuthorizedKeys: []ssh.PublicKey{key.PublicKey()}})
	c, err := dialServer(s, "u", ssh.PublicKeys(key))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s.Freeze()
	res := make(chan error, 1)
	go func() {
		_, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
		res <- err
	}()
	select {
	case err := <-res:
		t.Fatalf("frozen server answered a request (err %v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	c.Close() // releases the blocked request
	select {
	case <-res:
	case <-time.After(5 * time.Second):
		t.Fatal("request still blocked after Close")
	}
}
