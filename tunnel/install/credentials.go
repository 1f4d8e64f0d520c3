package install

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Credentials stores, on the machine that installs, the password of each
// installed server, one 0600 file per destination in Dir (0700). The file
// holds the password on its first line, so it also works as
// `rpcssh call --password-file`.
type Credentials struct {
	Dir string
}

// DefaultCredentials is $XDG_CONFIG_HOME/rpcssh/credentials (or
// ~/.config/rpcssh/credentials) on Linux and BSDs, and
// ~/Library/Application Support/rpcssh/credentials on macOS: the
// directory os.UserConfigDir names.
func DefaultCredentials() (Credentials, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return Credentials{}, fmt.Errorf("install: credentials: %w", err)
	}
	return Credentials{Dir: filepath.Join(dir, "rpcssh", "credentials")}, nil
}

// CredentialKey names a destination as resolved for SSH: user@host:port,
// so an ssh_config alias and the address it stands for share it.
func CredentialKey(user, addr string) string { return user + "@" + addr }

// Path is the file that holds key's password.
func (c Credentials) Path(key string) string {
	var b strings.Builder
	for _, r := range key {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-@", r)) {
			b.WriteRune(r)
		} else {
			for _, x := range []byte(string(r)) {
				fmt.Fprintf(&b, "%%%02X", x)
			}
		}
	}
	return filepath.Join(c.Dir, b.String())
}

// Save stores password for key (the file and Dir are made private).
func (c Credentials) Save(key, password string) error {
	if password == "" || strings.ContainsAny(password, "\r\n") {
		return errors.New("install: credentials: the password must be one non-empty line")
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("install: credentials: %w", err)
	}
	p := c.Path(key)
	f, err := os.CreateTemp(c.Dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("install: credentials: %w", err)
	}
	_, err = f.WriteString(password + "\n")
	if err == nil {
		err = f.Chmod(0o600)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("install: credentials: %w", err)
	}
	return nil
}

// Load returns key's password. Errors: fs.ErrNotExist (errors.Is) when
// none is stored; an error for a file others may read.
func (c Credentials) Load(key string) (string, error) {
	p := c.Path(key)
	fi, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("install: credentials: %w", err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("install: credentials: %s is readable by others (mode %04o): chmod 600 it", p, fi.Mode().Perm())
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("install: credentials: %w", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	if line = strings.TrimSuffix(line, "\r"); line == "" {
		return "", fmt.Errorf("install: credentials: %s: the first line is empty", p)
	}
	return line, nil
}

// Delete removes key's password; a missing one is not an error.
func (c Credentials) Delete(key string) error {
	if err := os.Remove(c.Path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("install: credentials: %w", err)
	}
	return nil
}
