// Package tunneltest runs SSH servers for tests, in the manner of
// net/http/httptest: an in-process server built on golang.org/x/crypto/ssh
// (Server) and a real OpenSSH sshd started from a temporary directory
// (SSHD). It is meant for tests only.
package tunneltest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Stall makes a Server misbehave during the handshake.
type Stall int

const (
	// StallNone: a normal handshake.
	StallNone Stall = iota
	// StallBeforeVersion accepts TCP and never says anything.
	StallBeforeVersion
	// StallAfterVersion sends the SSH version line, then goes silent
	// before key exchange.
	StallAfterVersion
)

// Config configures a Server. The zero value accepts no one.
type Config struct {
	// Addr is the listen address; "" means 127.0.0.1:0. Use "[::1]:0" for
	// IPv6.
	Addr string
	// User, when set, is the only user name accepted.
	User string
	// AuthorizedKeys are the user keys accepted.
	AuthorizedKeys []ssh.PublicKey
	// UserCA accepts user certificates signed by this key; the login name
	// must be one of the certificate's principals.
	UserCA ssh.PublicKey
	// Password, when not empty, enables password authentication.
	Password string
	// MaxAuthTries limits authentication attempts; 0 means x/crypto's 6.
	MaxAuthTries int
	// ExtraHostKeys adds host keys of these types beside the fresh ed25519
	// one: "ecdsa-sha2-nistp256", "ssh-rsa".
	ExtraHostKeys []string
	// HostCA, when set, signs a host certificate for the ed25519 host key
	// (principals 127.0.0.1, ::1 and localhost), offered beside the keys.
	HostCA ssh.Signer
	// HostKey, when set, replaces the fresh ed25519 host key.
	HostKey ssh.Signer
	// DenyForwarding refuses forwarding like AllowTcpForwarding no /
	// AllowStreamLocalForwarding no: direct-tcpip as "administratively
	// prohibited", direct-streamlocal as "connect failed" (as sshd does).
	DenyForwarding bool
	// Stall makes the handshake hang (to test timeouts).
	Stall Stall
	// Nagle leaves Nagle's algorithm on for accepted connections, as
	// OpenSSH's sshd does for forwarding-only sessions (Go turns it off).
	Nagle bool
}

// Server is an in-process SSH server on a loopback port. It serves
// direct-tcpip and direct-streamlocal@openssh.com by dialling locally,
// answers keepalive@openssh.com like OpenSSH (with a failure reply), and
// rejects sessions. Refusals are worded as OpenSSH 9's sshd words them:
// TCP "connect failed" with strerror ("Connection refused"), TCP policy
// "administratively prohibited", and for unix sockets always "connect
// failed" with "open failed".
type Server struct {
	cfg      Config
	ln       net.Listener
	hostKey  ssh.Signer
	hostKeys []ssh.Signer // all offered, cert included
	sshCfg   *ssh.ServerConfig
	errorf   func(format string, args ...any)

	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	frozen chan struct{} // closed = not frozen; replaced by Freeze
	quit   chan struct{}
}

