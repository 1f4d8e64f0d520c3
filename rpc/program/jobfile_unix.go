//go:build unix

package program

import (
	"fmt"
	"os"
	"syscall"
)

// openJobFile opens a file of a job's directory without following a
// symlink (O_NOFOLLOW), and refuses anything but a regular file owned by
// this process's user: a link or file planted there cannot make serve
// read or write elsewhere.
func openJobFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, perm)
	if err != nil {
		if pe, ok := err.(*os.PathError); ok && pe.Err == syscall.ELOOP {
			return nil, fmt.Errorf("%s is a symbolic link: refused", path)
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file (%s): refused", path, fi.Mode().Type())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		f.Close()
		return nil, fmt.Errorf("%s is owned by uid %d, not serve's user (uid %d): refused", path, st.Uid, os.Geteuid())
	}
	// O_NONBLOCK only kept a FIFO from blocking the open.
	if err := syscall.SetNonblock(int(f.Fd()), false); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
