package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
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
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("password file: %w", err)
	}
	if fi.IsDir() {
		return "", fmt.Errorf("password file %s: is a directory", path)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o004 != 0 {
		return "", withHint(fmt.Errorf("password file %s is readable by every user (mode %04o)", path, fi.Mode().Perm()),
			"restrict it with: chmod 600 %s", path)
	}
	data, err := os.ReadFile(path)
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
