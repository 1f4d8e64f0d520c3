package main

import (
	"fmt"
	"os"
	"syscall"
)

// openRegular opens path for reading without blocking and refuses
// anything but a regular file: a FIFO would block serve at start (before
// signals are watched), a device or a socket is no password file.
// O_NONBLOCK makes opening a FIFO return at once; the kind is then checked
// on the open descriptor, so the file cannot be swapped after the check.
func openRegular(path string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("password file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("password file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, withHint(fmt.Errorf("password file %s: not a regular file (%s)", path, fileKind(fi.Mode())),
			"give a plain file holding the password on its first line")
	}
	return f, fi, nil
}

// fileKind names the type of a file that is not regular.
func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "type " + m.Type().String()
}
