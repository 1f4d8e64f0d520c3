package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"time"
)

// parseSocketMode reads an octal permission such as 0600 or 660.
func parseSocketMode(s string) (os.FileMode, error) {
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o777 {
		return 0, usageErrorf("--socket-mode %q: want octal permissions such as 0600", s)
	}
	return os.FileMode(n), nil
}

// listenUnix listens on a Unix socket at path with the given mode. A stale
// socket left by a crashed run is replaced; a live one, or any file that
// is not a socket, is left alone and reported. The socket is created with
// no permissions for others from the start (umask), then set to mode, so
// there is no moment where it is wider than asked.
func listenUnix(path string, mode os.FileMode) (net.Listener, error) {
	fi, err := os.Lstat(path)
	switch {
	case err == nil && fi.Mode()&fs.ModeSocket == 0:
		return nil, withHint(fmt.Errorf("listen %s: exists and is not a socket", path),
			"not removing it: choose another --socket path")
	case err == nil:
		c, derr := net.DialTimeout("unix", path, time.Second)
		if derr == nil {
			c.Close()
			return nil, withHint(fmt.Errorf("listen %s: another server is listening on it", path),
				"stop that server or choose another --socket path")
		}
		if rerr := os.Remove(path); rerr != nil {
			return nil, fmt.Errorf("listen %s: remove stale socket: %w", path, rerr)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	var l net.Listener
	err = withUmask(0o177, func() error {
		var lerr error
		l, lerr = net.Listen("unix", path)
		return lerr
	})
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	if err := os.Chmod(path, mode); err != nil {
		l.Close()
		return nil, fmt.Errorf("listen %s: chmod: %w", path, err)
	}
	return l, nil
}
