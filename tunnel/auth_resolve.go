package tunnel

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// defaultIdentities are the files ssh tries when no IdentityFile is given,
// in OpenSSH 9.2's order.
var defaultIdentities = []string{"id_rsa", "id_ecdsa", "id_ecdsa_sk", "id_ed25519", "id_ed25519_sk", "id_xmss", "id_dsa"}

// UnprotectedKeyError is a private key file that group or others can read;
// ssh refuses to use it, and so does Resolve.
type UnprotectedKeyError struct {
	File string
	Mode fs.FileMode
}

func (e *UnprotectedKeyError) Error() string {
	return fmt.Sprintf("tunnel: UNPROTECTED PRIVATE KEY FILE! permissions %04o for %s are too open: it is required that your private key files are not accessible by others", e.Mode.Perm(), e.File)
}

// agentConn is one connection to ssh-agent and its keys.
type agentConn struct {
	socket  string
	signers []ssh.Signer
	comment map[string]string // by marshalled public key
}

// agentFor connects to the agent IdentityAgent names (default
// $SSH_AUTH_SOCK) once per Resolver; nil when there is none.
func (r *Resolver) agentFor(hc HostConfig) *agentConn {
	sock := r.opts.Getenv("SSH_AUTH_SOCK")
	switch ia := hc.IdentityAgent; {
	case strings.EqualFold(ia, "none"):
		return nil
	case ia == "" || ia == "SSH_AUTH_SOCK":
	case strings.HasPrefix(ia, "$"):
		sock = r.opts.Getenv(strings.Trim(ia[1:], "{}"))
	default:
		sock = ia
	}
	if sock == "" {
		r.verbose.printf("no ssh-agent (SSH_AUTH_SOCK unset)")
		return nil
	}
	if r.agent != nil && r.agent.socket == sock {
		return r.agent
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		r.verbose.printf("ssh-agent %s: %v", sock, err)
		return nil
	}
	client := agent.NewClient(conn)
	keys, err := client.List()
	if err != nil {
		conn.Close()
		r.verbose.printf("ssh-agent %s: list keys: %v", sock, err)
		return nil
	}
	signers, err := client.Signers()
	if err != nil {
		conn.Close()
		return nil
	}
	a := &agentConn{socket: sock, comment: map[string]string{}}
	for _, k := range keys {
		a.comment[string(k.Marshal())] = k.Comment
	}
	for _, s := range signers {
		if s, err = preferSHA2(s); err == nil {
			a.signers = append(a.signers, s)
		}
	}
	r.verbose.printf("ssh-agent %s holds %d keys", sock, len(a.signers))
	r.closers = append(r.closers, conn)
	r.agent = a
	return a
}

func (a *agentConn) find(pub ssh.PublicKey) ssh.Signer {
	if a == nil || pub == nil {
		return nil
	}
	for _, s := range a.signers {
		if keyListed(s.PublicKey(), []ssh.PublicKey{pub}) {
			return s
		}
	}
	return nil
}

func (a *agentConn) describe(s ssh.Signer) string {
	c := a.comment[string(s.PublicKey().Marshal())]
	if c == "" {
		c = "(no comment)"
	}
	return "agent:" + c + " " + ssh.FingerprintSHA256(s.PublicKey())
}

// auth builds the public key method as ssh does: the identity files in
// order (the host's own files, -i, then IdentityFile, else the defaults), each taken from
// the agent when it holds it, then the agent's other keys unless
// IdentitiesOnly. It returns the description of each key, in order.
func (r *Resolver) auth(hc HostConfig, hostFiles []string) ([]ssh.AuthMethod, []string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.agentFor(hc)
	type named struct {
		path     string
		explicit bool
	}
	var files []named
	for _, f := range hostFiles {
		files = append(files, named{f, true})
	}
	for _, f := range r.opts.IdentityFiles {
		files = append(files, named{f, true})
	}
	for _, f := range hc.IdentityFiles {
		files = append(files, named{f, false})
	}
	if len(files) == 0 && r.opts.Home != "" {
		for _, n := range defaultIdentities {
			files = append(files, named{filepath.Join(r.opts.Home, ".ssh", n), false})
		}
	}
	var signers []ssh.Signer
	var descs []string
	add := func(s ssh.Signer, desc string) {
		for _, have := range signers {
			if bytes.Equal(have.PublicKey().Marshal(), s.PublicKey().Marshal()) {
				return
			}
		}
		signers = append(signers, s)
		descs = append(descs, desc)
	}
	var locked error // the first key left out for want of its passphrase
	for _, f := range files {
		s, desc, err := r.loadIdentity(f.path, a, hc.BatchMode)
		var missing *ssh.PassphraseMissingError
		switch {
		case err != nil && f.explicit:
			return nil, nil, err
		case err != nil:
			r.verbose.printf("identity file %s: %v", f.path, err)
			if locked == nil && errors.As(err, &missing) {
				locked = err
			}
			continue
		case s == nil:
			continue
		}
		r.verbose.printf("will offer %s", desc)
		add(s, desc)
	}
	for _, c := range hc.CertificateFiles {
		cs, desc, err := certSigner(c, signers, a)
		if err != nil {
			return nil, nil, err
		}
		r.verbose.printf("will offer %s", desc)
		signers = append([]ssh.Signer{cs}, signers...)
		descs = append([]string{desc}, descs...)
	}
	if a != nil && !hc.IdentitiesOnly {
		for _, s := range a.signers {
			add(s, a.describe(s))
		}
	} else if a != nil {
		r.verbose.printf("IdentitiesOnly: the agent's other keys are not offered")
	}
	if len(signers) == 0 && locked != nil {
		return nil, nil, locked // more useful than "no key": it can be unlocked
	}
	if len(signers) == 0 {
		return nil, nil, ErrNoKey
	}
	user := firstNonEmpty(hc.User, r.opts.LocalUser)
	return []ssh.AuthMethod{tracedAuth(r.verbose, user, signers, descs)}, descs, nil
}

