package tunnel_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

func authorizedKey(k ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}

func TestDialHostKeyEntries(t *testing.T) {
	p := newInProc(t, tunneltest.Config{})
	addr := p.srv.Addr()
	host := knownhosts.Normalize(addr) // [127.0.0.1]:port
	key := authorizedKey(p.srv.HostKey())
	other := authorizedKey(genSigner(t).PublicKey())
	tests := []struct {
		name    string
		lines   []string
		wantErr bool
	}{
		{"plain [host]:port", []string{host + " " + key}, false},
		{"hashed", []string{knownhosts.HashHostname(host) + " " + key}, false},
		{"host list with other names", []string{"example.org,[10.0.0.1]:22," + host + " " + key}, false},
		{"second key for the host", []string{host + " " + other, host + " " + key}, false},
		{"entry without port means port 22", []string{"127.0.0.1 " + key}, true},
		{"entry for another port", []string{"[127.0.0.1]:1 " + key}, true},
		{"hashed for another host", []string{knownhosts.HashHostname("[127.0.0.2]:1") + " " + key}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kh := filepath.Join(t.TempDir(), "known_hosts")
			writeFile(t, kh, strings.Join(tt.lines, "\n")+"\n")
			cfg := p.config()
			cfg.KnownHostsFiles = []string{kh}
			c, err := tunnel.Dial(testCtx(t), cfg)
			if err == nil {
				c.Close()
			}
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("Dial error = %v, want error: %v", err, tt.wantErr)
			}
		})
	}
}

func TestDialUnknownHost(t *testing.T) {
	p := newInProc(t, tunneltest.Config{})
	kh := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, kh, "# nothing here\n[example.org]:2222 "+authorizedKey(genSigner(t).PublicKey())+"\n")
	missing := filepath.Join(t.TempDir(), "missing")
	cfg := p.config()
	cfg.KnownHostsFiles = []string{kh, missing}
	_, err := tunnel.Dial(testCtx(t), cfg)
	var unknown *tunnel.UnknownHostError
	if !errors.As(err, &unknown) {
		t.Fatalf("Dial error = %v (%T), want *UnknownHostError", err, err)
	}
	if got, want := unknown.Fingerprint(), ssh.FingerprintSHA256(p.srv.HostKey()); got != want {
		t.Errorf("Fingerprint() = %q, want %q", got, want)
	}
	if unknown.Host != p.srv.Addr() {
		t.Errorf("Host = %q, want %q", unknown.Host, p.srv.Addr())
	}
	if len(unknown.Files) != 2 || unknown.Files[0] != kh {
		t.Errorf("Files = %q, want [%s %s]", unknown.Files, kh, missing)
	}
	for _, want := range []string{"unknown host", unknown.Fingerprint(), kh} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestDialHostKeyChanged(t *testing.T) {
	p := newInProc(t, tunneltest.Config{})
	host := knownhosts.Normalize(p.srv.Addr())
	kh := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, kh, strings.Join([]string{
		"# comment",
		"example.org " + authorizedKey(genSigner(t).PublicKey()),
		host + " " + authorizedKey(genSigner(t).PublicKey()), // line 3: the impostor's rival
		knownhosts.HashHostname(host) + " " + authorizedKey(genSigner(t).PublicKey()),
	}, "\n")+"\n")
	for _, acceptNew := range []bool{false, true} {
		cfg := p.config()
		cfg.KnownHostsFiles = []string{kh}
		cfg.AcceptNew = acceptNew
		_, err := tunnel.Dial(testCtx(t), cfg)
		var changed *tunnel.HostKeyChangedError
		if !errors.As(err, &changed) {
			t.Fatalf("AcceptNew=%v: Dial error = %v (%T), want *HostKeyChangedError", acceptNew, err, err)
		}
		if changed.File != kh || changed.Line != 3 {
			t.Errorf("conflict at %s:%d, want %s:3", changed.File, changed.Line, kh)
		}
		if got, want := changed.Fingerprint(), ssh.FingerprintSHA256(p.srv.HostKey()); got != want {
			t.Errorf("Fingerprint() = %q, want %q", got, want)
		}
		if want := kh + ":3"; !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	b, _ := os.ReadFile(kh)
	if n := strings.Count(string(b), "\n"); n != 4 {
		t.Errorf("known_hosts has %d lines after refused dials, want 4 (nothing appended)", n)
	}
}

