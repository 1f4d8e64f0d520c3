package control

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rpcssh/rpcssh/tunnel"
)

// Identity is everything that decides which host a connection reaches and
// how that host is trusted. Two configurations with equal identities may
// share one connection; any difference gives another socket name.
type Identity struct {
	User string `json:"user"`
	// Addr is the server as host:port.
	Addr string `json:"addr"`
	// Jump lists the hops as user@host:port, outermost first.
	Jump []string `json:"jump,omitempty"`
	// ProxyCommand is the command that carries the connection, if any.
	ProxyCommand string `json:"proxy_command,omitempty"`
	// KnownHostsFiles are the known_hosts files, as absolute paths.
	KnownHostsFiles []string `json:"known_hosts,omitempty"`
	// HostKeyAlgorithms restricts the host key algorithms, if set.
	HostKeyAlgorithms []string `json:"host_key_algorithms,omitempty"`
	// HostKeyAlias is the name looked up in known_hosts instead of the
	// host, if set.
	HostKeyAlias string `json:"host_key_alias,omitempty"`
	// Strict is the StrictHostKeyChecking mode: "yes" or "accept-new".
	Strict string `json:"strict"`
}

// ErrNoIdentity is returned by IdentityOf for a configuration whose trust
// is decided by code (a HostKeyCallback) rather than by files, which no
// name can capture: such a connection is never shared.
var ErrNoIdentity = errors.New("control: host keys checked by a callback: not shareable")

// IdentityOf returns the identity of a resolved tunnel.Config.
func IdentityOf(cfg tunnel.Config) (Identity, error) {
	if cfg.HostKeyCallback != nil {
		return Identity{}, ErrNoIdentity
	}
	id := Identity{
		User:              cfg.User,
		Addr:              cfg.Addr,
		KnownHostsFiles:   absPaths(cfg.KnownHostsFiles),
		HostKeyAlgorithms: cfg.HostKeyAlgorithms,
		ProxyCommand:      cfg.ProxyCommand,
		HostKeyAlias:      cfg.HostKeyAlias,
		Strict:            "yes",
	}
	if cfg.AcceptNew {
		id.Strict = "accept-new"
	}
	for _, hop := range cfg.Jump {
		if hop.HostKeyCallback != nil {
			return Identity{}, ErrNoIdentity
		}
		id.Jump = append(id.Jump, hop.User+"@"+hop.Addr)
		// A hop trusted through other files is another identity too.
		if !equalStrings(absPaths(hop.KnownHostsFiles), id.KnownHostsFiles) || hop.AcceptNew != cfg.AcceptNew {
			id.Jump[len(id.Jump)-1] += " known_hosts=" + strings.Join(absPaths(hop.KnownHostsFiles), ",") + fmt.Sprintf(" accept_new=%t", hop.AcceptNew)
		}
	}
	return id, nil
}

// Hash is a hex digest of the identity, stable across processes and
// versions of this package's encoding.
func (id Identity) Hash() string {
	b, err := json.Marshal(id)
	if err != nil { // a struct of strings always marshals
		b = []byte(fmt.Sprintf("%#v", id))
	}
	sum := sha256.Sum256(append([]byte("rpcssh-control-v1\x00"), b...))
	return hex.EncodeToString(sum[:])
}

// String is user@addr, with the jump chain, for status listings.
func (id Identity) String() string {
	s := id.User + "@" + id.Addr
	if len(id.Jump) > 0 {
		s += " via " + strings.Join(id.Jump, ",")
	}
	return s
}

// SocketPath is the control socket for id in dir: 32 hex digits of its
// hash, so the path stays well under the 104 bytes macOS allows.
func SocketPath(dir string, id Identity) string {
	return filepath.Join(dir, id.Hash()[:32]+".sock")
}

// maxSocketPath is the longest socket path every supported OS accepts
// (sun_path is 104 bytes on macOS, 108 on Linux, with the NUL).
const maxSocketPath = 103

// MakeDir creates dir with mode 0700 if it is missing and checks that it
// is a directory owned by this user that nobody else can enter or write.
func MakeDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("control: make %s: %w", dir, err)
	}
	return checkDir(dir)
}

func checkDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("control: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("control: %s: not a directory", dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("control: %s: mode %v, want no access for group and others", dir, fi.Mode().Perm())
	}
	if err := checkOwner(fi); err != nil {
		return fmt.Errorf("control: %s: %w", dir, err)
	}
	return nil
}

func absPaths(paths []string) []string {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		if a, err := filepath.Abs(p); err == nil {
			p = a
		}
		out = append(out, p)
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
