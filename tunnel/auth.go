package tunnel

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// LoadKey reads a private key in OpenSSH, PEM (PKCS#1, SEC 1) or PKCS#8
// form: ed25519, ECDSA or RSA. An encrypted key needs passphrase; with a
// nil passphrase the error wraps *ssh.PassphraseMissingError (errors.As),
// so a caller can prompt and try again. A certificate at "<path>-cert.pub"
// is attached, making a certificate signer. RSA keys sign with rsa-sha2-512
// or rsa-sha2-256, never SHA-1.
func LoadKey(path string, passphrase []byte) (ssh.Signer, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tunnel: load key %s: %w", path, err)
	}
	var signer ssh.Signer
	if passphrase == nil {
		signer, err = ssh.ParsePrivateKey(pem)
	} else {
		signer, err = ssh.ParsePrivateKeyWithPassphrase(pem, passphrase)
	}
	if err != nil {
		if bytes.Contains(pem, []byte("ENCRYPTED PRIVATE KEY")) {
			err = fmt.Errorf("encrypted PKCS#8 keys are not supported (convert with ssh-keygen -p -f %s): %w", path, err)
		}
		return nil, fmt.Errorf("tunnel: load key %s: %w", path, err)
	}
	if signer, err = preferSHA2(signer); err != nil {
		return nil, fmt.Errorf("tunnel: load key %s: %w", path, err)
	}
	certPath := path + "-cert.pub"
	b, err := os.ReadFile(certPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return signer, nil
	case err != nil:
		return nil, fmt.Errorf("tunnel: load certificate %s: %w", certPath, err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		return nil, fmt.Errorf("tunnel: load certificate %s: %w", certPath, err)
	}
	cert, ok := pub.(*ssh.Certificate)
	if !ok {
		return nil, fmt.Errorf("tunnel: load certificate %s: not a certificate", certPath)
	}
	cs, err := ssh.NewCertSigner(cert, signer)
	if err != nil {
		return nil, fmt.Errorf("tunnel: load certificate %s: %w", certPath, err)
	}
	return cs, nil
}

// preferSHA2 limits an RSA signer to rsa-sha2-512 and rsa-sha2-256 (OpenSSH
// 8.8 and later refuse ssh-rsa SHA-1 signatures). Other keys pass through.
func preferSHA2(s ssh.Signer) (ssh.Signer, error) {
	if s.PublicKey().Type() != ssh.KeyAlgoRSA {
		return s, nil
	}
	as, ok := s.(ssh.AlgorithmSigner)
	if !ok {
		return s, nil
	}
	return ssh.NewSignerWithAlgorithms(as, []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256})
}

// AgentSigners connects to the ssh-agent at socket (usually $SSH_AUTH_SOCK)
// and returns its signers. When only is not nil, just the keys in it are
// returned (compared by public key; a certificate matches its key), so that
// a server's MaxAuthTries is not spent on other keys: OpenSSH's
// IdentitiesOnly. The result may be empty. Close closer when done with the
// signers.
func AgentSigners(socket string, only []ssh.PublicKey) (signers []ssh.Signer, closer io.Closer, err error) {
	conn, err := net.Dial("unix", socket)
	if err != nil {
		return nil, nil, fmt.Errorf("tunnel: ssh-agent %s: %w", socket, err)
	}
	all, err := agent.NewClient(conn).Signers()
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("tunnel: ssh-agent %s: list keys: %w", socket, err)
	}
	for _, s := range all {
		if only != nil && !keyListed(s.PublicKey(), only) {
			continue
		}
		if s, err = preferSHA2(s); err != nil {
			conn.Close()
			return nil, nil, fmt.Errorf("tunnel: ssh-agent %s: %w", socket, err)
		}
		signers = append(signers, s)
	}
	return signers, conn, nil
}

func keyListed(k ssh.PublicKey, list []ssh.PublicKey) bool {
	b := k.Marshal()
	var inner []byte
	if cert, ok := k.(*ssh.Certificate); ok {
		inner = cert.Key.Marshal()
	}
	for _, l := range list {
		lb := l.Marshal()
		if bytes.Equal(b, lb) || (inner != nil && bytes.Equal(inner, lb)) {
			return true
		}
	}
	return false
}
