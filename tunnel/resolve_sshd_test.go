//go:build unix

package tunnel_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// resolveWith writes config as the -F file and resolves dest with no agent
// and a home in the test's temp dir.
func resolveWith(t *testing.T, config, dest string, opts tunnel.ResolveOptions) (*tunnel.Resolved, error) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	opts.ConfigFile = path
	if opts.Home == "" {
		opts.Home = dir
	}
	if opts.Getenv == nil {
		opts.Getenv = func(string) string { return "" }
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := tunnel.Resolve(ctx, dest, opts)
	if err == nil {
		t.Cleanup(func() { res.Close() })
	}
	return res, err
}

func dialResolved(t *testing.T, res *tunnel.Resolved) (*tunnel.Client, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := res.Dial(ctx)
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

// knownHostsFor writes a known_hosts line naming host (with the sshd's
// port) for its ed25519 key.
func knownHostsFor(t *testing.T, s *tunneltest.SSHD, host string) string {
	t.Helper()
	kh := filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(net.JoinHostPort(host, strconv.Itoa(s.Port())))}, s.HostKey("ed25519"))
	if err := os.WriteFile(kh, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return kh
}

// A host reachable only through ProxyCommand: its HostName does not
// resolve, and nc is what reaches the sshd's port.
func TestProxyCommandReachesSSHD(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("nc"); err != nil {
		t.Skip("nc not installed")
	}
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	kh := knownHostsFor(t, s, "lab.invalid")
	config := "Host lab\n  HostName lab.invalid\n  Port " + strconv.Itoa(s.Port()) + "\n  User " + s.User +
		"\n  IdentityFile " + s.ClientKeyPath + "\n  UserKnownHostsFile " + kh +
		"\n  ProxyCommand nc 127.0.0.1 %p\n"
	res, err := resolveWith(t, config, "lab", tunnel.ResolveOptions{})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if want := "nc 127.0.0.1 " + strconv.Itoa(s.Port()); res.Config.ProxyCommand != want {
		t.Errorf("ProxyCommand = %q, want %q (tokens expanded)", res.Config.ProxyCommand, want)
	}
	c, err := dialResolved(t, res)
	if err != nil {
		t.Fatalf("Dial through ProxyCommand: %v", err)
	}
	echoThrough(t, c, "tcp", startEchoServer(t))
}

