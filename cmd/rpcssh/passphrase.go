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

// askPassphrase returns the passphrase that decrypts an encrypted key
// file: RPCSSH_PASSPHRASE, else one asked on the terminal, up to
// passphraseTries times, as ssh does. It is tunnel.ResolveOptions'
// Passphrase. Ctrl-C at the prompt returns the prompt's *interruptedError.
func askPassphrase(e *env, path string) ([]byte, error) {
	if pass := e.getenv("RPCSSH_PASSPHRASE"); pass != "" {
		if _, err := tunnel.LoadKey(path, []byte(pass)); isWrongPassphrase(err) {
			return nil, withHint(fmt.Errorf("%w (from RPCSSH_PASSPHRASE)", errWrongPassphrase),
				"check RPCSSH_PASSPHRASE, or unset it to be asked on the terminal")
		}
		return []byte(pass), nil
	}
	for try := 1; ; try++ {
		pass, err := e.prompt(fmt.Sprintf("Enter passphrase for key '%s': ", path))
		if errors.Is(err, errNoTerminal) {
			return nil, &ssh.PassphraseMissingError{} // the hint names RPCSSH_PASSPHRASE and the agent
		}
		if err != nil {
			return nil, err
		}
		if _, err := tunnel.LoadKey(path, pass); !isWrongPassphrase(err) {
			return pass, nil
		}
		if try == passphraseTries {
			return nil, withHint(fmt.Errorf("%w (%d tries)", errWrongPassphrase, passphraseTries),
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
