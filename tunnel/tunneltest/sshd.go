package tunneltest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// ErrNoSSHD is returned by LaunchSSHD when no OpenSSH sshd binary is
// installed; StartSSHD skips the test instead.
var ErrNoSSHD = errors.New("tunneltest: sshd not found")

// SSHDConfig configures a real OpenSSH sshd started by StartSSHD or
// LaunchSSHD. The zero value is a forwarding-only server on 127.0.0.1 with
// one ed25519 host key that accepts one fresh ed25519 client key.
type SSHDConfig struct {
	// HostKeyTypes lists the host keys to generate: "ed25519", "ecdsa",
	// "rsa". Default: ed25519 only.
	HostKeyTypes []string
	// IPv6 listens on [::1] instead of 127.0.0.1.
	IPv6 bool
	// ClientKeyPassphrase encrypts the generated client key.
	ClientKeyPassphrase string
	// AllowTCPForwarding, PermitOpen and AllowStreamLocalForwarding are
	// written as is; empty means "yes", "any" and "yes".
	AllowTCPForwarding         string
	PermitOpen                 string
	AllowStreamLocalForwarding string
	// MaxAuthTries: 0 keeps sshd's default (6).
	MaxAuthTries int
	// LogLevel: default VERBOSE.
	LogLevel string
	// Extra lines appended to sshd_config verbatim.
	Extra []string
}

// SSHD is a running OpenSSH sshd (sshd -D -e) serving from a temp dir. Its
// stderr goes to LogPath. It is for tests only.
type SSHD struct {
	Dir           string          // holds keys, config, log
	ConfigPath    string          // sshd_config
	LogPath       string          // sshd's stderr, appended across restarts
	User          string          // the login user: root when running as root, else the current user
	ClientKeyPath string          // private key (public key at ClientKeyPath+".pub"), authorized
	ClientKey     ssh.PublicKey   // the public half of ClientKeyPath
	HostKeys      []ssh.PublicKey // one per SSHDConfig.HostKeyTypes, same order

	sshdPath string
	host     string
	port     int
	hostKeys map[string]ssh.PublicKey // by type name as given

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// FindSSHD returns the absolute path of sshd: exec.LookPath, then
// /usr/sbin/sshd (sshd refuses to start unless run by absolute path).
func FindSSHD() (string, error) {
	if p, err := exec.LookPath("sshd"); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs, nil
		}
	}
	if _, err := os.Stat("/usr/sbin/sshd"); err == nil {
		return "/usr/sbin/sshd", nil
	}
	return "", ErrNoSSHD
}

// StartSSHD starts a real sshd for the test in tb.TempDir(). It skips the
// test under -short, when sshd is not installed, or (with IPv6) when there is
// no IPv6 loopback. sshd and every per-connection child are killed in
// tb.Cleanup; sshd's log is dumped through tb.Logf if the test failed.
func StartSSHD(tb TB, cfg SSHDConfig) *SSHD {
	tb.Helper()
	if testingShort() {
		tb.Skip("skipping real-sshd test in -short mode")
	}
	if _, err := FindSSHD(); err != nil {
		tb.Skipf("skipping: %v", err)
	}
	if cfg.IPv6 && !hasIPv6Loopback() {
		tb.Skip("skipping: no IPv6 loopback")
	}
	s, err := LaunchSSHD(tb.TempDir(), cfg)
	if err != nil {
		tb.Fatalf("start sshd: %v", err)
	}
	tb.Cleanup(func() {
		s.Close()
		if tb.Failed() {
			tb.Logf("sshd log (%s):\n%s", s.Addr(), s.Log())
		}
	})
	return s
}

