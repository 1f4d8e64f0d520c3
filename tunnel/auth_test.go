package tunnel_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// sshKeygen writes a key with OpenSSH's ssh-keygen (a real peer for the
// file formats), skipping when it is missing.
func sshKeygen(t *testing.T, path string, args ...string) {
	t.Helper()
	bin, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Skipf("ssh-keygen not installed: %v", err)
	}
	out, err := exec.Command(bin, append([]string{"-q", "-f", path, "-C", "test"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen %v: %v\n%s", args, err, out)
	}
}

func readPub(t *testing.T, path string) ssh.PublicKey {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// dialWith dials p's server with one signer, authorising its key first.
func dialWithSigner(t *testing.T, s ssh.Signer, srvCfg tunneltest.Config) error {
	t.Helper()
	srvCfg.AuthorizedKeys = append(srvCfg.AuthorizedKeys, s.PublicKey())
	p := newInProc(t, srvCfg)
	cfg := p.config()
	cfg.Auth = []ssh.AuthMethod{ssh.PublicKeys(s)}
	c, err := tunnel.Dial(testCtx(t), cfg)
	if err == nil {
		c.Close()
	}
	return err
}

func TestLoadKeyFormats(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name     string
		keygen   []string             // ssh-keygen arguments, or nil for a Go-written key
		goKey    func() (any, string) // key and PEM type for x509-written files
		wantType string
	}{
		{name: "openssh ed25519", keygen: []string{"-t", "ed25519", "-N", ""}, wantType: ssh.KeyAlgoED25519},
		{name: "openssh ecdsa", keygen: []string{"-t", "ecdsa", "-N", ""}, wantType: ssh.KeyAlgoECDSA256},
		{name: "openssh rsa", keygen: []string{"-t", "rsa", "-b", "2048", "-N", ""}, wantType: ssh.KeyAlgoRSA},
		{name: "pem rsa", keygen: []string{"-t", "rsa", "-b", "2048", "-m", "PEM", "-N", ""}, wantType: ssh.KeyAlgoRSA},
		{name: "pkcs8 rsa", keygen: []string{"-t", "rsa", "-b", "2048", "-m", "PKCS8", "-N", ""}, wantType: ssh.KeyAlgoRSA},
		{name: "pkcs8 ecdsa (Go)", goKey: func() (any, string) {
			k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			b, _ := x509.MarshalPKCS8PrivateKey(k)
			return b, "PRIVATE KEY"
		}, wantType: ssh.KeyAlgoECDSA256},
		{name: "pkcs1 rsa (Go)", goKey: func() (any, string) {
			k, _ := rsa.GenerateKey(rand.Reader, 2048)
			return x509.MarshalPKCS1PrivateKey(k), "RSA PRIVATE KEY"
		}, wantType: ssh.KeyAlgoRSA},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "key"+string(rune('a'+i)))
			if tt.keygen != nil {
				sshKeygen(t, path, tt.keygen...)
			} else {
				der, typ := tt.goKey()
				writeFile(t, path, string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der.([]byte)})))
			}
			s, err := tunnel.LoadKey(path, nil)
			if err != nil {
				t.Fatalf("LoadKey error = %v", err)
			}
			if got := s.PublicKey().Type(); got != tt.wantType {
				t.Fatalf("key type = %q, want %q", got, tt.wantType)
			}
			if tt.wantType == ssh.KeyAlgoRSA {
				ms, ok := s.(ssh.MultiAlgorithmSigner)
				if !ok || strings.Join(ms.Algorithms(), ",") != "rsa-sha2-512,rsa-sha2-256" {
					t.Errorf("rsa signer algorithms = %T %v, want rsa-sha2-512,rsa-sha2-256 only", s, s)
				}
			}
			if err := dialWithSigner(t, s, tunneltest.Config{}); err != nil {
				t.Fatalf("Dial with loaded key error = %v", err)
			}
		})
	}
}

