package tunnel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Defaults applied to a zero Config field.
const (
	DefaultKeepaliveInterval = 15 * time.Second
	DefaultKeepaliveMax      = 3
)

// Config describes one SSH connection. The zero value of each field means
// its default; Config is passed by value and never modified.
type Config struct {
	// Addr is the server as host:port (IPv6 as [::1]:22). A bare host or
	// IP address gets port 22.
	Addr string
	// User is the login name.
	User string
	// Auth lists the authentication methods, tried in order. See LoadKey
	// and AgentSigners.
	Auth []ssh.AuthMethod
	// KnownHostsFiles are OpenSSH known_hosts files, used when
	// HostKeyCallback is nil. Missing files count as empty. With neither,
	// Dial fails with ErrNoHostKeyCheck.
	KnownHostsFiles []string
	// KnownHosts, when set, is known_hosts files read once by
	// ReadKnownHosts and shared by many Configs (a fleet); it is used
	// instead of reading KnownHostsFiles at each dial.
	KnownHosts *KnownHosts
	// HostKeyCallback, when set, replaces the KnownHostsFiles check.
	HostKeyCallback ssh.HostKeyCallback
	// HostKeyAlgorithms restricts and orders the host key algorithms. Nil
	// takes them from the known_hosts entries for this host (as OpenSSH
	// does), so a host known only by its ed25519 key is asked for that key.
	HostKeyAlgorithms []string
	// AcceptNew appends a hashed line to KnownHostsFiles[0] for a host that
	// has no entry yet (StrictHostKeyChecking=accept-new). A changed key is
	// still refused.
	AcceptNew bool
	// HostKeyAlias, when set, is the name looked up and recorded in
	// known_hosts instead of the host of Addr (ssh's HostKeyAlias). Names
	// are compared lowercased, as ssh does.
	HostKeyAlias string
	// HostKeyAdded is called after AcceptNew recorded a new host: the name
	// as written to file, and the key. Nil: nothing.
	HostKeyAdded func(host, file string, key ssh.PublicKey)
	// ProxyCommand, when set and Jump is empty, is run with /bin/sh -c and
	// SSH is spoken over its standard input and output instead of a TCP
	// connection (ssh's ProxyCommand; tokens already expanded). Each Dial
	// runs it anew; closing the Client ends it. Variables named RPCSSH_*
	// are removed from its environment.
	ProxyCommand string
	// ProxyStderr receives the ProxyCommand's standard error; nil discards.
	ProxyStderr io.Writer
	// Jump lists ProxyJump hops, the first one outermost. Each hop is
	// verified with its own Config.
	Jump []Config
	// NetDial opens the TCP connection; nil uses a net.Dialer.
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)
	// KeepaliveInterval is the time between keepalive@openssh.com requests
	// and the time each may take; 0 means 15 s, negative disables.
	KeepaliveInterval time.Duration
	// KeepaliveMax is the number of unanswered keepalives after which the
	// connection is closed; 0 means 3.
	KeepaliveMax int
	// Logger receives what Forward cannot return: one Warn line per
	// forwarded connection the server refused to open, and accept retries.
	// Nil discards.
	Logger *slog.Logger

	// noQuickAck turns off the TCP_QUICKACK wrapper (benchmarks only).
	noQuickAck bool
}

// withDefaults returns cfg with defaults filled in, or an error when cfg
// cannot be used.
func (cfg Config) withDefaults() (Config, error) {
	addr, err := normalizeAddr(cfg.Addr)
	if err != nil {
		return cfg, err
	}
	cfg.Addr = addr
	if cfg.HostKeyCallback == nil && cfg.KnownHosts == nil && len(cfg.KnownHostsFiles) == 0 {
		return cfg, ErrNoHostKeyCheck
	}
	if cfg.KeepaliveInterval == 0 {
		cfg.KeepaliveInterval = DefaultKeepaliveInterval
	}
	if cfg.KeepaliveMax <= 0 {
		cfg.KeepaliveMax = DefaultKeepaliveMax
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg, nil
}

// normalizeAddr makes addr a host:port, adding port 22 to a bare host.
func normalizeAddr(addr string) (string, error) {
	if addr == "" {
		return "", errors.New("tunnel: no address")
	}
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr, nil
	}
	host := addr
	if len(host) > 2 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	if net.ParseIP(host) == nil && (strings.ContainsAny(host, ":[]") || host == "") {
		return "", fmt.Errorf("tunnel: bad address %q: want host:port", addr)
	}
	return net.JoinHostPort(host, "22"), nil
}
