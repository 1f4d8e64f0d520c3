package tunnel

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"

	skeema "github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// defaultHostKeyAlgorithms is the order asked of a host with no known_hosts
// entry (OpenSSH's order without certificates: an unknown CA could not
// vouch for a certificate anyway).
func defaultHostKeyAlgorithms() []string {
	return []string{
		ssh.KeyAlgoED25519,
		ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
		ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256,
	}
}

// hostKeyPolicy returns the host key callback and algorithms for one
// handshake with cfg.Addr. Without cfg.KnownHosts the known_hosts files
// are read afresh each time, so that a line appended by AcceptNew is used
// by the next dial.
func hostKeyPolicy(cfg Config) (ssh.HostKeyCallback, []string, error) {
	if cfg.HostKeyCallback != nil {
		return cfg.HostKeyCallback, cfg.HostKeyAlgorithms, nil
	}
	kh := cfg.KnownHosts
	if kh == nil {
		if len(cfg.KnownHostsFiles) == 0 {
			return nil, nil, ErrNoHostKeyCheck
		}
		var err error
		if kh, err = ReadKnownHosts(cfg.KnownHostsFiles...); err != nil {
			return nil, nil, err
		}
	}
	name := knownHostsName(cfg)
	algos := cfg.HostKeyAlgorithms
	if algos == nil && kh.index != nil {
		algos = supportedOnly(kh.index.algorithms(name))
	} else if algos == nil && kh.db != nil {
		algos = supportedOnly(kh.db.HostKeyAlgorithms(name))
	}
	if len(algos) == 0 {
		algos = defaultHostKeyAlgorithms()
	}
	v := &verifier{name: name, files: kh.files, acceptNew: cfg.AcceptNew, added: cfg.HostKeyAdded}
	if kh.db != nil {
		v.check = kh.db.HostKeyCallback()
	}
	return v.callback, algos, nil
}

// knownHostsName is the host:port looked up in known_hosts: HostKeyAlias
// or the host of Addr, lowercased, as OpenSSH canonicalises it (so
// "LocalHost" is "localhost" and a changed key is still detected).
func knownHostsName(cfg Config) string {
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return strings.ToLower(cfg.Addr)
	}
	if cfg.HostKeyAlias != "" {
		host = cfg.HostKeyAlias
	}
	return net.JoinHostPort(strings.ToLower(host), port)
}

// KnownHosts is a set of known_hosts files read once, to verify many
// hosts without reading the files at every dial: a fleet of 1,000 hosts
// would otherwise parse a 1,000-line file 1,000 times. Put it in
// Config.KnownHosts. It is safe for concurrent use. A key that AcceptNew
// records is appended to the first file but not added to the set, so a
// host dialled again with the same set is still unknown: dial each host
// once per set, or read the files again.
type KnownHosts struct {
	files []string
	db    *skeema.HostKeyDB // nil: none of the files exists
	index hostKeyIndex      // nil: not every line is plain (knownhosts_index.go)
}

// ReadKnownHosts reads known_hosts files (OpenSSH treats a missing one as
// empty). It returns an error for a file it cannot stat or parse.
func ReadKnownHosts(files ...string) (*KnownHosts, error) {
	if len(files) == 0 {
		return nil, ErrNoHostKeyCheck
	}
	var existing []string
	for _, f := range files {
		switch _, err := os.Stat(f); {
		case err == nil:
			existing = append(existing, f)
		case errors.Is(err, fs.ErrNotExist):
			// OpenSSH treats a missing known_hosts as empty.
		default:
			return nil, fmt.Errorf("tunnel: known_hosts %s: %w", f, err)
		}
	}
	kh := &KnownHosts{files: slices.Clone(files)}
	if len(existing) > 0 {
		db, err := skeema.NewDB(existing...)
		if err != nil {
			return nil, fmt.Errorf("tunnel: known_hosts: %w", err)
		}
		kh.db = db
		kh.index = readHostKeyIndex(existing)
	}
	return kh, nil
}

// Files returns the files the set was read from.
func (kh *KnownHosts) Files() []string { return slices.Clone(kh.files) }

// supportedOnly drops algorithms x/crypto does not implement or deems
// insecure (ssh-rsa with SHA-1, ssh-dss), which known_hosts entries can
// name; asking for them would fail the handshake or weaken it.
func supportedOnly(algos []string) []string {
	ok := ssh.SupportedAlgorithms().HostKeys
	var out []string
	for _, a := range algos {
		if slices.Contains(ok, a) {
			out = append(out, a)
		}
	}
	return out
}

// verifier turns knownhosts results into this package's typed errors and
// implements accept-new.
type verifier struct {
	name      string // host:port as looked up (see knownHostsName)
	added     func(host, file string, key ssh.PublicKey)
	files     []string
	acceptNew bool
	check     ssh.HostKeyCallback // nil: no entries at all
}

func (v *verifier) callback(_ string, remote net.Addr, key ssh.PublicKey) error {
	host := v.name
	if v.check == nil {
		return v.unknown(host, key)
	}
	// knownhosts insists on parsing remote as host:port even when it
	// prefers host; a socket pair or an SSH channel has no such address.
	err := v.check(host, hostAddr(host), key)
	if err == nil {
		return nil
	}
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case errors.As(err, &re):
		return &RevokedHostKeyError{Host: host, Key: key}
	case errors.As(err, &ke) && len(ke.Want) == 0:
		return v.unknown(host, key)
	case errors.As(err, &ke):
		w := ke.Want[0]
		return &HostKeyChangedError{Host: host, Key: key, File: w.Filename, Line: w.Line}
	}
	if cert, ok := key.(*ssh.Certificate); ok {
		if v.revokedCA(host, cert) {
			return &RevokedHostKeyError{Host: host, Key: key}
		}
		return fmt.Errorf("tunnel: host certificate for %s (%s, signed by %s) rejected: %w",
			host, fingerprint(key), fingerprint(cert.SignatureKey), err)
	}
	return fmt.Errorf("tunnel: host key for %s: %w", host, err)
}

// revokedCA reports whether a certificate failed because its CA or its key
// is @revoked (the CertChecker does not say why it refused).
func (v *verifier) revokedCA(host string, cert *ssh.Certificate) bool {
	for _, k := range []ssh.PublicKey{cert.SignatureKey, cert.Key} {
		var re *knownhosts.RevokedError
		if errors.As(v.check(host, hostAddr(host), k), &re) {
			return true
		}
	}
	return false
}

func (v *verifier) unknown(host string, key ssh.PublicKey) error {
	if !v.acceptNew {
		return &UnknownHostError{Host: host, Key: key, Files: v.files}
	}
	if err := appendKnownHost(v.files[0], host, key); err != nil {
		return fmt.Errorf("tunnel: accept new host key for %s: %w", host, err)
	}
	if v.added != nil {
		v.added(knownhosts.Normalize(host), v.files[0], key)
	}
	return nil
}

// appendKnownHost adds a hashed entry for host (as [host]:port unless the
// port is 22), as OpenSSH does with HashKnownHosts and accept-new. Only the
// name is written: CheckHostIP is off by default since OpenSSH 8.5.
func appendKnownHost(file, host string, key ssh.PublicKey) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	line := knownhosts.Line([]string{knownhosts.HashHostname(knownhosts.Normalize(host))}, key) + "\n"
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err == nil && !bytes.Equal(last, []byte("\n")) {
			line = "\n" + line
		}
	}
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// hostAddr is a net.Addr whose String is the dialled host:port.
type hostAddr string

func (a hostAddr) Network() string { return "tcp" }
func (a hostAddr) String() string  { return string(a) }
