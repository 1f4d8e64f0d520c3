//go:build unix

package program

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// checkPerm refuses a methods file other users could change.
func checkPerm(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("not a regular file")
	}
	if fi.Mode().Perm()&0o002 != 0 {
		return fmt.Errorf("refusing a world-writable methods file (mode %04o): anyone could declare a method; chmod o-w %s", fi.Mode().Perm(), path)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if uid := uint32(os.Getuid()); st.Uid != uid && st.Uid != 0 {
			return fmt.Errorf("refusing a methods file owned by uid %d (not this user nor root)", st.Uid)
		}
	}
	dir := filepath.Dir(path)
	di, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if di.Mode().Perm()&0o002 != 0 && di.Mode()&os.ModeSticky == 0 {
		return fmt.Errorf("refusing a methods file in a world-writable directory without the sticky bit (%s, mode %04o): anyone could replace it", dir, di.Mode().Perm())
	}
	return nil
}