func TestLoadKeyEncrypted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, format := range []string{"openssh", "PEM"} {
		t.Run(format, func(t *testing.T) {
			path := filepath.Join(dir, "enc_"+format)
			// Few bcrypt rounds (-a) keep the test quick; the format is the same.
			args := []string{"-t", "ed25519", "-a", "1", "-N", "s3cret pass"}
			if format == "PEM" {
				args = []string{"-t", "ecdsa", "-m", "PEM", "-N", "s3cret pass"}
			}
			sshKeygen(t, path, args...)

			_, err := tunnel.LoadKey(path, nil)
			var missing *ssh.PassphraseMissingError
			if !errors.As(err, &missing) {
				t.Fatalf("LoadKey(nil passphrase) error = %v (%T), want *ssh.PassphraseMissingError", err, err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			if _, err := tunnel.LoadKey(path, []byte("wrong")); err == nil || errors.As(err, &missing) {
				t.Errorf("LoadKey(wrong passphrase) error = %v, want a decryption error", err)
			}
			s, err := tunnel.LoadKey(path, []byte("s3cret pass"))
			if err != nil {
				t.Fatalf("LoadKey(passphrase) error = %v", err)
			}
			if !readPubEqual(t, path+".pub", s.PublicKey()) {
				t.Errorf("loaded key does not match %s.pub", path)
			}
			if err := dialWithSigner(t, s, tunneltest.Config{}); err != nil {
				t.Fatalf("Dial with decrypted key error = %v", err)
			}
		})
	}
}

func readPubEqual(t *testing.T, path string, k ssh.PublicKey) bool {
	return string(readPub(t, path).Marshal()) == string(k.Marshal())
}

func TestLoadKeyMissing(t *testing.T) {
	_, err := tunnel.LoadKey(filepath.Join(t.TempDir(), "nope"), nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("LoadKey(missing) error = %v, want os.ErrNotExist", err)
	}
}

// A user certificate next to the key ("<key>-cert.pub", as ssh-keygen -s
// writes it) is used for auth against a server that trusts the user CA and
// has no authorized keys.
func TestLoadKeyUserCertificate(t *testing.T) {
	dir := t.TempDir()
	caPath := filepath.Join(dir, "ca")
	keyPath := filepath.Join(dir, "id_ed25519")
	sshKeygen(t, caPath, "-t", "ed25519", "-N", "")
	sshKeygen(t, keyPath, "-t", "ed25519", "-N", "")
	out, err := exec.Command("ssh-keygen", "-q", "-s", caPath, "-I", "tester-cert", "-n", "tester", keyPath+".pub").CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen -s: %v\n%s", err, out)
	}
	s, err := tunnel.LoadKey(keyPath, nil)
	if err != nil {
		t.Fatalf("LoadKey error = %v", err)
	}
	if _, ok := s.PublicKey().(*ssh.Certificate); !ok {
		t.Fatalf("LoadKey returned a %s signer, want a certificate", s.PublicKey().Type())
	}
	srv := tunneltest.NewServer(t, tunneltest.Config{UserCA: readPub(t, caPath+".pub")})
	kh := filepath.Join(dir, "known_hosts")
	writeFile(t, kh, srv.KnownHostsLine()+"\n")
	cfg := tunnel.Config{Addr: srv.Addr(), KnownHostsFiles: []string{kh}, Auth: []ssh.AuthMethod{ssh.PublicKeys(s)}}
	for _, tt := range []struct {
		user   string
		wantOK bool
	}{{"tester", true}, {"intruder", false}} {
		cfg.User = tt.user
		c, err := tunnel.Dial(testCtx(t), cfg)
		if err == nil {
			c.Close()
		}
		if (err == nil) != tt.wantOK {
			t.Errorf("Dial as %q with cert for principal tester: error = %v, want ok %v", tt.user, err, tt.wantOK)
		}
	}
}

// serveKeyring serves an in-memory keyring on a temporary unix socket.
func serveKeyring(t *testing.T, keys ...any) string {
	t.Helper()
	kr := agent.NewKeyring()
	for _, k := range keys {
		if err := kr.Add(agent.AddedKey{PrivateKey: k}); err != nil {
			t.Fatal(err)
		}
	}
	return serveAgent(t, kr)
}

// serveAgent serves kr on a temporary unix socket, each connection in its
// own goroutine, until the test ends.
func serveAgent(t *testing.T, kr agent.Agent) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		l.Close()
		<-done
	})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			// ServeAgent returns when the client closes the connection.
			go func() { _ = agent.ServeAgent(kr, c); c.Close() }()
		}
	}()
	return sock
}

// Ten keys in the agent and a server that allows three tries: the agent
// filtered to the chosen key gets in, the whole agent does not.
func TestAgentSignersFiltered(t *testing.T) {
	var keys []any
	var pubs []ssh.PublicKey
	for range 10 {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pk, err := ssh.NewPublicKey(&k.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
		pubs = append(pubs, pk)
	}
	chosen := pubs[9]
	sock := serveKeyring(t, keys...)
	srv := tunneltest.NewServer(t, tunneltest.Config{AuthorizedKeys: []ssh.PublicKey{chosen}, MaxAuthTries: 3})
	kh := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, kh, srv.KnownHostsLine()+"\n")

	tests := []struct {
		name        string
		only        []ssh.PublicKey
		wantSigners int
		wantOK      bool
	}{
		{"all keys", nil, 10, false},
		{"chosen key", []ssh.PublicKey{chosen}, 1, true},
		{"key not in agent", []ssh.PublicKey{genSigner(t).PublicKey()}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signers, closer, err := tunnel.AgentSigners(sock, tt.only)
			if err != nil {
				t.Fatalf("AgentSigners error = %v", err)
			}
			defer closer.Close()
			if len(signers) != tt.wantSigners {
				t.Fatalf("got %d signers, want %d", len(signers), tt.wantSigners)
			}
			cfg := tunnel.Config{Addr: srv.Addr(), User: "tester", KnownHostsFiles: []string{kh},
				Auth: []ssh.AuthMethod{ssh.PublicKeys(signers...)}}
			c, err := tunnel.Dial(testCtx(t), cfg)
			if err == nil {
				c.Close()
			}
			if (err == nil) != tt.wantOK {
				t.Fatalf("Dial error = %v, want ok %v", err, tt.wantOK)
			}
			if err != nil && !errors.Is(err, tunnel.ErrAuthFailed) {
				t.Errorf("Dial error = %v, want errors.Is ErrAuthFailed", err)
			}
		})
	}
}

func TestAgentSignersNoAgent(t *testing.T) {
	_, _, err := tunnel.AgentSigners(filepath.Join(t.TempDir(), "none.sock"), nil)
	if err == nil {
		t.Fatal("AgentSigners(missing socket) error = nil, want an error")
	}
}
