package tunnel_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

func newEd25519(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

// writeTestKey writes a fresh unencrypted ed25519 key at path (0600) and
// its .pub beside it, and returns the public key.
func writeTestKey(t *testing.T, path string) ssh.PublicKey {
	t.Helper()
	priv := newEd25519(t)
	block, err := ssh.MarshalPrivateKey(priv, "test key")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(pub), 0o644); err != nil {
		t.Fatal(err)
	}
	return pub
}

// resolveTest resolves dest against config in a fresh home that has one
// default key, with no agent and a resolver that knows every name.
func resolveTest(t *testing.T, config, dest string, opts tunnel.ResolveOptions) (*tunnel.Resolved, error) {
	t.Helper()
	home := t.TempDir()
	writeTestKey(t, filepath.Join(home, ".ssh", "id_ed25519"))
	path := filepath.Join(home, "config")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	opts.Home, opts.LocalUser, opts.ConfigFile = home, "local", path
	opts.Getenv = func(string) string { return "" }
	if opts.LookupHost == nil {
		opts.LookupHost = func(context.Context, string) ([]string, error) { return []string{"127.0.0.1"}, nil }
	}
	res, err := tunnel.Resolve(context.Background(), dest, opts)
	if err == nil {
		t.Cleanup(func() { res.Close() })
	}
	return res, err
}

// What ssh's flags and the destination do, against the config, for the
// target (not the jump hosts).
func TestResolvePrecedence(t *testing.T) {
	const config = "Host lab\n  HostName Lab.Example.COM\n  User cfguser\n  Port 2200\n  ProxyJump jumpuser@bastion:2022\n" +
		"Host bastion\n  HostName bastion.example.com\n  User bastionuser\n" +
		"Host *\n  StrictHostKeyChecking accept-new\n  ConnectTimeout 7\n  ServerAliveInterval 9\n  ServerAliveCountMax 4\n"
	tests := []struct {
		name       string
		dest       string
		opts       tunnel.ResolveOptions
		wantAddr   string
		wantUser   string
		wantAccept bool
	}{
		{"config", "lab", tunnel.ResolveOptions{}, "lab.example.com:2200", "cfguser", true},
		{"user@ and :port win over config", "me@lab:2300", tunnel.ResolveOptions{}, "lab.example.com:2300", "me", true},
		{"-l and -p win over user@ and :port", "me@lab:2300", tunnel.ResolveOptions{User: "flag", Port: 2400}, "lab.example.com:2400", "flag", true},
		{"-o wins over the destination and config", "me@lab", tunnel.ResolveOptions{Options: []string{"User=opt", "Port 2500", "StrictHostKeyChecking=yes"}}, "lab.example.com:2500", "opt", false},
		{"strictness flag wins", "lab", tunnel.ResolveOptions{StrictHostKeyChecking: "yes"}, "lab.example.com:2200", "cfguser", false},
		{"no means accept-new for unknown hosts", "lab", tunnel.ResolveOptions{StrictHostKeyChecking: "no"}, "lab.example.com:2200", "cfguser", true},
		{"unknown alias is dialled as typed", "Other", tunnel.ResolveOptions{}, "other:22", "local", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := resolveTest(t, config, tt.dest, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Config.Addr != tt.wantAddr || res.Config.User != tt.wantUser || res.Config.AcceptNew != tt.wantAccept {
				t.Errorf("got addr %q user %q accept-new %v, want %q %q %v",
					res.Config.Addr, res.Config.User, res.Config.AcceptNew, tt.wantAddr, tt.wantUser, tt.wantAccept)
			}
		})
	}
	res, err := resolveTest(t, config, "lab", tunnel.ResolveOptions{User: "flag", Port: 2400})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Config.Jump) != 1 || res.Config.Jump[0].Addr != "bastion.example.com:2022" || res.Config.Jump[0].User != "jumpuser" {
		t.Errorf("jump = %+v, want jumpuser@bastion.example.com:2022 (-l/-p are the target's only)", res.Config.Jump)
	}
	if res.ConnectTimeout != 7*time.Second || res.Config.KeepaliveInterval != 9*time.Second || res.Config.KeepaliveMax != 4 {
		t.Errorf("ConnectTimeout %v keepalive %v x%d, want 7s, 9s x4 from the config", res.ConnectTimeout, res.Config.KeepaliveInterval, res.Config.KeepaliveMax)
	}
}

