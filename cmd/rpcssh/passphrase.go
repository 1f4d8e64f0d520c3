package main

import (
	"crypto/x509"
	"errors"
	"fmt"

	"golang.org/x/crypto/ssh"

	"github.com/rpcssh/rpcssh/tunnel"
)

// passphraseTries is how often a wrong passphrase is asked again on a
// terminal, as ssh does.
const passphraseTries = 3

// errWrongPassphrase is a passphrase that does not decrypt the key; it
// replaces the x509 package's message, which names no key and no fix.
var errWrongPassphrase = errors.New("wrong passphrase")

// unlockKey decrypts an encrypted key file with RPCSSH_PASSPHRASE, else
// with a passphrase asked on the terminal, up to passphraseTries times.
// pub (may be nil) is the key's public half, for the error of a key that
// could not be unlocked. Ctrl-C at the prompt returns the prompt's
// *interruptedError.
func unlockKey(e *env, path string, pub ssh.PublicKey) (ssh.Signer, error) {
	if pass := e.getenv("RPCSSH_PASSPHRASE"); pass != "" {
		s, err := tunnel.LoadKey(path, []byte(pass))
		if isWrongPassphrase(err) {
			return nil, withHint(fmt.Errorf("key %s: %w (from RPCSSH_PASSPHRASE)", path, errWrongPassphrase),
				"check RPCSSH_PASSPHRASE, or unset it to be asked on the terminal")
		}
		return s, err
	}
	for try := 1; ; try++ {
		pass, err := e.prompt(fmt.Sprintf("Enter passphrase for key '%s': ", path))
		var ie *interruptedError
		switch {
		case errors.As(err, &ie):
			return nil, err
		case err != nil:
			return nil, fmt.Errorf("key %s: %w", path, &ssh.PassphraseMissingError{PublicKey: pub})
		}
		s, err := tunnel.LoadKey(path, pass)
		if !isWrongPassphrase(err) {
			return s, err
		}
		if try == passphraseTries {
			return nil, withHint(fmt.Errorf("key %s: %w (%d tries)", path, errWrongPassphrase, passphraseTries),
				"check the passphrase (ssh-keygen -y -f KEY tests it), or load the key into ssh-agent with ssh-add")
		}
		e.printf("", "wrong passphrase, try again")
	}
}

// isWrongPassphrase: x/crypto/ssh reports a wrong passphrase with x509's
// error, for OpenSSH and PEM keys alike.
func isWrongPassphrase(err error) bool {
	return err != nil && errors.Is(err, x509.IncorrectPasswordError)
}