// loadIdentity loads one identity file, at most once per Resolver: from
// the agent when it holds the key (an encrypted key, or a FILE.pub given
// as the identity), else from the file. A missing file is (nil, "", err
// wrapping fs.ErrNotExist).
func (r *Resolver) loadIdentity(path string, a *agentConn, batch bool) (ssh.Signer, string, error) {
	key := path
	if batch {
		key += "\x00batch"
	}
	if k, ok := r.keys[key]; ok {
		return k.signer, k.desc, k.err
	}
	s, desc, err := r.loadIdentityOnce(path, a, batch)
	r.keys[key] = keyResult{s, desc, err}
	return s, desc, err
}

// loadIdentityOnce loads one key; with batch (BatchMode) it never asks
// for a passphrase.
func (r *Resolver) loadIdentityOnce(path string, a *agentConn, batch bool) (ssh.Signer, string, error) {
	pub := publicKeyBeside(path)
	if strings.HasSuffix(path, ".pub") {
		if pub == nil {
			return nil, "", fmt.Errorf("tunnel: key %s: not a public key", path)
		}
		if s := a.find(pub); s != nil {
			return s, a.describe(s) + " (for " + path + ")", nil
		}
		path = strings.TrimSuffix(path, ".pub") // as ssh: the private key beside it
	}
	st, err := os.Stat(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // "no such file or directory", as ssh words it
		}
		return nil, "", fmt.Errorf("tunnel: identity file %s not accessible: %w", path, err)
	}
	if st.Mode().Perm()&0o077 != 0 && ownedByMe(st) {
		return nil, "", &UnprotectedKeyError{File: path, Mode: st.Mode()}
	}
	s, err := LoadKey(path, nil)
	if err == nil {
		return s, path + " " + ssh.FingerprintSHA256(s.PublicKey()), nil
	}
	var missing *ssh.PassphraseMissingError
	if !errors.As(err, &missing) {
		return nil, "", err
	}
	if missing.PublicKey != nil {
		pub = missing.PublicKey
	}
	if s := a.find(pub); s != nil {
		return s, a.describe(s) + " (for " + path + ")", nil
	}
	if r.opts.Passphrase == nil || batch {
		return nil, "", fmt.Errorf("tunnel: key %s: %w", path, &ssh.PassphraseMissingError{PublicKey: pub})
	}
	pass, perr := r.opts.Passphrase(path)
	if perr != nil {
		return nil, "", fmt.Errorf("tunnel: key %s: %w", path, perr)
	}
	s, err = LoadKey(path, pass)
	if err != nil {
		return nil, "", err
	}
	return s, path + " " + ssh.FingerprintSHA256(s.PublicKey()), nil
}

// publicKeyBeside reads path (when it is a .pub) or path.pub.
func publicKeyBeside(path string) ssh.PublicKey {
	p := path
	if !strings.HasSuffix(p, ".pub") {
		p += ".pub"
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		return nil
	}
	return pub
}

// certSigner pairs the certificate in file with the signer (a key file or
// the agent) holding its private key, as CertificateFile does.
func certSigner(file string, signers []ssh.Signer, a *agentConn) (ssh.Signer, string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, "", fmt.Errorf("tunnel: certificate %s: %w", file, err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		return nil, "", fmt.Errorf("tunnel: certificate %s: %w", file, err)
	}
	cert, ok := pub.(*ssh.Certificate)
	if !ok {
		return nil, "", fmt.Errorf("tunnel: certificate %s: not a certificate", file)
	}
	candidates := append([]ssh.Signer(nil), signers...)
	if a != nil {
		candidates = append(candidates, a.signers...)
	}
	for _, s := range candidates {
		k := s.PublicKey()
		if c, ok := k.(*ssh.Certificate); ok {
			k = c.Key
		}
		if bytes.Equal(k.Marshal(), cert.Key.Marshal()) {
			cs, err := ssh.NewCertSigner(cert, s)
			if err != nil {
				return nil, "", fmt.Errorf("tunnel: certificate %s: %w", file, err)
			}
			return cs, file + " " + ssh.FingerprintSHA256(cert), nil
		}
	}
	return nil, "", fmt.Errorf("tunnel: certificate %s: no key file or agent key matches it", file)
}
