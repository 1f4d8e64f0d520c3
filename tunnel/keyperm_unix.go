//go:build unix

package tunnel

import (
	"io/fs"
	"os"
	"syscall"
)

// ownedByMe reports whether the file belongs to this process's user: ssh
// checks the mode of key files only then.
func ownedByMe(st fs.FileInfo) bool {
	s, ok := st.Sys().(*syscall.Stat_t)
	return ok && int(s.Uid) == os.Getuid()
}