// LaunchSSHD is StartSSHD without testing.TB, for testscript Setup and the
// like: dir must exist, the caller must call Close. It returns ErrNoSSHD
// when sshd is not installed.
func LaunchSSHD(dir string, cfg SSHDConfig) (*SSHD, error) {
	sshdPath, err := FindSSHD()
	if err != nil {
		return nil, err
	}
	if err := ensurePrivsepDir(); err != nil {
		return nil, err
	}
	s := &SSHD{
		Dir:        dir,
		ConfigPath: filepath.Join(dir, "sshd_config"),
		LogPath:    filepath.Join(dir, "sshd.log"),
		sshdPath:   sshdPath,
		host:       "127.0.0.1",
		hostKeys:   map[string]ssh.PublicKey{},
	}
	if cfg.IPv6 {
		s.host = "::1"
	}
	if s.User, err = loginUser(); err != nil {
		return nil, err
	}
	types := cfg.HostKeyTypes
	if len(types) == 0 {
		types = []string{"ed25519"}
	}
	var hostKeyPaths []string
	for _, typ := range types {
		p := filepath.Join(dir, "ssh_host_"+typ+"_key")
		pub, err := generateKey(p, typ, "")
		if err != nil {
			return nil, err
		}
		hostKeyPaths = append(hostKeyPaths, p)
		s.HostKeys = append(s.HostKeys, pub)
		s.hostKeys[typ] = pub
	}
	s.ClientKeyPath = filepath.Join(dir, "id_ed25519")
	if s.ClientKey, err = generateKey(s.ClientKeyPath, "ed25519", cfg.ClientKeyPassphrase); err != nil {
		return nil, err
	}
	if err := s.Authorize(s.ClientKey); err != nil {
		return nil, err
	}
	var lastErr error
	for range 5 {
		port, err := freePort(s.host)
		if err != nil {
			return nil, err
		}
		s.port = port
		if err := os.WriteFile(s.ConfigPath, []byte(s.config(cfg, hostKeyPaths)), 0o600); err != nil {
			return nil, err
		}
		if out, err := exec.Command(sshdPath, "-t", "-f", s.ConfigPath).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("tunneltest: sshd -t: %v: %s", err, bytes.TrimSpace(out))
		}
		lastErr = s.start()
		if lastErr == nil {
			return s, nil
		}
		if !errors.Is(lastErr, errBind) {
			break
		}
	}
	return nil, lastErr
}

func (s *SSHD) config(cfg SSHDConfig, hostKeyPaths []string) string {
	or := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Port %d\nListenAddress %s\n", s.port, s.host)
	for _, p := range hostKeyPaths {
		fmt.Fprintf(&b, "HostKey %s\n", p)
	}
	fmt.Fprintf(&b, "PidFile %s\n", filepath.Join(s.Dir, "sshd.pid"))
	fmt.Fprintf(&b, "AuthorizedKeysFile %s\n", filepath.Join(s.Dir, "authorized_keys"))
	b.WriteString("StrictModes no\nUsePAM no\nPermitRootLogin prohibit-password\n")
	b.WriteString("PasswordAuthentication no\nKbdInteractiveAuthentication no\n")
	b.WriteString("PermitTTY no\nX11Forwarding no\nAllowAgentForwarding no\nPermitTunnel no\n")
	fmt.Fprintf(&b, "AllowTcpForwarding %s\n", or(cfg.AllowTCPForwarding, "yes"))
	fmt.Fprintf(&b, "PermitOpen %s\n", or(cfg.PermitOpen, "any"))
	fmt.Fprintf(&b, "AllowStreamLocalForwarding %s\n", or(cfg.AllowStreamLocalForwarding, "yes"))
	if cfg.MaxAuthTries > 0 {
		fmt.Fprintf(&b, "MaxAuthTries %d\n", cfg.MaxAuthTries)
	}
	fmt.Fprintf(&b, "LogLevel %s\n", or(cfg.LogLevel, "VERBOSE"))
	for _, l := range cfg.Extra {
		b.WriteString(l + "\n")
	}
	return b.String()
}

var errBind = errors.New("tunneltest: sshd could not bind its port")