// NewServer starts a Server and closes it in tb.Cleanup. Server goroutines
// report problems through tb.Errorf.
func NewServer(tb TB, cfg Config) *Server {
	tb.Helper()
	s, err := start(cfg, tb.Errorf)
	if err != nil {
		tb.Fatalf("tunneltest: start server: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Start starts a Server for callers without a testing.TB (testscript
// setup); call Close when done. Goroutine errors are dropped.
func Start(cfg Config) (*Server, error) {
	return start(cfg, func(string, ...any) {})
}

func start(cfg Config, errorf func(string, ...any)) (*Server, error) {
	s := &Server{
		cfg:    cfg,
		errorf: errorf,
		conns:  make(map[net.Conn]struct{}),
		frozen: make(chan struct{}),
		quit:   make(chan struct{}),
	}
	close(s.frozen)
	if err := s.makeHostKeys(); err != nil {
		return nil, err
	}
	s.sshCfg = &ssh.ServerConfig{
		MaxAuthTries:  cfg.MaxAuthTries,
		ServerVersion: "SSH-2.0-tunneltest",
	}
	if len(cfg.AuthorizedKeys) > 0 || cfg.UserCA != nil {
		checker := &ssh.CertChecker{
			IsUserAuthority: func(auth ssh.PublicKey) bool {
				return cfg.UserCA != nil && bytes.Equal(auth.Marshal(), cfg.UserCA.Marshal())
			},
			UserKeyFallback: s.checkKey,
		}
		s.sshCfg.PublicKeyCallback = func(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if !s.userOK(meta.User()) {
				return nil, fmt.Errorf("tunneltest: user %q not accepted", meta.User())
			}
			return checker.Authenticate(meta, key)
		}
	}
	if cfg.Password != "" {
		s.sshCfg.PasswordCallback = func(meta ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if s.userOK(meta.User()) && subtle.ConstantTimeCompare(pw, []byte(cfg.Password)) == 1 {
				return nil, nil
			}
			return nil, errors.New("tunneltest: wrong password")
		}
	}
	for _, k := range s.hostKeys {
		s.sshCfg.AddHostKey(k)
	}
	addr := cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("tunneltest: listen %s: %w", addr, err)
	}
	s.ln = ln
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

func (s *Server) makeHostKeys() error {
	s.hostKey = s.cfg.HostKey
	if s.hostKey == nil {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return err
		}
		if s.hostKey, err = ssh.NewSignerFromKey(priv); err != nil {
			return err
		}
	}
	s.hostKeys = []ssh.Signer{s.hostKey}
	for _, typ := range s.cfg.ExtraHostKeys {
		var key any
		var err error
		switch typ {
		case ssh.KeyAlgoECDSA256:
			key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		case ssh.KeyAlgoRSA:
			key, err = rsa.GenerateKey(rand.Reader, 2048)
		default:
			return fmt.Errorf("tunneltest: unsupported extra host key type %q", typ)
		}
		if err != nil {
			return err
		}
		signer, err := ssh.NewSignerFromKey(key)
		if err != nil {
			return err
		}
		s.hostKeys = append(s.hostKeys, signer)
	}
	if s.cfg.HostCA != nil {
		cert := &ssh.Certificate{
			Key:             s.hostKey.PublicKey(),
			CertType:        ssh.HostCert,
			KeyId:           "tunneltest host",
			ValidPrincipals: []string{"127.0.0.1", "::1", "localhost"},
			ValidBefore:     ssh.CertTimeInfinity,
		}
		if err := cert.SignCert(rand.Reader, s.cfg.HostCA); err != nil {
			return err
		}
		cs, err := ssh.NewCertSigner(cert, s.hostKey)
		if err != nil {
			return err
		}
		s.hostKeys = append(s.hostKeys, cs)
	}
	return nil
}

func (s *Server) userOK(user string) bool { return s.cfg.User == "" || user == s.cfg.User }

func (s *Server) checkKey(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	for _, k := range s.cfg.AuthorizedKeys {
		if bytes.Equal(k.Marshal(), key.Marshal()) {
			return nil, nil
		}
	}
	return nil, errors.New("tunneltest: key not authorized")
}

// Addr returns the listening address as host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// HostKey returns the ed25519 host public key.
func (s *Server) HostKey() ssh.PublicKey { return s.hostKey.PublicKey() }

// HostKeys returns every host key offered, the ed25519 one first (a host
// certificate, if any, last).
func (s *Server) HostKeys() []ssh.PublicKey {
	keys := make([]ssh.PublicKey, len(s.hostKeys))
	for i, k := range s.hostKeys {
		keys[i] = k.PublicKey()
	}
	return keys
}

// KnownHostsLine returns a known_hosts line (no newline) for the ed25519
// host key under Addr, in the [host]:port form.
func (s *Server) KnownHostsLine() string {
	return knownhosts.Line([]string{s.Addr()}, s.HostKey())
}

// Freeze makes the server stop reading from and writing to all its
// connections, like a SIGSTOPped or unplugged peer, until Close.
func (s *Server) Freeze() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.frozen:
		s.frozen = make(chan struct{})
	default:
	}
}

// ConnCount returns the number of SSH connections open.
func (s *Server) ConnCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Close stops the server, closes its connections and waits for all its
// goroutines.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return
	}
	s.closed = true
	close(s.quit)
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.ln.Close()
	s.wg.Wait()
}

// gate blocks while the server is frozen; false means the server closed.
func (s *Server) gate() bool {
	s.mu.Lock()
	f := s.frozen
	s.mu.Unlock()
	select {
	case <-f:
		return true
	case <-s.quit:
		return false
	}
}

func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	c.Close()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.errorf("tunneltest: accept: %v", err)
			}
			return
		}
		if tc, ok := c.(*net.TCPConn); ok && s.cfg.Nagle {
			_ = tc.SetNoDelay(false)
		}
		if !s.track(c) {
			c.Close()
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			s.serveConn(&gatedConn{Conn: c, s: s})
		}()
	}
}