// ProxyJump through a bastion sshd written as ssh users do it:
// ProxyCommand ssh -W %h:%p bastion.
func TestProxyCommandSSHWThroughBastion(t *testing.T) {
	t.Parallel()
	sshPath, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("ssh not installed")
	}
	bastion := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	target := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	khBastion := filepath.Join(t.TempDir(), "kh_bastion")
	if err := bastion.WriteKnownHosts(khBastion, false); err != nil {
		t.Fatal(err)
	}
	kh := knownHostsFor(t, target, "127.0.0.1")
	proxy := sshPath + " -F none -o BatchMode=yes -o UserKnownHostsFile=" + khBastion +
		" -i " + bastion.ClientKeyPath + " -p " + strconv.Itoa(bastion.Port()) + " -W %h:%p " + bastion.User + "@127.0.0.1"
	config := "Host target\n  HostName 127.0.0.1\n  Port " + strconv.Itoa(target.Port()) + "\n  User " + target.User +
		"\n  IdentityFile " + target.ClientKeyPath + "\n  UserKnownHostsFile " + kh + "\n  ProxyCommand " + proxy + "\n"
	var stderr syncBuffer
	res, err := resolveWith(t, config, "target", tunnel.ResolveOptions{ProxyStderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	c, err := dialResolved(t, res)
	if err != nil {
		t.Fatalf("Dial through ssh -W: %v\nproxy stderr: %s", err, stderr.String())
	}
	echoThrough(t, c, "tcp", startEchoServer(t))
	if !strings.Contains(bastion.Log(), "Accepted publickey") {
		t.Errorf("the bastion's log shows no login: the target was not reached through it")
	}
}

// A ProxyCommand that exits before SSH is up is an error naming the
// command and its exit status; its stderr is passed through.
func TestProxyCommandEarlyExit(t *testing.T) {
	t.Parallel()
	var stderr syncBuffer
	config := "Host p\n  User me\n  ProxyCommand echo proxy-oops >&2; exit 3\n  UserKnownHostsFile /dev/null\n"
	home := t.TempDir()
	writeTestKey(t, filepath.Join(home, ".ssh", "id_ed25519"))
	res, err := resolveWith(t, config, "p", tunnel.ResolveOptions{Home: home, ProxyStderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	_, err = dialResolved(t, res)
	var pe *tunnel.ProxyCommandError
	if !errors.As(err, &pe) {
		t.Fatalf("Dial error = %v, want a *ProxyCommandError", err)
	}
	if pe.Command != "echo proxy-oops >&2; exit 3" || pe.Status != "exit status 3" {
		t.Errorf("ProxyCommandError = %+v, want the command and exit status 3", pe)
	}
	if !strings.Contains(stderr.String(), "proxy-oops") {
		t.Errorf("proxy stderr = %q, want it passed through", stderr.String())
	}
}

// Closing the client ends the ProxyCommand process; a Redialer runs the
// command again after the link is lost.
func TestProxyCommandEndsWithClientAndRunsAgainOnRedial(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("nc"); err != nil {
		t.Skip("nc not installed")
	}
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	dir := t.TempDir()
	pids := filepath.Join(dir, "pids")
	kh := knownHostsFor(t, s, "127.0.0.1")
	config := "Host lab\n  HostName 127.0.0.1\n  Port " + strconv.Itoa(s.Port()) + "\n  User " + s.User +
		"\n  IdentityFile " + s.ClientKeyPath + "\n  UserKnownHostsFile " + kh +
		"\n  ProxyCommand echo $$ >> " + pids + "; exec nc %h %p\n"
	res, err := resolveWith(t, config, "lab", tunnel.ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	readPids := func() []int {
		b, _ := os.ReadFile(pids)
		var out []int
		for _, f := range strings.Fields(string(b)) {
			n, _ := strconv.Atoi(f)
			out = append(out, n)
		}
		return out
	}
	alive := func(pid int) bool { return syscall.Kill(pid, 0) == nil }

	c, err := dialResolved(t, res)
	if err != nil {
		t.Fatal(err)
	}
	first := readPids()
	if len(first) != 1 || !alive(first[0]) {
		t.Fatalf("after Dial, proxy pids = %v, want one running", first)
	}
	c.Close()
	if alive(first[0]) {
		t.Errorf("proxy command %d still runs after Close", first[0])
	}

	r := tunnel.NewRedialer(tunnel.RedialConfig{Config: res.Config, MinBackoff: 100 * time.Millisecond})
	defer r.Close()
	echo := startEchoServer(t)
	echoThrough(t, r, "tcp", echo)
	second := readPids()
	if len(second) != 2 {
		t.Fatalf("proxy pids = %v, want a second run for the Redialer", second)
	}
	_ = syscall.Kill(second[1], syscall.SIGKILL) // the link dies with its proxy
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		conn, err := r.DialContext(ctx, "tcp", echo)
		cancel()
		if err == nil {
			echoRoundTrip(t, conn, "after redial")
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no redial through a new proxy command: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := readPids(); len(got) < 3 {
		t.Errorf("proxy pids = %v, want the command run again on redial", got)
	}
}

// OpenSSH lowercases the host before it looks in known_hosts: "LocalHost"
// finds the line for "localhost", so a different key there is a changed
// key (not an unknown host that accept-new would add), hashed or plain.
// ssh's own verdict is checked in the same test.
func TestHostNameCaseKnownHosts(t *testing.T) {
	t.Parallel()
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	other, err := ssh.NewSignerFromKey(newEd25519(t))
	if err != nil {
		t.Fatal(err)
	}
	hostport := net.JoinHostPort("localhost", strconv.Itoa(s.Port()))
	for _, hashed := range []bool{false, true} {
		name := "plain"
		if hashed {
			name = "hashed"
		}
		t.Run(name, func(t *testing.T) {
			kh := filepath.Join(t.TempDir(), "known_hosts")
			host := knownhosts.Normalize(hostport)
			if hashed {
				host = knownhosts.HashHostname(host)
			}
			if err := os.WriteFile(kh, []byte(knownhosts.Line([]string{host}, other.PublicKey())+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(kh)
			res, err := resolveWith(t, "", s.User+"@LocalHost:"+strconv.Itoa(s.Port()), tunnel.ResolveOptions{
				IdentityFiles: []string{s.ClientKeyPath}, KnownHostsFiles: []string{kh}, StrictHostKeyChecking: "accept-new",
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = dialResolved(t, res)
			var changed *tunnel.HostKeyChangedError
			if !errors.As(err, &changed) {
				t.Errorf("Dial LocalHost error = %v, want *HostKeyChangedError", err)
			}
			if after, _ := os.ReadFile(kh); !bytes.Equal(before, after) {
				t.Errorf("known_hosts was changed:\n%s", after)
			}
			if sshPath, err := exec.LookPath("ssh"); err == nil {
				out, _ := exec.Command(sshPath, "-F", "none", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new",
					"-o", "UserKnownHostsFile="+kh, "-o", "GlobalKnownHostsFile=/dev/null", "-i", s.ClientKeyPath,
					"-p", strconv.Itoa(s.Port()), s.User+"@LocalHost", "true").CombinedOutput()
				if !strings.Contains(string(out), "REMOTE HOST IDENTIFICATION HAS CHANGED") {
					t.Errorf("ssh's verdict differs from ours; it said:\n%s", out)
				}
			}
		})
	}
	t.Run("known key under another case", func(t *testing.T) {
		kh := knownHostsFor(t, s, "localhost")
		res, err := resolveWith(t, "", s.User+"@LOCALHOST:"+strconv.Itoa(s.Port()), tunnel.ResolveOptions{
			IdentityFiles: []string{s.ClientKeyPath}, KnownHostsFiles: []string{kh}, StrictHostKeyChecking: "yes",
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dialResolved(t, res); err != nil {
			t.Errorf("Dial LOCALHOST with localhost known: %v, want success", err)
		}
	})
}

// On authentication failure the error names the user and every key
// offered, with its fingerprint.
func TestAuthErrorListsKeysOffered(t *testing.T) {
	t.Parallel()
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	dir := t.TempDir()
	wrong := filepath.Join(dir, "wrong")
	pub := writeTestKey(t, wrong)
	kh := knownHostsFor(t, s, "127.0.0.1")
	res, err := resolveWith(t, "", s.User+"@127.0.0.1:"+strconv.Itoa(s.Port()), tunnel.ResolveOptions{
		IdentityFiles: []string{wrong}, KnownHostsFiles: []string{kh},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = dialResolved(t, res)
	var ae *tunnel.AuthError
	if !errors.As(err, &ae) || !errors.Is(err, tunnel.ErrAuthFailed) {
		t.Fatalf("Dial error = %v, want *AuthError matching ErrAuthFailed", err)
	}
	msg := err.Error()
	for _, want := range []string{`user "` + s.User + `"`, wrong, ssh.FingerprintSHA256(pub)} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

// ssh -i key.pub works when the agent holds the private key; the private
// key file need not exist.
func TestIdentityPubWithKeyInAgent(t *testing.T) {
	t.Parallel()
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	keyBytes, err := os.ReadFile(s.ClientKeyPath)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := ssh.ParseRawPrivateKey(keyBytes)
	if err != nil {
		t.Skipf("client key is encrypted or unreadable: %v", err)
	}
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: raw, Comment: "in-agent"}); err != nil {
		t.Fatal(err)
	}
	sock := serveAgent(t, keyring)
	dir := t.TempDir()
	pubOnly := filepath.Join(dir, "only.pub")
	pubBytes, err := os.ReadFile(s.ClientKeyPath + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pubOnly, pubBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	kh := knownHostsFor(t, s, "127.0.0.1")
	res, err := resolveWith(t, "", s.User+"@127.0.0.1:"+strconv.Itoa(s.Port()), tunnel.ResolveOptions{
		IdentityFiles: []string{pubOnly}, KnownHostsFiles: []string{kh}, Getenv: func(k string) string {
			if k == "SSH_AUTH_SOCK" {
				return sock
			}
			return ""
		},
	})
	if err != nil {
		t.Fatalf("Resolve -i %s: %v", pubOnly, err)
	}
	if len(res.Keys) == 0 || !strings.Contains(res.Keys[0], "agent:in-agent") {
		t.Errorf("keys = %q, want the agent's key first", res.Keys)
	}
	if _, err := dialResolved(t, res); err != nil {
		t.Errorf("Dial with -i key.pub and the key in the agent: %v", err)
	}
}

// startAgent serves a keyring holding n fresh keys on a unix socket.
func startAgent(t *testing.T, n int) (string, []ssh.PublicKey) {
	t.Helper()
	keyring := agent.NewKeyring()
	var pubs []ssh.PublicKey
	for i := range n {
		priv := newEd25519(t)
		if err := keyring.Add(agent.AddedKey{PrivateKey: priv, Comment: "agent-key-" + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
		pub, _ := ssh.NewPublicKey(priv.Public())
		pubs = append(pubs, pub)
	}
	sock := serveAgent(t, keyring)
	return sock, pubs
}

// IdentitiesOnly keeps the agent's other keys out; IdentityAgent picks the
// socket, none, SSH_AUTH_SOCK or $VAR.
func TestResolveAgentSelection(t *testing.T) {
	t.Parallel()
	sock, _ := startAgent(t, 2)
	other, _ := startAgent(t, 1)
	file := filepath.Join(t.TempDir(), "id")
	writeTestKey(t, file)
	getenv := func(k string) string {
		switch k {
		case "SSH_AUTH_SOCK":
			return sock
		case "OTHER_SOCK":
			return other
		}
		return ""
	}
	tests := []struct {
		name, config string
		want         []string // key description prefixes, in order
	}{
		{"agent keys follow the files", "IdentityFile " + file + "\n", []string{file, "agent:agent-key-0", "agent:agent-key-1"}},
		{"identities only", "IdentityFile " + file + "\nIdentitiesOnly yes\n", []string{file}},
		{"identity agent none", "IdentityFile " + file + "\nIdentityAgent none\n", []string{file}},
		{"identity agent path", "IdentityFile " + file + "\nIdentityAgent " + other + "\n", []string{file, "agent:agent-key-0"}},
		{"identity agent variable", "IdentityFile " + file + "\nIdentityAgent $OTHER_SOCK\n", []string{file, "agent:agent-key-0"}},
		{"identity agent SSH_AUTH_SOCK", "IdentityFile " + file + "\nIdentityAgent SSH_AUTH_SOCK\n", []string{file, "agent:agent-key-0", "agent:agent-key-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := resolveWith(t, tt.config, "127.0.0.1", tunnel.ResolveOptions{Getenv: getenv})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Keys) != len(tt.want) {
				t.Fatalf("keys = %q, want %d starting %q", res.Keys, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(res.Keys[i], w) {
					t.Errorf("key %d = %q, want it to start with %q", i, res.Keys[i], w)
				}
			}
		})
	}
}
