//go:build unix

package program

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// cloexecLoop marks every descriptor above 2 listed in dir (/proc/self/fd
// or /dev/fd) close-on-exec.
func cloexecLoop(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("program: list open descriptors: %w", err)
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd <= 2 {
			continue
		}
		// The descriptor ReadDir used is closed by now: EBADF is expected.
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil && err != unix.EBADF {
			return fmt.Errorf("program: close-on-exec descriptor %d: %w", fd, err)
		}
	}
	return nil
}