func (s *Server) serveConn(c net.Conn) {
	switch s.cfg.Stall {
	case StallBeforeVersion:
		<-s.quit
		return
	case StallAfterVersion:
		_, _ = io.WriteString(c, s.sshCfg.ServerVersion+"\r\n")
		<-s.quit
		return
	}
	sc, chans, reqs, err := ssh.NewServerConn(c, s.sshCfg)
	if err != nil {
		return // failed auth, client went away: the client test reports
	}
	var wg sync.WaitGroup
	connDone := make(chan struct{})
	defer func() {
		close(connDone)
		sc.Close()
		wg.Wait()
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for r := range reqs {
			if r.WantReply {
				// OpenSSH answers unknown global requests, keepalive
				// included, with a failure.
				_ = r.Reply(false, nil)
			}
		}
	}()
	for nc := range chans {
		switch nc.ChannelType() {
		case "direct-tcpip":
			var m struct {
				Host       string
				Port       uint32
				OriginHost string
				OriginPort uint32
			}
			if err := ssh.Unmarshal(nc.ExtraData(), &m); err != nil {
				_ = nc.Reject(ssh.ConnectionFailed, "bad direct-tcpip request")
				continue
			}
			s.forwardTCP(&wg, connDone, nc, net.JoinHostPort(m.Host, strconv.FormatUint(uint64(m.Port), 10)))
		case "direct-streamlocal@openssh.com":
			var m struct {
				Path     string
				Reserved string
				Port     uint32
			}
			if err := ssh.Unmarshal(nc.ExtraData(), &m); err != nil {
				_ = nc.Reject(ssh.ConnectionFailed, "bad direct-streamlocal request")
				continue
			}
			s.forwardStreamLocal(&wg, connDone, nc, m.Path)
		default:
			_ = nc.Reject(ssh.UnknownChannelType, "tunneltest: only forwarding is served")
		}
	}
}

// forwardTCP dials addr locally and joins it to the channel; failures are
// worded as OpenSSH's sshd words them.
func (s *Server) forwardTCP(wg *sync.WaitGroup, connDone <-chan struct{}, nc ssh.NewChannel, addr string) {
	if s.cfg.DenyForwarding {
		_ = nc.Reject(ssh.Prohibited, "open failed")
		return
	}
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		_ = nc.Reject(ssh.ConnectionFailed, strerror(err))
		return
	}
	s.pipe(wg, connDone, nc, conn)
}

// pipe accepts nc and copies between it and conn, half-closing each
// direction as its source ends.
func (s *Server) pipe(wg *sync.WaitGroup, connDone <-chan struct{}, nc ssh.NewChannel, conn net.Conn) {
	ch, reqs, err := nc.Accept()
	if err != nil {
		conn.Close()
		return
	}
	go ssh.DiscardRequests(reqs)
	wg.Add(3)
	done := make(chan struct{})     // channel -> conn finished
	finished := make(chan struct{}) // both directions finished
	go func() {
		defer wg.Done()
		defer close(finished)
		_, _ = io.Copy(ch, conn)
		_ = ch.CloseWrite()
		<-done
		ch.Close()
		conn.Close()
	}()
	go func() {
		defer wg.Done()
		defer close(done)
		_, _ = io.Copy(conn, ch)
		if cw, ok := conn.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
	}()
	// Cut the forwarded connection when the SSH connection or the server
	// ends.
	go func() {
		defer wg.Done()
		select {
		case <-finished:
		case <-connDone:
			conn.Close()
			ch.Close()
		case <-s.quit:
			conn.Close()
			ch.Close()
		}
	}()
}

// forwardStreamLocal answers like OpenSSH's sshd: every failure, policy
// included, is "connect failed" with the message "open failed".
func (s *Server) forwardStreamLocal(wg *sync.WaitGroup, connDone <-chan struct{}, nc ssh.NewChannel, path string) {
	if s.cfg.DenyForwarding {
		_ = nc.Reject(ssh.ConnectionFailed, "open failed")
		return
	}
	conn, err := net.DialTimeout("unix", path, 10*time.Second)
	if err != nil {
		_ = nc.Reject(ssh.ConnectionFailed, "open failed")
		return
	}
	s.pipe(wg, connDone, nc, conn)
}

// strerror words a local dial error as OpenSSH's strerror() would:
// "Connection refused", "No such file or directory", "Permission denied".
func strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		msg := errno.Error()
		return strings.ToUpper(msg[:1]) + msg[1:]
	}
	return err.Error()
}

// gatedConn blocks reads and writes while the server is frozen.
type gatedConn struct {
	net.Conn
	s *Server
}

func (c *gatedConn) Read(b []byte) (int, error) {
	if !c.s.gate() {
		return 0, net.ErrClosed
	}
	n, err := c.Conn.Read(b)
	if n > 0 && !c.s.gate() {
		return 0, net.ErrClosed
	}
	return n, err
}

func (c *gatedConn) Write(b []byte) (int, error) {
	if !c.s.gate() {
		return 0, net.ErrClosed
	}
	return c.Conn.Write(b)
}