func TestDialRevokedHostKey(t *testing.T) {
	p := newInProc(t, tunneltest.Config{})
	host := knownhosts.Normalize(p.srv.Addr())
	key := authorizedKey(p.srv.HostKey())
	kh := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, kh, host+" "+key+"\n@revoked * "+key+"\n")
	cfg := p.config()
	cfg.KnownHostsFiles = []string{kh}
	_, err := tunnel.Dial(testCtx(t), cfg)
	var revoked *tunnel.RevokedHostKeyError
	if !errors.As(err, &revoked) {
		t.Fatalf("Dial error = %v (%T), want *RevokedHostKeyError", err, err)
	}
	if got, want := revoked.Fingerprint(), ssh.FingerprintSHA256(p.srv.HostKey()); got != want {
		t.Errorf("Fingerprint() = %q, want %q", got, want)
	}
}

func TestDialHostCertificate(t *testing.T) {
	ca := genSigner(t)
	p := newInProc(t, tunneltest.Config{HostCA: ca})
	host := knownhosts.Normalize(p.srv.Addr())
	caLine := authorizedKey(ca.PublicKey())
	otherCA := authorizedKey(genSigner(t).PublicKey())
	tests := []struct {
		name    string
		lines   []string
		wantErr func(error) bool
	}{
		{"ca for [host]:port", []string{"@cert-authority " + host + " " + caLine}, nil},
		{"ca for wildcard", []string{"@cert-authority * " + caLine}, nil},
		{"ca for another host", []string{"@cert-authority [127.0.0.9]:1 " + caLine, "@cert-authority " + host + " " + otherCA}, func(err error) bool { return err != nil }},
		{"ca revoked", []string{"@cert-authority * " + caLine, "@revoked * " + caLine}, func(err error) bool {
			var r *tunnel.RevokedHostKeyError
			return errors.As(err, &r)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kh := filepath.Join(t.TempDir(), "known_hosts")
			writeFile(t, kh, strings.Join(tt.lines, "\n")+"\n")
			cfg := p.config()
			cfg.KnownHostsFiles = []string{kh}
			c, err := tunnel.Dial(testCtx(t), cfg)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Dial error = %v, want nil", err)
				}
				c.Close()
				return
			}
			if err == nil {
				c.Close()
			}
			if !tt.wantErr(err) {
				t.Fatalf("Dial error = %v (%T), not the expected kind", err, err)
			}
		})
	}
}

// A known_hosts that OpenSSH wrote with only the ed25519 key must work
// against a server that also has ECDSA and RSA host keys.
func TestDialEd25519OnlyKnownHostsAgainstThreeKeyServer(t *testing.T) {
	p := newInProc(t, tunneltest.Config{ExtraHostKeys: []string{ssh.KeyAlgoECDSA256, ssh.KeyAlgoRSA}})
	if n := len(p.srv.HostKeys()); n != 3 {
		t.Fatalf("server has %d host keys, want 3", n)
	}
	dialOK(t, p.config())

	// The bug being fixed is real: plain x/crypto knownhosts with the
	// default algorithm order negotiates ECDSA and reports a mismatch.
	cb, err := knownhosts.New(p.knownHosts)
	if err != nil {
		t.Fatal(err)
	}
	cfg := p.config()
	cfg.HostKeyCallback = cb
	_, err = tunnel.Dial(testCtx(t), cfg)
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) || len(ke.Want) == 0 {
		t.Fatalf("plain knownhosts callback: Dial error = %v, want knownhosts key mismatch", err)
	}
}