// start runs sshd -D -e and waits (bounded) until it logs that it listens.
func (s *SSHD) start() error {
	logf, err := os.OpenFile(s.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close() // the child keeps its own descriptor
	offset, _ := logf.Seek(0, 2)
	cmd := exec.Command(s.sshdPath, "-D", "-e", "-f", s.ConfigPath)
	cmd.Stdout = logf
	cmd.Stderr = logf // an *os.File: Wait does not wait for children holding it
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("tunneltest: start sshd: %w", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()

	want := fmt.Sprintf("Server listening on %s port %d", s.host, s.port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		log := s.logSince(offset)
		switch {
		case strings.Contains(log, want):
			return nil
		case strings.Contains(log, "Address already in use") || strings.Contains(log, "Cannot bind any address"):
			s.Stop()
			return fmt.Errorf("%w %d: %s", errBind, s.port, strings.TrimSpace(log))
		}
		select {
		case <-done:
			return fmt.Errorf("tunneltest: sshd exited at start: %s", strings.TrimSpace(s.logSince(offset)))
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("tunneltest: sshd did not listen within 10s: %s", strings.TrimSpace(s.logSince(offset)))
		}
	}
}

func (s *SSHD) logSince(offset int64) string {
	b, _ := os.ReadFile(s.LogPath)
	if int64(len(b)) < offset {
		return ""
	}
	return string(b[offset:])
}

// Log returns everything sshd wrote to stderr so far.
func (s *SSHD) Log() string { return s.logSince(0) }

// Addr returns host:port, e.g. "127.0.0.1:40211" or "[::1]:40211".
func (s *SSHD) Addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// Host returns the listen address without port: 127.0.0.1 or ::1.
func (s *SSHD) Host() string { return s.host }

// Port returns the listening port.
func (s *SSHD) Port() int { return s.port }

// HostKey returns the public host key of the given type ("ed25519", "ecdsa",
// "rsa"), or nil if the server has none.
func (s *SSHD) HostKey(keyType string) ssh.PublicKey { return s.hostKeys[keyType] }

// KnownHostsLine returns the known_hosts line OpenSSH writes for this
// server's host key of keyType, e.g. "[127.0.0.1]:40211 ssh-ed25519 AAAA…".
// It returns "" if the server has no such key.
func (s *SSHD) KnownHostsLine(keyType string) string {
	k := s.hostKeys[keyType]
	if k == nil {
		return ""
	}
	return knownhosts.Line([]string{knownhosts.Normalize(s.Addr())}, k)
}

// WriteKnownHosts writes a known_hosts file at path with the lines for
// keyTypes (all host keys when none are given). With hashed, the file is then
// hashed in place by OpenSSH's own `ssh-keygen -H`.
func (s *SSHD) WriteKnownHosts(path string, hashed bool, keyTypes ...string) error {
	if len(keyTypes) == 0 {
		for typ := range s.hostKeys {
			keyTypes = append(keyTypes, typ)
		}
	}
	var b strings.Builder
	for _, typ := range keyTypes {
		line := s.KnownHostsLine(typ)
		if line == "" {
			return fmt.Errorf("tunneltest: no %s host key", typ)
		}
		b.WriteString(line + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return err
	}
	if !hashed {
		return nil
	}
	if out, err := exec.Command("ssh-keygen", "-q", "-H", "-f", path).CombinedOutput(); err != nil {
		return fmt.Errorf("tunneltest: ssh-keygen -H: %v: %s", err, bytes.TrimSpace(out))
	}
	return os.Remove(path + ".old")
}

// Authorize appends key to the server's authorized_keys; sshd reads it at
// each login, so this works while it runs.
func (s *SSHD) Authorize(key ssh.PublicKey) error {
	return appendAuthorizedKey(filepath.Join(s.Dir, "authorized_keys"), 0o600, key)
}

// appendAuthorizedKey adds key to the authorized_keys file at path,
// creating it with perm.
func appendAuthorizedKey(path string, perm os.FileMode, key ssh.PublicKey) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(ssh.MarshalAuthorizedKey(key)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// GenerateKey creates a key pair with ssh-keygen at path (and path+".pub")
// in OpenSSH's format: keyType "ed25519", "ecdsa" or "rsa", encrypted when
// passphrase is not empty (with few bcrypt KDF rounds, to keep tests quick).
// The key is not authorized; see Authorize.
func GenerateKey(path, keyType, passphrase string) (ssh.PublicKey, error) {
	return generateKey(path, keyType, passphrase)
}

func generateKey(path, keyType, passphrase string) (ssh.PublicKey, error) {
	args := []string{"-q", "-t", keyType, "-N", passphrase, "-C", "rpcssh-test", "-f", path}
	if keyType == "rsa" {
		args = append(args, "-b", "2048") // quicker than the 3072 default
	}
	if passphrase != "" {
		args = append(args, "-a", "1") // one KDF round: tests decrypt it often, under -race at ~0.2 s a round
	}
	if out, err := exec.Command("ssh-keygen", args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("tunneltest: ssh-keygen -t %s: %v: %s", keyType, err, bytes.TrimSpace(out))
	}
	b, err := os.ReadFile(path + ".pub")
	if err != nil {
		return nil, err
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		return nil, fmt.Errorf("tunneltest: parse %s.pub: %w", path, err)
	}
	return pub, nil
}

// pids returns sshd's listener pid followed by all its descendants (the
// per-connection processes, which call setsid and so escape a process group).
// Descendants are found through /proc; elsewhere only the listener is known.
func (s *SSHD) pids() []int {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	default:
	}
	return append([]int{cmd.Process.Pid}, descendants(cmd.Process.Pid)...)
}

// Signal sends sig to sshd and to all its per-connection children, e.g.
// syscall.SIGSTOP to freeze established connections, SIGCONT to resume.
func (s *SSHD) Signal(sig os.Signal) error {
	pids := s.pids()
	if len(pids) == 0 {
		return errors.New("tunneltest: sshd is not running")
	}
	var first error
	for _, pid := range pids {
		p, err := os.FindProcess(pid)
		if err == nil {
			err = p.Signal(sig)
		}
		if err != nil && first == nil && pid == pids[0] {
			first = err
		}
	}
	return first
}

// Stop kills sshd and every per-connection child, so established SSH
// connections drop, and waits (bounded) for the listener to exit.
func (s *SSHD) Stop() {
	for range 3 { // children forked meanwhile are caught by the next round
		pids := s.pids()
		if len(pids) == 0 {
			break
		}
		for _, pid := range pids {
			if p, err := os.FindProcess(pid); err == nil {
				_ = p.Kill()
			}
		}
		s.mu.Lock()
		done := s.done
		s.mu.Unlock()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	}
}

// Close stops sshd; for LaunchSSHD callers.
func (s *SSHD) Close() { s.Stop() }

// Restart stops sshd (dropping its connections) and starts it again on the
// same port with the same keys, waiting until it listens.
func (s *SSHD) Restart() error {
	s.Stop()
	var err error
	for range 20 {
		if err = s.start(); !errors.Is(err, errBind) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return err
}

func descendants(root int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may contain spaces and parens.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 {
			continue
		}
		ppid, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		children[ppid] = append(children[ppid], pid)
	}
	var out []int
	queue := []int{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("tunneltest: find a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port, nil
}

func hasIPv6Loopback() bool {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}

func loginUser() (string, error) {
	if os.Geteuid() == 0 {
		return "root", nil // UsePAM no: root (password "*") may log in with a key
	}
	u, err := user.Current()
	if err != nil {
		return "", fmt.Errorf("tunneltest: current user: %w", err)
	}
	return u.Username, nil
}

// ensurePrivsepDir creates sshd's privilege separation directory when
// running as root and it is missing (containers often lack /run/sshd, which
// the init script would create); sshd refuses to start without it.
func ensurePrivsepDir() error {
	if os.Geteuid() != 0 {
		return nil
	}
	const dir = "/run/sshd"
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("tunneltest: create %s for sshd: %w", dir, err)
	}
	return nil
}