func TestResolveKnownHostsFiles(t *testing.T) {
	tests := []struct {
		name, config string
		opts         tunnel.ResolveOptions
		want         func(home string) []string
	}{
		{"defaults", "", tunnel.ResolveOptions{}, func(h string) []string {
			return []string{h + "/.ssh/known_hosts", h + "/.ssh/known_hosts2", "/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"}
		}},
		{"user none, global set", "UserKnownHostsFile none\nGlobalKnownHostsFile /g1 /g2\n", tunnel.ResolveOptions{}, func(string) []string {
			return []string{"/g1", "/g2"}
		}},
		{"user set, global none", "UserKnownHostsFile ~/kh %d/kh2\nGlobalKnownHostsFile none\n", tunnel.ResolveOptions{}, func(h string) []string {
			return []string{h + "/kh", h + "/kh2"}
		}},
		{"flag replaces both", "UserKnownHostsFile /u\n", tunnel.ResolveOptions{KnownHostsFiles: []string{"/flag"}}, func(string) []string {
			return []string{"/flag"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := resolveTest(t, tt.config, "h", tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			home := filepath.Dir(res.Keys[0][:strings.Index(res.Keys[0], "/.ssh/")+len("/.ssh")])
			if got, want := res.Config.KnownHostsFiles, tt.want(home); !reflect.DeepEqual(got, want) {
				t.Errorf("KnownHostsFiles = %q, want %q", got, want)
			}
		})
	}
	if _, err := resolveTest(t, "UserKnownHostsFile none\nGlobalKnownHostsFile none\n", "h", tunnel.ResolveOptions{}); err == nil {
		t.Error("Resolve with no known_hosts file at all succeeded, want an error: host keys could not be verified")
	}
}

// Lines ssh refuses are refused with file:line, from the file or -o.
func TestResolveRefusesWhatSSHRefuses(t *testing.T) {
	tests := []struct {
		name, config string
		options      []string
		want         string
	}{
		{"unknown keyword", "Host x\n  Frobnicate yes\n", nil, "config:2: bad configuration option: frobnicate"},
		{"missing value", "User\n", nil, "config:1: user: missing argument"},
		{"port in hex", "Port 0x16\n", nil, `badly formatted port number "0x16"`},
		{"port zero", "Port 0\n", nil, `badly formatted port number "0"`},
		{"port too big", "Port 70000\n", nil, `badly formatted port number "70000"`},
		{"port extra words", "Port 22 23\n", nil, "port: garbage at end of line"},
		{"port in an unmatched block", "Host nomatch\n  Port x\n", nil, `badly formatted port number "x"`},
		{"unknown -o keyword", "", []string{"Frobnicate=yes"}, "bad configuration option: frobnicate"},
		{"-o Host", "", []string{"Host=x"}, "not allowed on the command line"},
		{"bad strictness", "StrictHostKeyChecking maybe\n", nil, `unsupported option "maybe"`},
		{"bad Match", "Match nosuch x\n", nil, "Match: unsupported attribute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := resolveTest(t, tt.config, "h", tunnel.ResolveOptions{Options: tt.options})
			var ce *tunnel.ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Resolve error = %v, want *ConfigError containing %q", err, tt.want)
			}
		})
	}
}

// Ports ssh accepts.
func TestResolvePortForms(t *testing.T) {
	for in, want := range map[string]string{"+22": "22", "022": "22", `"2222"`: "2222", "=8022": "8022"} {
		res, err := resolveTest(t, "Port "+in+"\n", "h", tunnel.ResolveOptions{})
		if err != nil {
			t.Errorf("Port %s: %v", in, err)
			continue
		}
		if got := res.Port; got != want {
			t.Errorf("Port %s resolved to %q, want %q", in, got, want)
		}
	}
}

func TestResolveMissingConfigFile(t *testing.T) {
	_, err := tunnel.Resolve(context.Background(), "h", tunnel.ResolveOptions{ConfigFile: filepath.Join(t.TempDir(), "nope")})
	if err == nil || !strings.Contains(err.Error(), "can't open user config file") {
		t.Errorf("Resolve with a missing -F file: %v, want \"can't open user config file\"", err)
	}
	for _, none := range []string{"none", os.DevNull} {
		home := t.TempDir()
		writeTestKey(t, filepath.Join(home, ".ssh", "id_ed25519"))
		res, err := tunnel.Resolve(context.Background(), "127.0.0.1", tunnel.ResolveOptions{ConfigFile: none, Home: home, Getenv: func(string) string { return "" }})
		if err != nil {
			t.Errorf("Resolve -F %s: %v", none, err)
			continue
		}
		res.Close()
	}
}

