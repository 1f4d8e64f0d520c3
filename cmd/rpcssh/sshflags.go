package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/rpcssh/rpcssh/tunnel"
)

// sshFlags are the SSH side of call, tunnel and bench: how to reach and
// trust the instance, named as OpenSSH users expect.
type sshFlags struct {
	Host                  []string      `short:"H" sep:"none" placeholder:"DEST" help:"SSH destination: host, user@host, host:port, [v6addr]:port or a ~/.ssh/config alias."`
	User                  string        `help:"SSH user (default: from DEST, ~/.ssh/config, else the local user)."`
	SSHPort               int           `name:"ssh-port" placeholder:"PORT" help:"SSH port (default: from DEST, ~/.ssh/config, else 22)."`
	Key                   []string      `type:"path" placeholder:"FILE" help:"Private key file; repeatable (default: ~/.ssh/config IdentityFile, the agent, ~/.ssh/id_*)."`
	KnownHosts            []string      `type:"path" placeholder:"FILE" help:"known_hosts file; repeatable (default: ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts)."`
	StrictHostKeyChecking string        `enum:"yes,accept-new" default:"yes" help:"yes: only known hosts; accept-new: trust and record a host seen for the first time (a changed key is always refused)."`
	Jump                  []string      `placeholder:"DEST" help:"Jump host(s) to go through, as ssh -J; repeatable or a comma list."`
	ConnectTimeout        time.Duration `default:"15s" help:"Bound on TCP connect plus SSH handshake, per hop."`
	Keepalive             time.Duration `default:"15s" help:"Interval of SSH keepalives; after 3 unanswered the link is declared dead."`
	SSHConfig             string        `name:"ssh-config" type:"path" placeholder:"FILE" help:"OpenSSH client config to read for HostName, User, Port, IdentityFile, ProxyJump and UserKnownHostsFile (default: ~/.ssh/config)."`
}

// destination is a parsed [user@]host[:port].
type destination struct{ user, host, port string }

// parseDestination reads the forms ssh accepts: host, user@host,
// host:port, [v6]:port, a bare IPv6 address and ssh://user@host:port.
func parseDestination(s string) (destination, error) {
	var d destination
	if s == "" {
		return d, errors.New("empty SSH destination")
	}
	if strings.HasPrefix(s, "ssh://") {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return d, fmt.Errorf("SSH destination %q: not a valid ssh:// URL", s)
		}
		if u.User != nil {
			d.user = u.User.Username()
		}
		d.host, d.port = u.Hostname(), u.Port()
		return d, nil
	}
	if i := strings.LastIndex(s, "@"); i >= 0 {
		d.user, s = s[:i], s[i+1:]
		if d.user == "" {
			return d, fmt.Errorf("SSH destination %q: empty user before @", s)
		}
	}
	switch {
	case strings.HasPrefix(s, "["):
		if h, p, err := net.SplitHostPort(s); err == nil {
			d.host, d.port = h, p
		} else if strings.HasSuffix(s, "]") {
			d.host = s[1 : len(s)-1]
		} else {
			return d, fmt.Errorf("SSH destination %q: unbalanced [", s)
		}
	case strings.Count(s, ":") == 1:
		h, p, err := net.SplitHostPort(s)
		if err != nil {
			return d, fmt.Errorf("SSH destination %q: %v", s, err)
		}
		d.host, d.port = h, p
	default:
		d.host = s // a name, or a bare IPv6 address
	}
	if d.host == "" {
		return d, fmt.Errorf("SSH destination %q: empty host", s)
	}
	if d.port != "" {
		if n, err := strconv.Atoi(d.port); err != nil || n < 1 || n > 65535 {
			return d, fmt.Errorf("SSH destination %q: port %q is not 1-65535", s, d.port)
		}
	}
	return d, nil
}

// sshSetup is everything resolved from the flags, ssh_config and the
// defaults, ready to dial.
type sshSetup struct {
	cfg    tunnel.Config
	closer io.Closer // the agent connection, if any
}

func (s *sshSetup) Close() error {
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}

// home is the user's home directory ($HOME), where ssh's defaults live.
func home() string {
	h, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return h
}

