package main

import (
	"path/filepath"

	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/install"
)

// credentials is where `rpcssh install` keeps the servers' passwords:
// $XDG_CONFIG_HOME/rpcssh/credentials, else os.UserConfigDir's.
func credentials(e *env) (install.Credentials, error) {
	if x := e.getenv("XDG_CONFIG_HOME"); filepath.IsAbs(x) {
		return install.Credentials{Dir: filepath.Join(x, "rpcssh", "credentials")}, nil
	}
	return install.DefaultCredentials()
}

// credentialKey is the destination a stored password belongs to.
func credentialKey(cfg tunnel.Config) string { return install.CredentialKey(cfg.User, cfg.Addr) }

// storedPassword is the password `rpcssh install` stored for the
// destination of cfg, or "" when there is none. It comes last in the
// precedence: --password-file or --password, then RPCSSH_PASSWORD, then
// this.
func storedPassword(e *env, cfg tunnel.Config) (string, error) {
	creds, err := credentials(e)
	if err != nil {
		return "", nil // no config directory: nothing was stored
	}
	p, err := creds.Load(credentialKey(cfg))
	if isNotExist(err) {
		return "", nil
	}
	return p, err
}

// hostPassword is the password for one host of a fan-out: the one given
// (flag or environment), else the one `rpcssh install` stored for the
// host's resolved destination, else errNoPassword, before connecting.
func hostPassword(e *env, given string, r *tunnel.Resolved) (string, error) {
	if given != "" {
		return given, nil
	}
	p, err := storedPassword(e, r.Config)
	if err == nil && p == "" {
		err = noPasswordError(true)
	}
	return p, err
}
