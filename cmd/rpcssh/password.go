package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"runtime"
	"strings"
)

// passwordFlags are the XML-RPC server's Basic-auth credentials, shared
// by serve, call and tunnel's clients.
type passwordFlags struct {
	Username     string `default:"user" help:"XML-RPC Basic-auth user name."`
	PasswordFile string `type:"path" placeholder:"FILE" help:"Read the XML-RPC password from FILE (first line; must not be readable by others). Default: the RPCSSH_PASSWORD environment variable, else (clients) the password rpcssh install stored for the host."`
	Password     string `help:"The XML-RPC password on the command line (visible to other users in ps: prefer RPCSSH_PASSWORD or --password-file)."`
}

// password returns the password from --password-file, --password or
// RPCSSH_PASSWORD, in that order, and "" when none is given.
func (p passwordFlags) password(e *env) (string, error) {
	if p.PasswordFile != "" && p.Password != "" {
		return "", usageErrorf("give only one of --password-file and --password")
	}
	switch {
	case p.PasswordFile != "":
		return readPasswordFile(p.PasswordFile)
	case p.Password != "":
		e.warnf("--password is visible to other users of this machine (ps, /proc): prefer RPCSSH_PASSWORD or --password-file")
		return p.Password, nil
	}
	return e.getenv("RPCSSH_PASSWORD"), nil
}

// readPasswordFile reads the first line of a file that only its owner
// (and group) can read.
func readPasswordFile(path string) (string, error) {
	f, fi, err := openRegular(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o004 != 0 {
		return "", withHint(fmt.Errorf("password file %s is readable by every user (mode %04o)", path, fi.Mode().Perm()),
			"restrict it with: chmod 600 %s", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return "", fmt.Errorf("password file: %w", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", fmt.Errorf("password file %s: the first line is empty", path)
	}
	return line, nil
}

// isNotExist reports a missing file in any wrapping.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// errNoPassword is a client with no password to send: caught before any
// connection, since the server would only answer 401.
var errNoPassword = errors.New("no password for the XML-RPC server")

// clientCredentials returns the Basic-auth user and password a client
// sends: --username with the password from --password-file, --password or
// RPCSSH_PASSWORD; failing those, the user and password in --url
// (http://user:pw@host/...); else, for --url, errNoPassword with a hint.
// Through SSH it may return no password: the one `rpcssh install` stored
// for the destination is looked up once the destination is resolved
// (dialSSH), before any connection.
func (p passwordFlags) clientCredentials(e *env, rawURL string) (user, pass string, err error) {
	pass, err = p.password(e)
	if err != nil || pass != "" {
		return p.Username, pass, err
	}
	if u, perr := url.Parse(rawURL); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok {
			return u.User.Username(), pw, nil
		}
	}
	if rawURL == "" {
		return p.Username, "", nil
	}
	return "", "", noPasswordError(false)
}

// noPasswordError is errNoPassword with the hint for the case: through SSH
// a password stored by `rpcssh install` would also have done.
func noPasswordError(ssh bool) error {
	if ssh {
		return withHint(errNoPassword, "set RPCSSH_PASSWORD in the environment, give --password-file FILE (the password 'rpcssh serve' was started with), or run 'rpcssh install DEST', which stores it")
	}
	return withHint(errNoPassword, "set RPCSSH_PASSWORD in the environment, or give --password-file FILE (the password 'rpcssh serve' was started with)")
}