// A name that is neither in the config nor resolvable says so.
func TestResolveUnknownDestination(t *testing.T) {
	notFound := func(_ context.Context, h string) ([]string, error) {
		return nil, &net.DNSError{Err: "no such host", Name: h, IsNotFound: true}
	}
	_, err := resolveTest(t, "Host lab\n  HostName 127.0.0.1\n", "lba", tunnel.ResolveOptions{LookupHost: notFound})
	var ue *tunnel.UnknownDestinationError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), `unknown host "lba": not in `) || !strings.Contains(err.Error(), "not resolvable") {
		t.Errorf("Resolve(lba) error = %v, want *UnknownDestinationError: unknown host \"lba\": not in ... and not resolvable", err)
	}
	if _, err := resolveTest(t, "Host lab\n  HostName 127.0.0.1\n", "lab", tunnel.ResolveOptions{LookupHost: notFound}); err != nil {
		t.Errorf("Resolve(lab), an alias: %v", err)
	}
	if _, err := resolveTest(t, "Host lab\n  ProxyCommand nc %h %p\n", "lab", tunnel.ResolveOptions{LookupHost: notFound}); err != nil {
		t.Errorf("Resolve(lab) through ProxyCommand: %v (the proxy resolves the name)", err)
	}
}

// ssh refuses a private key that others can read.
func TestResolveUnprotectedKey(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	key := filepath.Join(t.TempDir(), "key")
	writeTestKey(t, key)
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := resolveTest(t, "", "h", tunnel.ResolveOptions{IdentityFiles: []string{key}})
	var ue *tunnel.UnprotectedKeyError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "UNPROTECTED PRIVATE KEY FILE") || !strings.Contains(err.Error(), "0644") {
		t.Errorf("Resolve -i (mode 0644) error = %v, want *UnprotectedKeyError with the mode", err)
	}
}