func TestDialAcceptNew(t *testing.T) {
	p := newInProc(t, tunneltest.Config{ExtraHostKeys: []string{ssh.KeyAlgoECDSA256, ssh.KeyAlgoRSA}})
	kh := filepath.Join(t.TempDir(), "ssh", "known_hosts") // directory does not exist yet
	cfg := p.config()
	cfg.KnownHostsFiles = []string{kh}

	if _, err := tunnel.Dial(testCtx(t), cfg); !errors.As(err, new(*tunnel.UnknownHostError)) {
		t.Fatalf("without AcceptNew: Dial error = %v, want *UnknownHostError", err)
	}
	cfg.AcceptNew = true
	dialOK(t, cfg)
	b, err := os.ReadFile(kh)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "|1|") {
		t.Fatalf("known_hosts = %q, want one hashed line", b)
	}
	if !strings.Contains(lines[0], ssh.KeyAlgoED25519) {
		t.Errorf("accepted line %q, want the ed25519 key (OpenSSH's preference)", lines[0])
	}
	if st, _ := os.Stat(kh); st.Mode().Perm() != 0o600 {
		t.Errorf("known_hosts mode = %v, want 0600", st.Mode().Perm())
	}

	// The next dial uses the line, even without AcceptNew.
	cfg.AcceptNew = false
	dialOK(t, cfg)
	b2, _ := os.ReadFile(kh)
	if string(b2) != string(b) {
		t.Errorf("known_hosts changed on a known host: %q -> %q", b, b2)
	}
}

func TestDialIPv6(t *testing.T) {
	probe, err := net6Listen()
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	probe.Close()
	p := newInProc(t, tunneltest.Config{Addr: "[::1]:0"})
	if !strings.HasPrefix(p.srv.Addr(), "[::1]:") {
		t.Fatalf("server Addr = %q, want [::1]:port", p.srv.Addr())
	}
	c := dialOK(t, p.config())
	conn, err := c.DialContext(testCtx(t), "tcp6", echoAddr(t, "tcp", "[::1]:0"))
	if err != nil {
		t.Fatalf("DialContext error = %v", err)
	}
	defer conn.Close()
	roundTrip(t, conn, "v6")
}

// Each single-type known_hosts works against the three-key server (an
// RSA entry is asked for as rsa-sha2-512/256; SHA-1 ssh-rsa is dropped).
func TestDialSingleKeyTypeKnownHosts(t *testing.T) {
	p := newInProc(t, tunneltest.Config{ExtraHostKeys: []string{ssh.KeyAlgoECDSA256, ssh.KeyAlgoRSA}})
	host := knownhosts.Normalize(p.srv.Addr())
	for _, k := range p.srv.HostKeys() {
		t.Run(k.Type(), func(t *testing.T) {
			kh := filepath.Join(t.TempDir(), "known_hosts")
			writeFile(t, kh, knownhosts.HashHostname(host)+" "+authorizedKey(k)+"\n")
			cfg := p.config()
			cfg.KnownHostsFiles = []string{kh}
			dialOK(t, cfg)
		})
	}
}

// Accept-new records the name dialled, not its address: OpenSSH has
// CheckHostIP off by default since 8.5, so neither does this package.
func TestDialAcceptNewRecordsNameOnly(t *testing.T) {
	if addrs, err := net.LookupHost("localhost"); err != nil || !slices.Contains(addrs, "127.0.0.1") {
		t.Skipf("localhost does not resolve to 127.0.0.1: %v %v", addrs, err)
	}
	p := newInProc(t, tunneltest.Config{})
	_, port, _ := net.SplitHostPort(p.srv.Addr())
	kh := filepath.Join(t.TempDir(), "known_hosts")
	cfg := p.config()
	cfg.KnownHostsFiles = []string{kh}
	cfg.Addr = net.JoinHostPort("localhost", port)
	cfg.AcceptNew = true
	dialOK(t, cfg)

	cfg.AcceptNew = false
	dialOK(t, cfg) // the hashed [localhost]:port line matches
	cfg.Addr = p.srv.Addr()
	if _, err := tunnel.Dial(testCtx(t), cfg); !errors.As(err, new(*tunnel.UnknownHostError)) {
		t.Fatalf("Dial(%s) after accepting localhost: error = %v, want *UnknownHostError", cfg.Addr, err)
	}
}