func localUser(e *env) string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		name := u.Username
		if i := strings.LastIndex(name, `\`); i >= 0 { // DOMAIN\user on Windows
			name = name[i+1:]
		}
		return name
	}
	if u := e.getenv("USER"); u != "" {
		return u
	}
	return e.getenv("USERNAME")
}

// singleHost returns the one --host given; commands that reach one host
// refuse a list.
func (f sshFlags) singleHost() (string, error) {
	hosts := splitList(f.Host)
	switch len(hosts) {
	case 0:
		return "", usageErrorf("missing --host: the SSH destination to reach the server through (or --url to call it directly)")
	case 1:
		return hosts[0], nil
	}
	return "", usageErrorf("--host: this command reaches one host, got %d", len(hosts))
}

// resolve builds the tunnel.Config for the single --host.
func (f sshFlags) resolve(e *env) (*sshSetup, error) {
	host, err := f.singleHost()
	if err != nil {
		return nil, err
	}
	return f.resolveHost(e, host)
}

// resolveHost builds the tunnel.Config for one destination.
func (f sshFlags) resolveHost(e *env, dest string) (*sshSetup, error) {
	r, err := newResolver(e, f)
	if err != nil {
		return nil, err
	}
	cfg, err := r.resolve(dest)
	if err != nil {
		r.Close()
		return nil, err
	}
	return &sshSetup{cfg: cfg, closer: r}, nil
}

// resolver turns destinations into tunnel.Configs from the flags,
// ~/.ssh/config and ssh's defaults. It reads ssh_config once and loads
// each distinct set of keys once, so a fleet makes one agent connection
// and asks for a passphrase at most once per key.
type resolver struct {
	e       *env
	f       sshFlags
	sc      *tunnel.SSHConfig
	auth    map[string][]ssh.AuthMethod // by key-file list
	closers []io.Closer
}

// newResolver checks the flags that apply to every host and reads
// ssh_config. Close it when the configs are no longer in use.
func newResolver(e *env, f sshFlags) (*resolver, error) {
	if f.SSHPort < 0 || f.SSHPort > 65535 {
		return nil, usageErrorf("--ssh-port %d: not 0-65535", f.SSHPort)
	}
	if f.ConnectTimeout <= 0 {
		return nil, usageErrorf("--connect-timeout must be positive")
	}
	if f.Keepalive <= 0 {
		return nil, usageErrorf("--keepalive must be positive")
	}
	lenv := tunnel.LookupEnv{Home: home(), LocalUser: localUser(e)}
	configPath := f.SSHConfig
	if configPath == "" && lenv.Home != "" {
		configPath = filepath.Join(lenv.Home, ".ssh", "config")
	}
	sc, err := tunnel.ReadSSHConfigEnv(configPath, lenv)
	if err != nil {
		e.warnf("ignoring %s: %v", configPath, err)
		sc = &tunnel.SSHConfig{Env: lenv}
	}
	return &resolver{e: e, f: f, sc: sc, auth: make(map[string][]ssh.AuthMethod)}, nil
}

// resolve builds the tunnel.Config for one destination and its jump hosts.
func (r *resolver) resolve(dest string) (tunnel.Config, error) {
	f := r.f
	target, hc, err := f.hop(r.e, r.sc, dest, true)
	if err != nil {
		return tunnel.Config{}, err
	}
	keyFiles := f.Key
	if len(keyFiles) == 0 {
		keyFiles = hc.IdentityFiles
	}
	authKey := strings.Join(keyFiles, "\x00")
	auth, ok := r.auth[authKey]
	if !ok {
		var closer io.Closer
		auth, closer, err = authMethods(r.e, keyFiles, len(keyFiles) > 0)
		if err != nil {
			return tunnel.Config{}, err
		}
		if closer != nil {
			r.closers = append(r.closers, closer)
		}
		r.auth[authKey] = auth
	}
	known, err := f.knownHostsFiles(hc)
	if err != nil {
		return tunnel.Config{}, err
	}
	target.Auth = auth
	target.KnownHostsFiles = known

	jumps := splitList(f.Jump)
	if len(jumps) == 0 && hc.ProxyJump != "" {
		jumps = splitList([]string{hc.ProxyJump})
	}
	for _, j := range jumps {
		hop, _, err := f.hop(r.e, r.sc, j, false)
		if err != nil {
			return tunnel.Config{}, fmt.Errorf("jump host: %w", err)
		}
		hop.Auth, hop.KnownHostsFiles = auth, known
		target.Jump = append(target.Jump, hop)
	}
	return target, nil
}

// Close closes the agent connections the resolved configs use.
func (r *resolver) Close() error {
	for _, c := range r.closers {
		closeQuietly(c)
	}
	r.closers = nil
	return nil
}

func closeQuietly(c io.Closer) {
	if c != nil {
		_ = c.Close()
	}
}

func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// hop resolves one destination through ssh_config. The flags --user and
// --ssh-port apply to the target only, as with ssh.
func (f sshFlags) hop(e *env, sc *tunnel.SSHConfig, dest string, isTarget bool) (tunnel.Config, tunnel.HostConfig, error) {
	d, err := parseDestination(dest)
	if err != nil {
		return tunnel.Config{}, tunnel.HostConfig{}, usageErrorf("%v", err)
	}
	hc := sc.Lookup(d.host)
	for _, w := range hc.Warnings {
		e.warnf("ssh config %s", w)
	}
	host := d.host
	if hc.HostName != "" {
		host = hc.HostName
	}
	u := firstNonEmpty(d.user, hc.User, localUser(e))
	port := firstNonEmpty(d.port, hc.Port, "22")
	if isTarget {
		if f.User != "" {
			u = f.User
		}
		if f.SSHPort != 0 {
			port = strconv.Itoa(f.SSHPort)
		}
	}
	cfg := tunnel.Config{
		Addr:              net.JoinHostPort(host, port),
		User:              u,
		AcceptNew:         f.StrictHostKeyChecking == "accept-new",
		KeepaliveInterval: f.Keepalive,
	}
	return cfg, hc, nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// knownHostsFiles picks the files as ssh does: the flag, else
// UserKnownHostsFile, else ~/.ssh/known_hosts; then the global file. A
// missing user file is created (empty, 0600) only under accept-new, which
// will write to it.
func (f sshFlags) knownHostsFiles(hc tunnel.HostConfig) ([]string, error) {
	user := f.KnownHosts
	if len(user) == 0 {
		user = hc.UserKnownHostsFiles
	}
	if len(user) == 0 {
		if h := home(); h != "" {
			user = []string{filepath.Join(h, ".ssh", "known_hosts")}
		}
	}
	files := append([]string(nil), user...)
	if len(f.KnownHosts) == 0 {
		files = append(files, "/etc/ssh/ssh_known_hosts")
	}
	if f.StrictHostKeyChecking == "accept-new" && len(files) > 0 {
		if err := ensureFile(files[0]); err != nil {
			return nil, err
		}
	}
	var existing []string
	for _, p := range files {
		if _, err := os.Stat(p); err == nil {
			existing = append(existing, p)
		}
	}
	if len(existing) == 0 {
		// Nothing is known: every host is unknown. The library reports
		// that with the fingerprint, which is the useful error.
		return files[:1], nil
	}
	return existing, nil
}

func ensureFile(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("known_hosts: %w", err)
	}
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("known_hosts: %w", err)
	}
	return fh.Close()
}

// authMethods loads the keys and the agent as ssh does. With explicit
// keys (--key or IdentityFile) the agent offers only those keys, so a full
// agent cannot exhaust the server's MaxAuthTries.
func authMethods(e *env, keyFiles []string, explicit bool) ([]ssh.AuthMethod, io.Closer, error) {
	var agentSigners []ssh.Signer
	var closer io.Closer
	if sock := e.getenv("SSH_AUTH_SOCK"); sock != "" {
		s, c, err := tunnel.AgentSigners(sock, nil)
		if err == nil {
			agentSigners, closer = s, c
		}
	}
	if !explicit {
		if h := home(); h != "" {
			for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
				keyFiles = append(keyFiles, filepath.Join(h, ".ssh", n))
			}
		}
	}
	var signers []ssh.Signer
	if !explicit {
		signers = append(signers, agentSigners...)
	}
	for _, path := range keyFiles {
		s, err := loadKey(e, path, agentSigners)
		if err != nil {
			if !explicit {
				continue // a default key that is absent or unusable: as ssh
			}
			closeQuietly(closer)
			return nil, nil, err
		}
		if s != nil && !hasKey(signers, s.PublicKey()) {
			signers = append(signers, s)
		}
	}
	if len(signers) == 0 {
		closeQuietly(closer)
		return nil, nil, withHint(errors.New("no SSH key to log in with"),
			"give --key FILE, add an IdentityFile to ~/.ssh/config, or load a key into ssh-agent (ssh-add)")
	}
	return []ssh.AuthMethod{ssh.PublicKeys(signers...)}, closer, nil
}

func hasKey(signers []ssh.Signer, pub ssh.PublicKey) bool {
	b := pub.Marshal()
	for _, s := range signers {
		if string(s.PublicKey().Marshal()) == string(b) {
			return true
		}
	}
	return false
}

// loadKey reads one key file; an encrypted key is taken from the agent if
// it holds it, else unlocked with RPCSSH_PASSPHRASE or a prompt.
func loadKey(e *env, path string, agentSigners []ssh.Signer) (ssh.Signer, error) {
	s, err := tunnel.LoadKey(path, nil)
	if err == nil {
		return s, nil
	}
	var missing *ssh.PassphraseMissingError
	if !errors.As(err, &missing) {
		if isNotExist(err) {
			return nil, fmt.Errorf("key %s: no such file", path)
		}
		return nil, err
	}
	pub := missing.PublicKey
	if pub == nil {
		if b, rerr := os.ReadFile(path + ".pub"); rerr == nil {
			pub, _, _, _, _ = ssh.ParseAuthorizedKey(b)
		}
	}
	if pub != nil {
		for _, a := range agentSigners {
			if string(a.PublicKey().Marshal()) == string(pub.Marshal()) {
				return a, nil
			}
		}
	}
	pass := []byte(e.getenv("RPCSSH_PASSPHRASE"))
	if len(pass) == 0 {
		pass, err = e.prompt(fmt.Sprintf("Enter passphrase for key '%s': ", path))
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", path, &ssh.PassphraseMissingError{PublicKey: pub})
		}
	}
	return tunnel.LoadKey(path, pass)
}
