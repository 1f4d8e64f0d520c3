package tunnel

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// ErrClosed is returned by DialContext and Forward after Close, and by Wait
// when the link ended because Close was called.
var ErrClosed = errors.New("tunnel: client closed")

// ErrNoHostKeyCheck is returned by Dial and NewClient when a Config has
// neither KnownHostsFiles nor a HostKeyCallback: the package never connects
// without verifying the server's host key.
var ErrNoHostKeyCheck = errors.New("tunnel: no host key verification configured (set KnownHostsFiles or HostKeyCallback)")

// ErrRemoteRefused matches (errors.Is) an *OpenError for a remote address
// that refused the connection: nothing listens on that port, as reported by
// the SSH server's `connect failed ("Connection refused")`.
var ErrRemoteRefused = errors.New("tunnel: remote connection refused")

// ErrRemoteConnectFailed matches (errors.Is) an *OpenError for any
// "connect failed" refusal: the server could not reach the address. It
// includes ErrRemoteRefused. For unix sockets OpenSSH's sshd says only
// "open failed", whether the socket is missing, the SSH user may not open
// it, or AllowStreamLocalForwarding is off: it cannot tell them apart.
var ErrRemoteConnectFailed = errors.New("tunnel: remote connect failed")

// ErrForwardProhibited matches (errors.Is) an *OpenError for a forwarding
// request the SSH server refused by policy ("administratively prohibited":
// AllowTcpForwarding, PermitOpen, AllowStreamLocalForwarding).
var ErrForwardProhibited = errors.New("tunnel: forwarding prohibited by the ssh server")

// ErrAuthFailed matches (errors.Is) a handshake error where the server
// accepted none of the credentials: x/crypto's "unable to authenticate" or
// a disconnect for too many authentication failures (MaxAuthTries).
var ErrAuthFailed = errors.New("tunnel: authentication failed")

// authError keeps x/crypto's wording and adds ErrAuthFailed to the chain.
type authError struct {
	addr string
	err  error
}

func (e *authError) Error() string {
	return fmt.Sprintf("tunnel: handshake with %s: %v", e.addr, e.err)
}
func (e *authError) Unwrap() []error { return []error{ErrAuthFailed, e.err} }

// isAuthFailure recognises x/crypto's untyped authentication failures.
func isAuthFailure(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "ssh: unable to authenticate") ||
		strings.Contains(msg, "too many authentication failures") ||
		strings.Contains(msg, "disconnect, reason 14:") // no more auth methods available
}

// UnknownHostError reports a host key for a host that has no entry in any
// of the known_hosts Files.
type UnknownHostError struct {
	Host  string        // host:port as dialled
	Key   ssh.PublicKey // the key the server presented
	Files []string      // the known_hosts files consulted
}

// Fingerprint returns the SHA256 fingerprint of the presented key
// ("SHA256:..."), as ssh-keygen -l prints it.
func (e *UnknownHostError) Fingerprint() string { return fingerprint(e.Key) }

func (e *UnknownHostError) Error() string {
	files := "no known_hosts file"
	if len(e.Files) > 0 {
		files = strings.Join(e.Files, ", ")
	}
	return fmt.Sprintf("tunnel: unknown host %s: %s key %s is not in %s",
		e.Host, keyType(e.Key), e.Fingerprint(), files)
}

// HostKeyChangedError reports that a known host presented a key that
// differs from the known_hosts entries for it. This is what a
// man-in-the-middle attack looks like; File and Line name the first
// conflicting entry.
type HostKeyChangedError struct {
	Host string        // host:port as dialled
	Key  ssh.PublicKey // the key the server presented
	File string        // known_hosts file of the first conflicting entry
	Line int           // its line number, from 1
}

// Fingerprint returns the SHA256 fingerprint of the presented key.
func (e *HostKeyChangedError) Fingerprint() string { return fingerprint(e.Key) }

func (e *HostKeyChangedError) Error() string {
	return fmt.Sprintf("tunnel: host key for %s has changed: server offered %s key %s, which does not match %s:%d (possible man-in-the-middle attack)",
		e.Host, keyType(e.Key), e.Fingerprint(), e.File, e.Line)
}

// RevokedHostKeyError reports a host key (or the CA that signed a host
// certificate) marked @revoked in a known_hosts file.
type RevokedHostKeyError struct {
	Host string
	Key  ssh.PublicKey
}

// Fingerprint returns the SHA256 fingerprint of the presented key.
func (e *RevokedHostKeyError) Fingerprint() string { return fingerprint(e.Key) }

func (e *RevokedHostKeyError) Error() string {
	return fmt.Sprintf("tunnel: host key for %s is revoked: %s key %s", e.Host, keyType(e.Key), e.Fingerprint())
}

// OpenError reports that the SSH server refused to open a forwarding
// channel. errors.Is matches ErrRemoteConnectFailed for any connect
// failure, ErrRemoteRefused for a refused TCP connection, and
// ErrForwardProhibited for a policy refusal of TCP forwarding. Message keeps
// the server's words. Unwrap gives the *ssh.OpenChannelError.
type OpenError struct {
	Network string // "tcp" or "unix"
	Addr    string // remote host:port or socket path
	Reason  ssh.RejectionReason
	Message string // the server's own words, e.g. "Connection refused"
	err     *ssh.OpenChannelError
}

func (e *OpenError) Error() string {
	msg := e.Reason.String()
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return fmt.Sprintf("tunnel: open %s %s: %s", e.Network, e.Addr, msg)
}

// Unwrap returns the underlying *ssh.OpenChannelError.
func (e *OpenError) Unwrap() error {
	if e.err == nil {
		return nil
	}
	return e.err
}

// Is reports whether the refusal matches one of the sentinels.
func (e *OpenError) Is(target error) bool {
	switch target {
	case ErrForwardProhibited:
		return e.Reason == ssh.Prohibited
	case ErrRemoteConnectFailed:
		return e.Reason == ssh.ConnectionFailed
	case ErrRemoteRefused:
		return e.Reason == ssh.ConnectionFailed && strings.Contains(strings.ToLower(e.Message), "refused")
	}
	return false
}

// openError translates a channel-open refusal into an *OpenError and leaves
// other errors alone.
func openError(network, addr string, err error) error {
	var oce *ssh.OpenChannelError
	if !errors.As(err, &oce) {
		return err
	}
	return &OpenError{Network: network, Addr: addr, Reason: oce.Reason, Message: oce.Message, err: oce}
}

func fingerprint(k ssh.PublicKey) string {
	if k == nil {
		return ""
	}
	return ssh.FingerprintSHA256(k)
}

func keyType(k ssh.PublicKey) string {
	if k == nil {
		return "no"
	}
	return k.Type()
}