// -i and IdentityFile come first, in order; IdentitiesOnly is accepted;
// CertificateFile pairs a certificate with its key.
func TestResolveIdentityOrder(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	pa, pb := writeTestKey(t, a), writeTestKey(t, b)
	res, err := resolveTest(t, "IdentityFile "+b+"\nIdentitiesOnly yes\n", "h", tunnel.ResolveOptions{IdentityFiles: []string{a}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{a + " " + ssh.FingerprintSHA256(pa), b + " " + ssh.FingerprintSHA256(pb)}
	if !reflect.DeepEqual(res.Keys, want) {
		t.Errorf("keys = %q, want %q", res.Keys, want)
	}
}

// An encrypted default key that cannot be unlocked (no passphrase source,
// or BatchMode) is reported as such, not as "no key".
func TestResolveEncryptedDefaultKey(t *testing.T) {
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	// ssh-keygen with few KDF rounds: x/crypto's writer always uses 16,
	// which takes seconds to decrypt under -race.
	if _, err := tunneltest.GenerateKey(filepath.Join(home, ".ssh", "id_ed25519"), "ed25519", "pw"); err != nil {
		t.Fatal(err)
	}
	asked := 0
	for _, tt := range []struct {
		name       string
		config     string
		passphrase func(string) ([]byte, error)
		wantAsked  int
	}{
		{"no passphrase source", "", nil, 0},
		{"batch mode never asks", "BatchMode yes\n", func(string) ([]byte, error) { asked++; return []byte("pw"), nil }, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			asked = 0
			cfg := filepath.Join(t.TempDir(), "config")
			if err := os.WriteFile(cfg, []byte(tt.config), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := tunnel.Resolve(context.Background(), "127.0.0.1", tunnel.ResolveOptions{
				Home: home, ConfigFile: cfg, Getenv: func(string) string { return "" }, Passphrase: tt.passphrase,
			})
			var missing *ssh.PassphraseMissingError
			if !errors.As(err, &missing) {
				t.Errorf("Resolve error = %v, want *ssh.PassphraseMissingError", err)
			}
			if asked != tt.wantAsked {
				t.Errorf("passphrase asked %d times, want %d", asked, tt.wantAsked)
			}
		})
	}
	cfg := filepath.Join(t.TempDir(), "config")
	_ = os.WriteFile(cfg, nil, 0o600)
	res, err := tunnel.Resolve(context.Background(), "127.0.0.1", tunnel.ResolveOptions{
		Home: home, ConfigFile: cfg, Getenv: func(string) string { return "" },
		Passphrase: func(string) ([]byte, error) { return []byte("pw"), nil },
	})
	if err != nil {
		t.Fatalf("Resolve with the passphrase: %v", err)
	}
	res.Close()
}

// CertificateFile pairs a certificate kept elsewhere with its key, and the
// certificate is what logs in (the bare key is not authorized).
func TestResolveCertificateFile(t *testing.T) {
	caSigner, err := ssh.NewSignerFromKey(newEd25519(t))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := tunneltest.Start(tunneltest.Config{UserCA: caSigner.PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	key := filepath.Join(dir, "keys", "id")
	pub := writeTestKey(t, key)
	cert := &ssh.Certificate{Key: pub, CertType: ssh.UserCert, KeyId: "test", ValidPrincipals: []string{"me"},
		ValidBefore: ssh.CertTimeInfinity}
	if err := cert.SignCert(rand.Reader, caSigner); err != nil {
		t.Fatal(err)
	}
	certPath := filepath.Join(dir, "certs", "me-cert.pub")
	if err := os.MkdirAll(filepath.Dir(certPath), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, ssh.MarshalAuthorizedKey(cert), 0o644); err != nil {
		t.Fatal(err)
	}
	kh := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(kh, []byte(srv.KnownHostsLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(srv.Addr())
	config := "Host lab\n  HostName " + host + "\n  Port " + port + "\n  User me\n  IdentityFile " + key +
		"\n  CertificateFile " + certPath + "\n  IdentitiesOnly yes\n  UserKnownHostsFile " + kh + "\n"
	res, err := resolveTest(t, config, "lab", tunnel.ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Keys) == 0 || !strings.HasPrefix(res.Keys[0], certPath) {
		t.Errorf("keys = %q, want the certificate first", res.Keys)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := res.Dial(ctx)
	if err != nil {
		t.Fatalf("Dial with CertificateFile: %v", err)
	}
	c.Close()
}

// Without -F, the system config is read after the user's (first value
// wins), its relative Include under /etc/ssh; with -F it is not read.
func TestResolveSystemConfig(t *testing.T) {
	home := t.TempDir()
	writeTestKey(t, filepath.Join(home, ".ssh", "id_ed25519"))
	if err := os.WriteFile(filepath.Join(home, ".ssh", "config"), []byte("Host lab\n  User fromuser\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sys := filepath.Join(t.TempDir(), "ssh_config")
	if err := os.WriteFile(sys, []byte("Host *\n  User fromsystem\n  Port 2201\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	resolve := func(configFile string) *tunnel.Resolved {
		t.Helper()
		res, err := tunnel.Resolve(context.Background(), "lab", tunnel.ResolveOptions{Home: home, ConfigFile: configFile,
			SystemConfigFile: sys, Getenv: func(string) string { return "" },
			LookupHost: func(context.Context, string) ([]string, error) { return nil, nil }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Close() })
		return res
	}
	if res := resolve(""); res.User != "fromuser" || res.Port != "2201" {
		t.Errorf("user %q port %q, want fromuser (user config first) and 2201 (system config)", res.User, res.Port)
	}
	if res := resolve(filepath.Join(home, ".ssh", "config")); res.Port != "22" {
		t.Errorf("with -F, port %q, want 22: the system config is not read", res.Port)
	}
}

// ConnectionAttempts retries a connection that fails at the network level.
func TestResolveConnectionAttempts(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // now refused
	host, port, _ := net.SplitHostPort(addr)
	var verbose strings.Builder
	res, err := resolveTest(t, "ConnectionAttempts 3\nPort "+port+"\n", host, tunnel.ResolveOptions{Verbose: &verbose, Verbosity: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := res.Dial(ctx); err == nil {
		t.Fatal("Dial to a closed port succeeded")
	}
	if got := strings.Count(verbose.String(), "connect to "+addr+" failed"); got != 3 {
		t.Errorf("%d failed attempts logged, want 3 (ConnectionAttempts 3):\n%s", got, verbose.String())
	}
}
